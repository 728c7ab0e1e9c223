import type { Role } from '../../core/model.js';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness.js';
import { makeTar, sampleApp, uploadBuild } from './gateway-fixtures.js';

let harness: GatewayHarness;

beforeAll(async () => {
  harness = await startGatewayHarness();
});

afterAll(async () => {
  await harness.close();
});

interface ErrorBody {
  error: { code: string; message: string };
}

async function post(path: string, body: unknown, role: Role = 'builder'): Promise<Response> {
  return harness.request(path, {
    method: 'POST',
    token: await harness.userToken({ role }),
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function get(path: string, role: Role = 'viewer'): Promise<Response> {
  return harness.request(path, { token: await harness.userToken({ role }) });
}

const APP_KEYS = ['createdAt', 'draft', 'id', 'installedFrom', 'name', 'sourceControl'];
const SOURCE_CONTROL_KEYS = [
  'availableInCatalog',
  'backed',
  'commitSha',
  'lastError',
  'lastSyncedAt',
  'nextRetryAt',
  'outsideCommits',
  'owner',
  'provider',
  'pushed',
  'repo',
  'sourceHash',
  'status',
  'tag',
  'url',
  'version',
];

test('POST /api/v1/apps creates an app with every field of the app shape', async () => {
  const response = await post('/api/v1/apps', { name: '  Customer Console  ' });
  expect(response.status).toBe(201);

  const { app } = (await response.json()) as { app: Record<string, unknown> };
  expect(Object.keys(app).sort()).toEqual(APP_KEYS);
  expect(app.name).toBe('Customer Console');
  expect(app.id).toMatch(/^[a-z0-9]{20}$/);
  expect(app.draft).toBeNull();
  expect(app.installedFrom).toBeNull();
  expect(new Date(app.createdAt as string).toISOString()).toBe(app.createdAt);

  const sourceControl = app.sourceControl as Record<string, unknown>;
  expect(Object.keys(sourceControl).sort()).toEqual(SOURCE_CONTROL_KEYS);
  expect(sourceControl).toMatchObject({
    backed: false,
    status: 'disabled',
    pushed: false,
    lastError: null,
  });
});

test.each(['owner', 'admin', 'builder'] as Role[])('%s may create apps', async (role) => {
  expect((await post('/api/v1/apps', { name: `By ${role}` }, role)).status).toBe(201);
});

test('a viewer may not create apps: 403 forbidden', async () => {
  const response = await post('/api/v1/apps', { name: 'Nope' }, 'viewer');
  expect(response.status).toBe(403);
  expect(((await response.json()) as ErrorBody).error.code).toBe('forbidden');
});

test.each([
  ['no name', {}],
  ['an empty name', { name: '   ' }],
  ['a name that is not a string', { name: 42 }],
  ['a name of 201 characters', { name: 'x'.repeat(201) }],
  ['a control character', { name: 'Bad\u0007name' }],
  ['a newline', { name: 'two\nlines' }],
])('%s answers 400 invalid_request', async (_case, body) => {
  const response = await post('/api/v1/apps', body);
  expect(response.status).toBe(400);
  expect(((await response.json()) as ErrorBody).error.code).toBe('invalid_request');
});

test('a name of exactly 200 characters is accepted', async () => {
  expect((await post('/api/v1/apps', { name: 'é'.repeat(200) })).status).toBe(201);
});

test('a body that is not JSON answers 400 invalid_request', async () => {
  const response = await post('/api/v1/apps', '{"name": ');
  expect(response.status).toBe(400);
  expect(((await response.json()) as ErrorBody).error).toEqual({
    code: 'invalid_request',
    message: 'The body is not valid JSON.',
  });
});

test('a JSON body over the limit answers 413 too_large', async () => {
  const response = await post('/api/v1/apps', { name: 'x', padding: 'y'.repeat(2 * 1024 * 1024) });
  expect(response.status).toBe(413);
  expect(((await response.json()) as ErrorBody).error.code).toBe('too_large');
});

test('GET /api/v1/apps and /apps/:appId answer members, viewer included', async () => {
  const created = (await (await post('/api/v1/apps', { name: 'Listed' })).json()) as {
    app: { id: string };
  };

  const list = (await (await get('/api/v1/apps')).json()) as {
    apps: { id: string; name: string }[];
  };
  expect(list.apps.map((app) => app.id)).toContain(created.app.id);
  for (const app of list.apps) expect(Object.keys(app).sort()).toEqual(APP_KEYS);

  const one = await get(`/api/v1/apps/${created.app.id}`);
  expect(one.status).toBe(200);
  expect(((await one.json()) as { app: { name: string } }).app.name).toBe('Listed');
});

test.each([
  ['a missing app', 'aaaaaaaaaaaaaaaaaaaa'],
  ['a malformed id', 'NOT..AN..ID'],
  ['an id with an encoded slash', 'abc%2Fdef'],
  ['an over-long id', 'a'.repeat(100)],
])('%s answers 404 not_found on every app route', async (_case, id) => {
  for (const path of [`/api/v1/apps/${id}`, `/api/v1/apps/${id}/builds`]) {
    const response = await get(path);
    expect(response.status).toBe(404);
    expect(((await response.json()) as ErrorBody).error.code).toBe('not_found');
  }
});

test('GET /api/v1/apps/:appId/builds lists builds newest first, in the build shape', async () => {
  const appId = await harness.createApp('Built');
  const worker = await harness.workerToken(appId);
  for (const summary of ['first', 'second']) {
    const response = await uploadBuild(
      harness,
      appId,
      worker,
      await makeTar(sampleApp({ 'src/n.txt': summary })),
      {
        summary,
      },
    );
    expect(response.status).toBe(201);
  }

  const response = await get(`/api/v1/apps/${appId}/builds`);
  const { builds } = (await response.json()) as { builds: Record<string, unknown>[] };
  expect(builds.map((build) => build.summary)).toEqual(['second', 'first']);
  expect(Object.keys(builds[0]!).sort()).toEqual([
    'createdAt',
    'fileCount',
    'id',
    'skipped',
    'snapshotHash',
    'summary',
    'sync',
    'totalBytes',
  ]);
  expect(builds[0]!.sync).toEqual({ status: 'disabled', version: null, error: null });

  const app = (await (await get(`/api/v1/apps/${appId}`)).json()) as {
    app: { draft: { buildId: string } };
  };
  expect(app.app.draft.buildId).toBe(builds[0]!.id);
});

test('an unknown route answers 404 not_found in the error shape', async () => {
  const response = await get('/api/v1/nothing-here');
  expect(response.status).toBe(404);
  expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
});

test('API answers carry the strict security headers', async () => {
  const response = await get('/api/v1/apps');
  const csp = response.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('x-frame-options')).toBe('DENY');
});
