import { makeTar, sampleApp, uploadBuild } from '../gateway/gateway-fixtures.js';
import { OWNER, TOKEN } from '../gateway/catalog/catalog-support.js';
import { PROVIDER_TOKEN_SECRET } from '../../gateway/source-control/provider-session.js';
import { OTHER_WORKSPACE, WORKSPACE } from '../support/gateway-harness.js';
import { readEventStream } from './security-support.js';
import { startSecurityWorld, type SecurityWorld } from './security-world.js';

/** An id shaped like the gateway's that no workspace holds. */
const MISSING = 'zzzzzzzzzzzzzzzzzzzz';

let world: SecurityWorld;

beforeAll(async () => {
  world = await startSecurityWorld();

  // Globex is connected too, so its refusals below come from tenancy and not from a missing
  // connection.
  const saved = await world.h.gateway.request('/api/v1/source-control', {
    method: 'PUT',
    token: await world.h.gateway.userToken({ role: 'admin', workspaceId: OTHER_WORKSPACE }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'github',
      baseUrl: `${world.proxy.origin}/api/v3`,
      owner: OWNER,
      ownerType: 'org',
      token: TOKEN,
    }),
  });
  expect(saved.status).toBe(200);
});
afterAll(() => world.close());

interface Call {
  name: string;
  /** Runs the call against one app id. */
  run: (appId: string) => Promise<Response>;
}

