import type { SqliteStore } from '../../adapters/store/sqlite/sqlite-store.js';
import {
  OTHER_WORKSPACE,
  startGatewayHarness,
  WORKSPACE,
  type GatewayHarness,
} from '../support/gateway-harness.js';
import { sampleApp, seedDraft, uploadBuild } from './gateway-fixtures.js';
import { workerSnapshot } from '../support/snapshot-archives.js';

let harness: GatewayHarness;
let theirApp: string;
let ourToken: string;

beforeAll(async () => {
  harness = await startGatewayHarness();
  theirApp = await harness.createApp('Globex secret app', { workspaceId: OTHER_WORKSPACE });
  await seedDraft(harness, OTHER_WORKSPACE, theirApp, { 'dist/index.html': '<p>globex only</p>' });
  ourToken = await harness.userToken({ workspaceId: WORKSPACE, role: 'owner' });
});

afterAll(async () => {
  await harness.close();
});

const writes = () => (harness.store as SqliteStore).writeCount;

async function snapshotOfTheirs() {
  const reader = harness.store.reader(OTHER_WORKSPACE);
  return { app: await reader.getApp(theirApp), builds: await reader.listBuilds(theirApp) };
}

test("every route answers another workspace's app id exactly as a missing one, and changes nothing", async () => {
  const missing = 'zzzzzzzzzzzzzzzzzzzz';
  const before = { writes: writes(), theirs: await snapshotOfTheirs() };

  const routes: [string, string, (id: string) => Promise<Response>][] = [
    ['GET', '/api/v1/apps/:id', (id) => harness.request(`/api/v1/apps/${id}`, { token: ourToken })],
    [
      'GET',
      '/api/v1/apps/:id/builds',
      (id) => harness.request(`/api/v1/apps/${id}/builds`, { token: ourToken }),
    ],
    ['GET', '/preview/:id/', (id) => harness.request(`/preview/${id}/`, { token: ourToken })],
    [
      'GET',
      '/preview/:id/index.html',
      (id) => harness.request(`/preview/${id}/index.html`, { token: ourToken }),
    ],
    [
      'GET',
      '/preview/:id/v/1/',
      (id) => harness.request(`/preview/${id}/v/1/`, { token: ourToken }),
    ],
    [
      'POST',
      '/internal/v1/apps/:id/builds',
      async (id) =>
        uploadBuild(harness, id, await harness.workerToken(id), workerSnapshot(sampleApp())),
    ],
  ];

  for (const [method, route, call] of routes) {
    const theirs = await call(theirApp);
    const nobody = await call(missing);
    const answer = async (response: Response) => ({
      status: response.status,
      body: await response.text(),
    });
    const [a, b] = [await answer(theirs), await answer(nobody)];
    expect({ route: `${method} ${route}`, ...a }).toEqual({ route: `${method} ${route}`, ...b });
    expect(a.status).toBe(404);
    expect(a.body).not.toContain('globex only');
  }

  const listed = (await (await harness.request('/api/v1/apps', { token: ourToken })).json()) as {
    apps: { id: string }[];
  };
  expect(listed.apps.map((app) => app.id)).not.toContain(theirApp);

  expect(writes()).toBe(before.writes);
  expect(await snapshotOfTheirs()).toEqual(before.theirs);
});

test('the workspace comes from the credential only: headers, query and body naming another are ignored', async () => {
  const ours = await harness.createApp('Acme app');
  const response = await harness.request(
    `/api/v1/apps?ws=${OTHER_WORKSPACE}&workspaceId=${OTHER_WORKSPACE}`,
    {
      token: ourToken,
      headers: { 'x-workspace-id': OTHER_WORKSPACE, 'x-second-workspace': OTHER_WORKSPACE },
    },
  );
  const ids = ((await response.json()) as { apps: { id: string }[] }).apps.map((app) => app.id);
  expect(ids).toContain(ours);
  expect(ids).not.toContain(theirApp);

  const created = await harness.request('/api/v1/apps', {
    method: 'POST',
    token: ourToken,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Sneaky', workspaceId: OTHER_WORKSPACE, ws: OTHER_WORKSPACE }),
  });
  const id = ((await created.json()) as { app: { id: string } }).app.id;
  expect(await harness.store.reader(WORKSPACE).getApp(id)).not.toBeNull();
  expect(await harness.store.reader(OTHER_WORKSPACE).getApp(id)).toBeNull();
});

test('GET routes write nothing at all', async () => {
  const ours = await harness.createApp('Read me');
  await seedDraft(harness, WORKSPACE, ours, { 'dist/index.html': '<p>acme</p>' });
  const before = writes();

  for (const path of [
    '/api/v1/apps',
    `/api/v1/apps/${ours}`,
    `/api/v1/apps/${ours}/builds`,
    `/preview/${ours}/`,
    `/preview/${ours}/v/1/`,
    '/api/v1/session',
    '/healthz',
    '/readyz',
    '/metrics',
  ]) {
    expect((await harness.request(path, { token: ourToken })).status).toBeLessThan(500);
  }
  expect(writes()).toBe(before);
});
