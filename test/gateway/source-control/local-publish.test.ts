import { execFileSync } from 'node:child_process';
import { sampleApp, makeTar, uploadBuild } from '../gateway-fixtures.js';
import { buildTar, fileEntry, minimalApp } from '../../support/raw-tar.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../../support/source-control-harness.js';

interface AppBody {
  app: {
    id: string;
    sourceControl: {
      backed: boolean;
      status: string;
      repo: string | null;
      version: number | null;
      tag: string | null;
      commitSha: string | null;
      pushed: boolean;
      lastError: { code: string; message: string } | null;
      nextRetryAt: string | null;
    };
  };
}

const REPO = 'second-app-customer-console';
let h: SourceControlHarness;

beforeEach(async () => {
  h = await startSourceControlHarness({ env: { DEPLOYMENT_MODE: 'local' } });
  await h.git.createRepo(GIT_OWNER, REPO);
});
afterEach(() => h.close());

async function build(appId: string, files: Record<string, string | Buffer>, summary = 'A build') {
  const token = await h.gateway.workerToken(appId);
  const response = await uploadBuild(h.gateway, appId, token, await makeTar(files), { summary });
  expect(response.status).toBe(201);
  return (await response.json()) as { build: { id: string; sync: { status: string } } };
}

async function getApp(appId: string): Promise<AppBody['app']> {
  const token = await h.gateway.userToken({ role: 'viewer' });
  const response = await h.gateway.request(`/api/v1/apps/${appId}`, { token });
  return ((await response.json()) as AppBody).app;
}