async function as(token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return world.h.gateway.request(path, {
    method,
    token,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

/** Every route of the API that names an app, called by globex's owner. */
async function userCalls(): Promise<Call[]> {
  const theirs = await world.h.gateway.userToken({ role: 'owner', workspaceId: OTHER_WORKSPACE });
  const get = (path: string) => (id: string) => as(theirs, 'GET', path.replace(':id', id));
  const post =
    (path: string, body: (id: string) => unknown = () => ({})) =>
    (id: string) =>
      as(theirs, 'POST', path.replace(':id', id), body(id));
  return [
    { name: 'GET app', run: get('/api/v1/apps/:id') },
    { name: 'GET builds', run: get('/api/v1/apps/:id/builds') },
    { name: 'GET versions', run: get('/api/v1/apps/:id/versions') },
    { name: 'GET preview draft', run: get('/preview/:id/') },
    { name: 'GET preview file', run: get('/preview/:id/index.html') },
    { name: 'GET preview version', run: get('/preview/:id/v/1/') },
    { name: 'POST publish', run: post('/api/v1/apps/:id/source-control/publish') },
    { name: 'POST retry', run: post('/api/v1/apps/:id/source-control/retry') },
    {
      name: 'POST share',
      run: post('/api/v1/apps/:id/source-control/share', () => ({ available: true })),
    },
    { name: 'POST restore-draft', run: post('/api/v1/apps/:id/versions/1/restore-draft') },
    {
      name: 'POST catalog update',
      run: post('/api/v1/catalog/update', (id) => ({ appId: id, force: true })),
    },
  ];
}

/** The worker routes, called with a worker token of globex naming the app. */
function foreignWorkerCalls(): Call[] {
  const token = (id: string) => world.h.gateway.workerToken(id, { workspaceId: OTHER_WORKSPACE });
  return [
    {
      name: 'POST builds (worker of globex)',
      run: async (id) =>
        uploadBuild(world.h.gateway, id, await token(id), await makeTar(sampleApp())),
    },
    {
      name: 'POST restore (worker of globex)',
      run: async (id) => as(await token(id), 'POST', `/internal/v1/apps/${id}/restore`, {}),
    },
  ];
}

/** The worker routes, called with a worker token of another app of the same workspace. */
function otherAppWorkerCalls(): Call[] {
  const token = () => world.h.gateway.workerToken(world.bystander);
  return [
    {
      name: 'POST builds (worker of another app)',
      run: async (id) =>
        uploadBuild(world.h.gateway, id, await token(), await makeTar(sampleApp())),
    },
    {
      name: 'POST restore (worker of another app)',
      run: async (id) => as(await token(), 'POST', `/internal/v1/apps/${id}/restore`, {}),
    },
  ];
}

async function answer(response: Response) {
  return { status: response.status, body: await response.text() };
}

test("every route answers another workspace's ids, and another app's worker, as missing ones, with no side effect", async () => {
  const targets = [world.installed, world.published];
  const calls = [...(await userCalls()), ...foreignWorkerCalls(), ...otherAppWorkerCalls()];
  const before = await world.sideEffects();

  for (const call of calls) {
    const missing = await answer(await call.run(MISSING));
    for (const target of targets) {
      const got = await answer(await call.run(target));
      expect({ call: call.name, ...got }).toEqual({ call: call.name, ...missing });
      expect([call.name, got.status]).toEqual([call.name, 404]);
      expect(JSON.parse(got.body)).toEqual({
        error: expect.objectContaining({ code: 'not_found' }),
      });
    }
  }

  expect(await world.sideEffects()).toEqual(before);
});

test("another workspace's audit filter on our app is an empty list, and its listings hold none of ours", async () => {
  const theirs = await world.h.gateway.userToken({ role: 'owner', workspaceId: OTHER_WORKSPACE });
  const before = await world.sideEffects();

  const audit = await as(theirs, 'GET', `/api/v1/audit?appId=${world.published}`);
  expect(audit.status).toBe(200);
  expect(await audit.json()).toEqual({ events: [] });

  const listed = (await (await as(theirs, 'GET', '/api/v1/apps')).json()) as {
    apps: { id: string }[];
  };
  expect(listed.apps.map((app) => app.id)).toEqual([world.theirs]);

  // Globex's catalog is the same provider owner, but what is installed is its own business.
  const catalog = (await (await as(theirs, 'GET', '/api/v1/catalog')).json()) as {
    entries: { repo: string; installedAppId: string | null }[];
  };
  expect(catalog.entries.length).toBeGreaterThan(0);
  for (const entry of catalog.entries) expect(entry.installedAppId).toBeNull();

  const after = await world.sideEffects();
  expect({ ...after, providerRequests: 0 }).toEqual({ ...before, providerRequests: 0 });
});

test("another workspace's settings routes read and change its own settings only", async () => {
  const theirAdmin = await world.h.gateway.userToken({
    role: 'admin',
    workspaceId: OTHER_WORKSPACE,
  });
  const ourSettings = await world.h.gateway.store.reader(WORKSPACE).getSettings();
  const ourSecret = await world.h.module.secrets.get(WORKSPACE, PROVIDER_TOKEN_SECRET);

  const changed = await as(theirAdmin, 'PUT', '/api/v1/source-control', {
    repoPrefix: 'globex-app',
    visibility: 'public',
  });
  expect(changed.status).toBe(200);
  expect(await world.h.gateway.store.reader(WORKSPACE).getSettings()).toEqual(ourSettings);

  const deleted = await as(theirAdmin, 'DELETE', '/api/v1/source-control');
  expect(deleted.status).toBe(204);

  expect(await world.h.gateway.store.reader(WORKSPACE).getSettings()).toEqual(ourSettings);
  expect(await world.h.module.secrets.get(WORKSPACE, PROVIDER_TOKEN_SECRET)).toEqual(ourSecret);
  const ours = (await (
    await as(await world.h.gateway.userToken(), 'GET', '/api/v1/source-control')
  ).json()) as { settings: { connected: boolean } };
  expect(ours.settings.connected).toBe(true);

  const theirs = (await (await as(theirAdmin, 'GET', '/api/v1/source-control')).json()) as {
    settings: { connected: boolean; owner: string | null };
  };
  expect(theirs.settings.connected).toBe(false);
});

test("another workspace's event stream carries none of our events", async () => {
  const theirs = await world.h.gateway.userToken({ role: 'viewer', workspaceId: OTHER_WORKSPACE });
  const mine = await world.h.gateway.userToken({ role: 'viewer' });
  const theirStream = await as(theirs, 'GET', '/api/v1/events');
  const ourStream = await as(mine, 'GET', '/api/v1/events');

  const worker = await world.h.gateway.workerToken(world.bystander);
  const build = await uploadBuild(
    world.h.gateway,
    world.bystander,
    worker,
    await makeTar(sampleApp({ 'src/extra.ts': 'export {};\n' })),
  );
  expect(build.status).toBe(201);

  const ourText = await readEventStream(ourStream, (text) => text.includes(world.bystander), 3000);
  const theirText = await readEventStream(theirStream, () => false, 500);
  expect(ourText).toContain(world.bystander);
  expect(theirText).not.toContain(world.bystander);
  expect(theirText).not.toContain('event: app.updated');
});

test('every mutation refuses a role below its own, and every route the wrong kind of token, with no side effect', async () => {
  const viewer = await world.h.gateway.userToken({ role: 'viewer' });
  const builder = await world.h.gateway.userToken({ role: 'builder' });
  const worker = await world.h.gateway.workerToken(world.published);
  const id = world.published;
  const cases: [string, string, string, unknown?][] = [
    [viewer, 'POST', '/api/v1/apps', { name: 'X' }],
    [viewer, 'POST', `/api/v1/apps/${id}/source-control/publish`, {}],
    [viewer, 'POST', `/api/v1/apps/${id}/source-control/retry`, {}],
    [viewer, 'POST', `/api/v1/apps/${id}/source-control/share`, { available: true }],
    [viewer, 'POST', `/api/v1/apps/${id}/versions/1/restore-draft`, {}],
    [viewer, 'POST', '/api/v1/catalog/install', { repo: 'second-app-alpha' }],
    [viewer, 'POST', '/api/v1/catalog/update', { appId: world.installed, force: true }],
    [viewer, 'GET', '/api/v1/audit'],
    [builder, 'PUT', '/api/v1/source-control', { visibility: 'public' }],
    [builder, 'DELETE', '/api/v1/source-control'],
    [builder, 'GET', '/api/v1/audit'],
    [worker, 'GET', '/api/v1/apps'],
    [worker, 'GET', `/api/v1/apps/${id}`],
    [worker, 'GET', '/api/v1/source-control'],
    [worker, 'GET', '/api/v1/catalog'],
    [worker, 'GET', '/api/v1/events'],
    [worker, 'GET', `/preview/${id}/`],
    [worker, 'POST', `/api/v1/apps/${id}/source-control/publish`, {}],
    [builder, 'POST', `/internal/v1/apps/${id}/restore`, {}],
    [builder, 'POST', `/internal/v1/apps/${id}/builds`, {}],
  ];
  const before = await world.sideEffects();

  for (const [token, method, path, body] of cases) {
    const response = await as(token, method, path, body);
    const code = ((await response.json()) as { error?: { code: string } }).error?.code;
    expect([method, path, response.status, code]).toEqual([method, path, 403, 'forbidden']);
  }

  expect(await world.sideEffects()).toEqual(before);
});

test("another workspace's cookie session answers our ids as missing ones too, and changes nothing", async () => {
  const signIn = await world.h.gateway.request('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token: await world.h.gateway.userToken({ role: 'owner', workspaceId: OTHER_WORKSPACE }),
    }),
  });
  expect(signIn.status).toBe(200);
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  const withCookie = (method: string, path: string) =>
    world.h.gateway.request(path, {
      method,
      headers: {
        cookie,
        'x-second-request': '1',
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
  const before = await world.sideEffects();

  for (const [method, path] of [
    ['GET', '/api/v1/apps/:id'],
    ['GET', '/api/v1/apps/:id/versions'],
    ['GET', '/preview/:id/'],
    ['POST', '/api/v1/apps/:id/source-control/publish'],
    ['POST', '/api/v1/apps/:id/versions/1/restore-draft'],
  ] as const) {
    const ours = await withCookie(method, path.replace(':id', world.published));
    const missing = await withCookie(method, path.replace(':id', MISSING));
    expect([method, path, ours.status, await ours.text()]).toEqual([
      method,
      path,
      404,
      await missing.text(),
    ]);
  }

  expect(await world.sideEffects()).toEqual(before);
});
