import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTar, sampleApp, uploadBuild } from '../gateway-fixtures.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../../support/source-control-harness.js';

let h: SourceControlHarness;
let appId: string;

beforeAll(async () => {
  h = await startSourceControlHarness({ env: { DEPLOYMENT_MODE: 'onprem' } });
  await h.git.createRepo(GIT_OWNER, 'second-app-orders');
  await h.connect({ storeAppSource: true });
  appId = await h.gateway.createApp('Orders');
  const worker = await h.gateway.workerToken(appId);
  await uploadBuild(h.gateway, appId, worker, await makeTar(sampleApp()));
  await h.settle();
  await uploadBuild(h.gateway, appId, worker, await makeTar(sampleApp({ 'src/b.ts': 'b' })));
  await h.settle();
});
afterAll(() => h.close());

/** Every file under `dir` with its size and modification time, to see that nothing changed. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string) => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const info = await stat(full);
        out.push(`${full} ${info.size} ${info.mtimeMs}`);
      }
    }
  };
  await walk(dir);
  return out.sort();
}

test('no GET route writes to the store, calls the provider, records audit or touches a mirror', async () => {
  const viewer = await h.gateway.userToken({ role: 'viewer' });
  const owner = await h.gateway.userToken({ role: 'owner' });
  const mirrors = join(h.gateway.dataDir, 'mirrors');

  const writesBefore = h.gateway.store.writeCount;
  const gitBefore = h.git.requests.length;
  const auditBefore = (await h.gateway.store.reader('acme').listAudit({ limit: 500 })).length;
  const mirrorBefore = await tree(mirrors);

  const routes: [string, string][] = [
    ['/healthz', ''],
    ['/readyz', ''],
    ['/metrics', ''],
    ['/api/v1/session', viewer],
    ['/api/v1/source-control', viewer],
    ['/api/v1/apps', viewer],
    [`/api/v1/apps/${appId}`, viewer],
    [`/api/v1/apps/${appId}/builds`, viewer],
    [`/api/v1/apps/${appId}/versions`, viewer],
    ['/api/v1/audit', owner],
    [`/api/v1/audit?appId=${appId}`, owner],
    [`/preview/${appId}/`, viewer],
    [`/preview/${appId}/v/1/`, viewer],
    [`/preview/${appId}/v/2/assets/app.js`, viewer],
    [`/preview/${appId}/v/9/`, viewer],
    ['/api/v1/apps/does-not-exist', viewer],
  ];
  for (const [path, token] of routes) {
    const response = await h.gateway.request(path, token ? { token } : {});
    await response.arrayBuffer();
    expect([path, response.status < 500]).toEqual([path, true]);
  }

  const controller = new AbortController();
  const events = await h.gateway.request('/api/v1/events', {
    token: viewer,
    signal: controller.signal,
  });
  expect(events.status).toBe(200);
  controller.abort();

  expect(h.gateway.store.writeCount).toBe(writesBefore);
  expect(h.git.requests.length).toBe(gitBefore);
  expect((await h.gateway.store.reader('acme').listAudit({ limit: 500 })).length).toBe(auditBefore);
  expect(await tree(mirrors)).toEqual(mirrorBefore);
});

test('every mutation refuses roles below its own and tokens of the wrong kind', async () => {
  const tokens = {
    viewer: await h.gateway.userToken({ role: 'viewer' }),
    builder: await h.gateway.userToken({ role: 'builder' }),
    worker: await h.gateway.workerToken(appId),
  };
  const mutations: { method: string; path: string; body?: unknown; lowest: 'builder' | 'admin' }[] =
    [
      {
        method: 'PUT',
        path: '/api/v1/source-control',
        body: { visibility: 'public' },
        lowest: 'admin',
      },
      { method: 'DELETE', path: '/api/v1/source-control', lowest: 'admin' },
      { method: 'POST', path: '/api/v1/apps', body: { name: 'X' }, lowest: 'builder' },
      { method: 'POST', path: `/api/v1/apps/${appId}/source-control/publish`, lowest: 'builder' },
      { method: 'POST', path: `/api/v1/apps/${appId}/source-control/retry`, lowest: 'builder' },
      {
        method: 'POST',
        path: `/api/v1/apps/${appId}/source-control/share`,
        body: { available: true },
        lowest: 'builder',
      },
      { method: 'POST', path: `/api/v1/apps/${appId}/versions/1/restore-draft`, lowest: 'builder' },
    ];
  const writesBefore = h.gateway.store.writeCount;

  for (const mutation of mutations) {
    const refused =
      mutation.lowest === 'admin' ? ['viewer', 'builder', 'worker'] : ['viewer', 'worker'];
    for (const who of refused as (keyof typeof tokens)[]) {
      const response = await h.gateway.request(mutation.path, {
        method: mutation.method,
        token: tokens[who],
        headers: { 'content-type': 'application/json' },
        body: mutation.body === undefined ? undefined : JSON.stringify(mutation.body),
      });
      const body = (await response.json()) as { error: { code: string } };
      expect([mutation.method, mutation.path, who, response.status, body.error.code]).toEqual([
        mutation.method,
        mutation.path,
        who,
        403,
        'forbidden',
      ]);
    }
  }
  expect(h.gateway.store.writeCount).toBe(writesBefore);
});

test("another workspace's ids answer as missing ones on every source-control route", async () => {
  const other = await h.gateway.userToken({ role: 'owner', workspaceId: 'globex' });
  const writesBefore = h.gateway.store.writeCount;
  for (const [method, path] of [
    ['GET', `/api/v1/apps/${appId}/versions`],
    ['POST', `/api/v1/apps/${appId}/source-control/publish`],
    ['POST', `/api/v1/apps/${appId}/source-control/retry`],
    ['POST', `/api/v1/apps/${appId}/source-control/share`],
    ['POST', `/api/v1/apps/${appId}/versions/1/restore-draft`],
  ] as const) {
    const response = await h.gateway.request(path, {
      method,
      token: other,
      headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
      body: method === 'POST' ? JSON.stringify({ available: true }) : undefined,
    });
    const body = (await response.json()) as { error: { code: string } };
    expect([path, response.status, body.error.code]).toEqual([path, 404, 'not_found']);
  }
  expect(h.gateway.store.writeCount).toBe(writesBefore);
});