async function post(path: string, body?: unknown) {
  const token = await h.gateway.userToken({ role: 'builder', sub: 'bob' });
  return h.gateway.request(path, {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

test('publish makes v1, a changed build v2, an unchanged build nothing at all', async () => {
  expect((await h.connect()).status).toBe(200);
  const appId = await h.gateway.createApp('Customer Console');

  const first = await build(appId, sampleApp(), 'First screen');
  expect(first.build.sync.status).toBe('disabled');
  await h.settle();
  expect(h.remoteTags(REPO)).toEqual([]);

  const published = await post(`/api/v1/apps/${appId}/source-control/publish`);
  expect(published.status).toBe(202);
  expect(((await published.json()) as AppBody).app.sourceControl.status).toBe('pending');
  await h.settle();

  let app = await getApp(appId);
  expect(app.sourceControl).toMatchObject({
    backed: true,
    status: 'synced',
    repo: REPO,
    version: 1,
    tag: 'second-app-v1',
    pushed: true,
    lastError: null,
  });
  expect(h.remoteTags(REPO)).toEqual(['second-app-v1']);

  const second = await build(
    appId,
    sampleApp({ 'src/table.ts': 'export const rows = [];\n' }),
    'Table',
  );
  expect(second.build.sync.status).toBe('pending');
  await h.settle();
  app = await getApp(appId);
  expect(app.sourceControl).toMatchObject({ status: 'synced', version: 2, tag: 'second-app-v2' });
  expect(h.remoteTags(REPO)).toEqual(['second-app-v1', 'second-app-v2']);

  const requestsBefore = h.git.requests.length;
  await build(appId, sampleApp({ 'src/table.ts': 'export const rows = [];\n' }), 'Same again');
  await h.settle();
  expect(h.git.requests.length).toBe(requestsBefore);
  expect((await getApp(appId)).sourceControl.version).toBe(2);
  expect(h.remoteTags(REPO)).toEqual(['second-app-v1', 'second-app-v2']);

  const viewer = await h.gateway.userToken({ role: 'viewer' });
  const versions = (await (
    await h.gateway.request(`/api/v1/apps/${appId}/versions`, { token: viewer })
  ).json()) as { versions: { version: number; tag: string; summary: string; pushed: boolean }[] };
  expect(versions.versions.map((v) => [v.version, v.summary, v.pushed])).toEqual([
    [2, 'Table', true],
    [1, 'First screen', true],
  ]);

  const preview = await h.gateway.request(`/preview/${appId}/v/1/`, { token: viewer });
  expect(preview.status).toBe(200);
  expect(await preview.text()).toContain('<title>Console</title>');
});

/** Publishes with the live files of a session, as multipart/form-data. */
async function publishLive(appId: string, archive: Buffer, summary = 'Live session files') {
  const token = await h.gateway.userToken({ role: 'builder', sub: 'bob' });
  return uploadBuild(h.gateway, appId, token, archive, {
    summary,
    path: `/api/v1/apps/${appId}/source-control/publish`,
  });
}

async function builds(appId: string): Promise<{ id: string; summary: string }[]> {
  const token = await h.gateway.userToken({ role: 'viewer' });
  const response = await h.gateway.request(`/api/v1/apps/${appId}/builds`, { token });
  return ((await response.json()) as { builds: { id: string; summary: string }[] }).builds;
}

test('publish with the live files of a session publishes those files, saved first as a build', async () => {
  expect((await h.connect()).status).toBe(200);
  const appId = await h.gateway.createApp('Customer Console');
  await build(appId, sampleApp({ 'src/main.ts': 'export const stored = true;\n' }), 'Stored');

  const live = sampleApp({ 'src/main.ts': 'export const live = true;\n' });
  const published = await publishLive(appId, await makeTar(live));
  expect(published.status).toBe(202);
  await h.settle();

  const app = await getApp(appId);
  expect(app.sourceControl).toMatchObject({ status: 'synced', version: 1, pushed: true });
  const history = await builds(appId);
  expect(history.map((entry) => entry.summary)).toEqual(['Live session files', 'Stored']);
  const remote = h.git.repoPath(GIT_OWNER, REPO);
  const shown = execFileSync('git', ['--git-dir', remote, 'show', 'second-app-v1:src/main.ts'], {
    encoding: 'utf8',
  });
  expect(shown).toBe('export const live = true;\n');
});

test('publish with live files refuses what a build refuses and saves nothing, and checks the connection first', async () => {
  const appId = await h.gateway.createApp('Customer Console');
  const unconnected = await publishLive(appId, await makeTar(sampleApp()));
  expect(unconnected.status).toBe(409);
  expect(((await unconnected.json()) as { error: { code: string } }).error.code).toBe(
    'not_connected',
  );

  expect((await h.connect()).status).toBe(200);
  const hostile = buildTar([...minimalApp(), fileEntry('../escape.js', 'x')]);
  const refused = await publishLive(appId, hostile);
  expect(refused.status).toBe(422);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unsafe_path');

  expect(await builds(appId)).toEqual([]);
  expect(await getApp(appId)).toMatchObject({ sourceControl: { backed: false } });
  await h.settle();
  expect(h.remoteTags(REPO)).toEqual([]);
});

test('a second app of the same name gets a repository of its own, never the first one', async () => {
  expect((await h.connect()).status).toBe(200);
  const first = await h.gateway.createApp('Customer Console');
  await build(first, sampleApp({ 'src/main.ts': 'export const app = 1;\n' }));
  expect((await post(`/api/v1/apps/${first}/source-control/publish`)).status).toBe(202);
  await h.settle();

  const second = await h.gateway.createApp('Customer Console');
  const ownRepo = `${REPO}-${second.slice(0, 8)}`;
  await h.git.createRepo(GIT_OWNER, ownRepo);
  await build(second, sampleApp({ 'src/main.ts': 'export const app = 2;\n' }));
  expect((await post(`/api/v1/apps/${second}/source-control/publish`)).status).toBe(202);
  await h.settle();

  expect((await getApp(first)).sourceControl).toMatchObject({ repo: REPO, version: 1 });
  expect((await getApp(second)).sourceControl).toMatchObject({
    status: 'synced',
    repo: ownRepo,
    version: 1,
  });
  expect(h.remoteTags(REPO)).toEqual(['second-app-v1']);
  expect(h.remoteTags(ownRepo)).toEqual(['second-app-v1']);
  const shown = execFileSync(
    'git',
    ['--git-dir', h.git.repoPath(GIT_OWNER, REPO), 'show', 'main:src/main.ts'],
    { encoding: 'utf8' },
  );
  expect(shown).toBe('export const app = 1;\n');
});

test('an unpublished app never touches git, and publish needs a connection and a draft', async () => {
  const appId = await h.gateway.createApp('Customer Console');

  const notConnected = await post(`/api/v1/apps/${appId}/source-control/publish`);
  expect(notConnected.status).toBe(409);
  expect(((await notConnected.json()) as { error: { code: string } }).error.code).toBe(
    'not_connected',
  );

  await h.connect();
  const noDraft = await post(`/api/v1/apps/${appId}/source-control/publish`);
  expect(((await noDraft.json()) as { error: { code: string } }).error.code).toBe('no_draft');

  const before = h.git.requests.length;
  await build(appId, sampleApp());
  await build(appId, sampleApp({ 'src/x.ts': 'x' }));
  await h.settle();
  expect(h.git.requests.length).toBe(before);
  expect((await getApp(appId)).sourceControl.status).toBe('disabled');
});

test('remote down: the build still lands and previews; the failure shows; retry brings it to synced', async () => {
  await h.connect();
  const appId = await h.gateway.createApp('Customer Console');
  await build(appId, sampleApp());
  await post(`/api/v1/apps/${appId}/source-control/publish`);
  await h.settle();

  h.git.setMode('unavailable');
  const down = await build(appId, sampleApp({ 'src/new.ts': 'new' }), 'During the outage');
  expect(down.build.sync.status).toBe('pending');
  await h.module.runner.idle();

  let app = await getApp(appId);
  expect(app.sourceControl.status).toBe('failed');
  expect(app.sourceControl.lastError?.code).toBe('provider_unavailable');
  expect(app.sourceControl.nextRetryAt).not.toBeNull();

  const viewer = await h.gateway.userToken({ role: 'viewer' });
  expect((await h.gateway.request(`/preview/${appId}/`, { token: viewer })).status).toBe(200);

  h.git.setMode('ok');
  const retried = await post(`/api/v1/apps/${appId}/source-control/retry`);
  expect(retried.status).toBe(202);
  await h.settle();

  app = await getApp(appId);
  expect(app.sourceControl).toMatchObject({
    status: 'synced',
    version: 2,
    lastError: null,
    nextRetryAt: null,
  });
  expect(h.remoteTags(REPO)).toEqual(['second-app-v1', 'second-app-v2']);

  const again = await post(`/api/v1/apps/${appId}/source-control/retry`);
  expect(again.status).toBe(409);
  expect(((await again.json()) as { error: { code: string } }).error.code).toBe('nothing_to_retry');
});

test('settings never show the token, and a refused token saves nothing', async () => {
  const refused = await h.connect({ token: 'wrong-token' });
  expect(refused.status).toBe(422);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('auth_failed');

  const viewer = await h.gateway.userToken({ role: 'viewer' });
  const empty = await h.gateway.request('/api/v1/source-control', { token: viewer });
  expect(((await empty.json()) as { settings: { connected: boolean } }).settings.connected).toBe(
    false,
  );

  const saved = await h.connect();
  const text = await saved.text();
  expect(saved.status).toBe(200);
  expect(text).not.toContain(h.token);
  expect(JSON.parse(text).settings).toMatchObject({
    connected: true,
    provider: 'git',
    owner: GIT_OWNER,
    visibility: 'private',
    repoPrefix: 'second-app',
    token: { set: true, updatedBy: 'alice' },
  });

  const asBuilder = await h.gateway.request('/api/v1/source-control', {
    method: 'PUT',
    token: await h.gateway.userToken({ role: 'builder' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ visibility: 'public' }),
  });
  expect(asBuilder.status).toBe(403);

  const spaced = await h.connect({ token: ` ${h.token}` });
  expect(spaced.status).toBe(400);

  const admin = await h.gateway.userToken({ role: 'admin' });
  const removed = await h.gateway.request('/api/v1/source-control', {
    method: 'DELETE',
    token: admin,
  });
  expect(removed.status).toBe(204);
  expect(await h.module.secrets.get('acme', 'provider-token')).toBeNull();
  expect(await h.gateway.store.reader('acme').getSecret('provider-token')).toBeNull();
  const after = await h.gateway.request('/api/v1/source-control', { token: viewer });
  expect(((await after.json()) as { settings: { connected: boolean } }).settings.connected).toBe(
    false,
  );
});
