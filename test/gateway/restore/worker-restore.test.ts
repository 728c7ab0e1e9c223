import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildManifest, parseManifest, serializeManifest } from '../../../core/manifest.js';
import { summarizeSource } from '../../../core/source-hash.js';
import { makeTar, sampleApp, sha256Hex, uploadBuild, type FileTree } from '../gateway-fixtures.js';
import { OTHER_WORKSPACE, WORKSPACE } from '../../support/gateway-harness.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../../support/source-control-harness.js';
import { mirrorLeaseKey } from '../../../gateway/sync/app-lease.js';
import { git, pushAsOutsider, untar } from './restore-support.js';

const REPO = 'second-app-customer-console';
let h: SourceControlHarness;

beforeEach(async () => {
  h = await startSourceControlHarness({ env: { DEPLOYMENT_MODE: 'local' } });
  await h.git.createRepo(GIT_OWNER, REPO);
});
afterEach(() => h.close());

async function build(appId: string, files: FileTree, summary = 'A build'): Promise<void> {
  const token = await h.gateway.workerToken(appId);
  const response = await uploadBuild(h.gateway, appId, token, await makeTar(files), { summary });
  expect(response.status).toBe(201);
}

/** An app published as v1 (sampleApp) and v2 (with src/table.ts). */
async function publishedApp(): Promise<string> {
  expect((await h.connect()).status).toBe(200);
  const appId = await h.gateway.createApp('Customer Console');
  await build(appId, sampleApp(), 'First screen');
  const token = await h.gateway.userToken({ role: 'builder' });
  const published = await h.gateway.request(`/api/v1/apps/${appId}/source-control/publish`, {
    method: 'POST',
    token,
  });
  expect(published.status).toBe(202);
  await h.settle();
  await build(appId, sampleApp({ 'src/table.ts': 'export const rows = [];\n' }), 'Table');
  await h.settle();
  expect(h.remoteTags(REPO)).toEqual(['second-app-v1', 'second-app-v2']);
  return appId;
}

async function restore(
  appId: string,
  body?: unknown,
  options: { workspaceId?: string; tokenApp?: string } = {},
): Promise<Response> {
  const token = await h.gateway.workerToken(options.tokenApp ?? appId, {
    workspaceId: options.workspaceId,
  });
  return h.gateway.request(`/internal/v1/apps/${appId}/restore`, {
    method: 'POST',
    token,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

async function filesOf(response: Response): Promise<Map<string, string>> {
  expect(response.headers.get('content-type')).toBe('application/x-tar');
  return untar(Buffer.from(await response.arrayBuffer()));
}

function textOf(files: FileTree): Map<string, string> {
  return new Map(Object.entries(files).map(([path, body]) => [path, body.toString()]));
}

async function storedVersion(appId: string, version: number) {
  const record = await h.gateway.store.reader(WORKSPACE).getVersion(appId, version);
  if (!record) throw new Error(`no version ${version} recorded`);
  return record;
}

async function restoreAudits(appId: string) {
  const events = await h.gateway.store.reader(WORKSPACE).listAudit({ appId });
  return events.filter((event) => event.action === 'worker.restore');
}

function mirrorOf(appId: string): string {
  return join(h.gateway.dataDir, 'mirrors', WORKSPACE, `${appId}.git`);
}

/**
 * Waits until the store's write count has stood still for half a second and answers it. A
 * restore fills the store after its stream ends, so its writes land after the response; the
 * gateway offers no signal for that end, and a quiet half second is far longer than the few
 * SQLite writes that follow it take.
 */
async function storeWritesSettled(): Promise<number> {
  const quietMs = 500;
  const deadline = Date.now() + 30_000;
  let count = h.gateway.store.writeCount;
  let stillSince = Date.now();
  while (Date.now() - stillSince < quietMs) {
    if (Date.now() > deadline) throw new Error('the store was still being written after 30 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (h.gateway.store.writeCount !== count) {
      count = h.gateway.store.writeCount;
      stillSince = Date.now();
    }
  }
  return count;
}

test('a warm mirror restores the latest version from source control, manifest left out', async () => {
  const appId = await publishedApp();

  const response = await restore(appId);
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-origin')).toBe('source-control');
  expect(response.headers.get('x-source-version')).toBe('2');
  expect(response.headers.get('x-source-hash')).toBe((await storedVersion(appId, 2)).sourceHash);
  expect(response.headers.get('x-source-fallback')).toBeNull();

  const files = await filesOf(response);
  expect(files).toEqual(textOf(sampleApp({ 'src/table.ts': 'export const rows = [];\n' })));
  expect(files.has('second-app.json')).toBe(false);

  const audits = await restoreAudits(appId);
  expect(audits.map((a) => [a.outcome, a.actor])).toEqual([['success', `worker:${appId}`]]);
});

test('a specific version restores that version; an unknown one is 404 and a bad body 400', async () => {
  const appId = await publishedApp();

  const first = await restore(appId, { version: 1 });
  expect(first.status).toBe(200);
  expect(first.headers.get('x-source-version')).toBe('1');
  expect(first.headers.get('x-source-hash')).toBe((await storedVersion(appId, 1)).sourceHash);
  expect(await filesOf(first)).toEqual(textOf(sampleApp()));

  const unknown = await restore(appId, { version: 9 });
  expect(unknown.status).toBe(404);
  expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');

  for (const body of [{ version: 'two' }, { version: 1.5 }, { version: 0 }, [1]]) {
    const bad = await restore(appId, body);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  }
});

test('a deleted mirror is rebuilt shallowly from the remote with only the tag restored', async () => {
  const appId = await publishedApp();
  await rm(mirrorOf(appId), { recursive: true, force: true });

  const response = await restore(appId, { version: 1 });
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-origin')).toBe('source-control');
  expect(response.headers.get('x-source-version')).toBe('1');
  expect(await filesOf(response)).toEqual(textOf(sampleApp()));

  const mirror = mirrorOf(appId);
  expect(git(['--git-dir', mirror, 'rev-parse', '--is-shallow-repository'])).toBe('true');
  expect(git(['--git-dir', mirror, 'tag', '--list'])).toBe('second-app-v1');
  expect(git(['--git-dir', mirror, 'rev-list', '--all', '--count'])).toBe('1');
});

test('a remote that answers 503 falls back to the mirror as it stands, and says so', async () => {
  const appId = await publishedApp();
  h.git.setMode('unavailable');

  const response = await restore(appId);
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-origin')).toBe('source-control');
  expect(response.headers.get('x-source-fallback')).toBe('mirror');
  expect(response.headers.get('x-source-version')).toBe('2');
  expect(await filesOf(response)).toEqual(
    textOf(sampleApp({ 'src/table.ts': 'export const rows = [];\n' })),
  );
  expect(h.git.requests.some((r) => r.status === 503)).toBe(true);
});

test('a remote that accepts the connection and then stays silent is given up on: the mirror answers', async () => {
  await h.close();
  h = await startSourceControlHarness({
    env: { DEPLOYMENT_MODE: 'local', REMOTE_TIMEOUT_MS: '1500' },
  });
  await h.git.createRepo(GIT_OWNER, REPO);
  const appId = await publishedApp();
  h.git.setMode('hang');

  const response = await restore(appId);
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-origin')).toBe('source-control');
  expect(response.headers.get('x-source-fallback')).toBe('mirror');
  expect(response.headers.get('x-source-version')).toBe('2');
  expect(response.headers.get('x-source-hash')).toBe((await storedVersion(appId, 2)).sourceHash);
  expect(await filesOf(response)).toEqual(
    textOf(sampleApp({ 'src/table.ts': 'export const rows = [];\n' })),
  );
});

test('a restore waits for a sync that holds the mirror, then fetches: no fallback is reported', async () => {
  const appId = await publishedApp();
  const workspace = h.gateway.store.workspace(WORKSPACE);
  expect(await workspace.acquireLease(mirrorLeaseKey(appId), 'another-gateway', 60_000)).toBe(true);

  let released = false;
  const answered = restore(appId).then((response) => ({ response, afterRelease: released }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const requestsBeforeRelease = h.git.requests.length;
  released = true;
  await workspace.releaseLease(mirrorLeaseKey(appId), 'another-gateway');

  const { response, afterRelease } = await answered;
  expect(afterRelease).toBe(true);
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-fallback')).toBeNull();
  expect(response.headers.get('x-source-version')).toBe('2');
  // The fetch ran once the lease was free, not beside the sync that held it.
  expect(h.git.requests.length).toBeGreaterThan(requestsBeforeRelease);
  await filesOf(response);
});

test('a sync that holds the mirror past the remote time limit keeps it; the restore reads the mirror', async () => {
  await h.close();
  h = await startSourceControlHarness({
    env: { DEPLOYMENT_MODE: 'local', REMOTE_TIMEOUT_MS: '600' },
  });
  await h.git.createRepo(GIT_OWNER, REPO);
  const appId = await publishedApp();
  const workspace = h.gateway.store.workspace(WORKSPACE);
  expect(await workspace.acquireLease(mirrorLeaseKey(appId), 'another-gateway', 60_000)).toBe(true);
  const requestsBefore = h.git.requests.length;

  const response = await restore(appId);
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-fallback')).toBeNull();
  expect(response.headers.get('x-source-version')).toBe('2');
  expect(await filesOf(response)).toEqual(
    textOf(sampleApp({ 'src/table.ts': 'export const rows = [];\n' })),
  );
  expect(h.git.requests.length).toBe(requestsBefore);
  expect(await workspace.acquireLease(mirrorLeaseKey(appId), 'a-third-holder', 60_000)).toBe(false);
});

test('an app that is not backed restores its stored draft, with no git at all', async () => {
  await h.connect();
  const appId = await h.gateway.createApp('Local Only');
  await build(appId, sampleApp({ '.env.example': 'KEY=\n' }));
  const app = await h.gateway.store.reader(WORKSPACE).getApp(appId);
  const gitRequests = h.git.requests.length;

  const response = await restore(appId);
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-origin')).toBe('store');
  expect(response.headers.get('x-source-version')).toBeNull();
  expect(response.headers.get('x-source-hash')).toBe(app?.draft?.snapshotHash);
  expect(await filesOf(response)).toEqual(textOf(sampleApp({ '.env.example': 'KEY=\n' })));
  expect(h.git.requests.length).toBe(gitRequests);

  const empty = await h.gateway.createApp('Never built');
  const none = await restore(empty);
  expect(none.status).toBe(409);
  expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_draft');
});

test('a tampered mirror is refused with hash_mismatch and audited; nothing is streamed', async () => {
  const appId = await publishedApp();
  const mirror = mirrorOf(appId);

  // Point the tag at a commit whose files differ from what its manifest says.
  const index = { GIT_INDEX_FILE: join(tmpdir(), `tamper-${appId}.index`) };
  git(['--git-dir', mirror, 'read-tree', 'refs/tags/second-app-v1'], index);
  const blob = git(
    ['--git-dir', mirror, 'hash-object', '-w', '--stdin'],
    {},
    Buffer.from('stealTokens();\n'),
  );
  git(['--git-dir', mirror, 'update-index', '--cacheinfo', `100644,${blob},src/main.ts`], index);
  const tree = git(['--git-dir', mirror, 'write-tree'], index);
  await rm(index.GIT_INDEX_FILE, { force: true });
  const commit = git(['--git-dir', mirror, 'commit-tree', tree, '-m', 'tampered']);
  git(['--git-dir', mirror, 'update-ref', 'refs/tags/second-app-v1', commit]);

  const response = await restore(appId, { version: 1 });
  expect(response.status).toBe(422);
  expect(response.headers.get('content-type')).toContain('application/json');
  const body = await response.text();
  expect(JSON.parse(body).error.code).toBe('hash_mismatch');
  expect(body).not.toContain('stealTokens');

  const audits = await restoreAudits(appId);
  expect(audits.map((a) => [a.outcome, a.code])).toEqual([['failure', 'hash_mismatch']]);

  // The untouched version still restores.
  const untouched = await restore(appId, { version: 2 });
  expect(untouched.status).toBe(200);
  expect((await filesOf(untouched)).get('src/table.ts')).toBe('export const rows = [];\n');
});

test("another app's worker token and another workspace's are answered 404, and nothing is recorded", async () => {
  const appId = await publishedApp();
  const otherApp = await h.gateway.createApp('Other');
  const gitRequests = h.git.requests.length;
  const writes = h.gateway.store.writeCount;

  const crossApp = await restore(appId, undefined, { tokenApp: otherApp });
  expect(crossApp.status).toBe(404);
  const crossWorkspace = await restore(appId, undefined, { workspaceId: OTHER_WORKSPACE });
  expect(crossWorkspace.status).toBe(404);
  const userToken = await h.gateway.request(`/internal/v1/apps/${appId}/restore`, {
    method: 'POST',
    token: await h.gateway.userToken({ role: 'owner' }),
  });
  expect(userToken.status).toBe(403);

  expect(h.gateway.store.writeCount).toBe(writes);
  expect(h.git.requests.length).toBe(gitRequests);
  expect(await restoreAudits(appId)).toEqual([]);
});

test('a secret file committed to the remote never comes back, and the version fills the store once', async () => {
  const appId = await publishedApp();
  const remoteRepo = h.git.repoPath(GIT_OWNER, REPO);

  // Someone pushes v3 by hand: a changed file, a committed .env and a manifest that matches.
  const v2 = sampleApp({ 'src/table.ts': 'export const rows = [];\n' });
  const v3Files = { ...v2, 'src/outside.ts': 'export const outside = 1;\n' };
  const previous = parseManifest(git(['--git-dir', remoteRepo, 'show', 'main:second-app.json']));
  if (!previous) throw new Error('the remote has no manifest');
  const summary = summarizeSource(
    Object.entries(v3Files).map(([path, body]) => ({
      path,
      sha256: sha256Hex(body),
      size: Buffer.byteLength(body),
    })),
  );
  const manifest = buildManifest({
    appName: previous.app.name,
    source: summary,
    provider: 'git',
    owner: GIT_OWNER,
    repo: REPO,
    version: 3,
    availableInCatalog: false,
  });
  await pushAsOutsider(remoteRepo, {
    write: {
      'src/outside.ts': v3Files['src/outside.ts'],
      '.env': 'DATABASE_PASSWORD=hunter2\n',
      'config/.env.production': 'API_KEY=abc\n',
      'second-app.json': serializeManifest(manifest).toString('utf8'),
    },
    tag: 'second-app-v3',
  });

  const response = await restore(appId);
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-version')).toBe('3');
  expect(response.headers.get('x-source-hash')).toBe(summary.hash);
  const files = await filesOf(response);
  expect(files).toEqual(textOf(v3Files));
  expect([...files.keys()].some((path) => path.includes('.env'))).toBe(false);

  // The restored snapshot lands in the store after the stream ends.
  const reader = h.gateway.store.reader(WORKSPACE);
  for (let i = 0; i < 100 && !(await reader.getSnapshot(summary.hash)); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const cached = await reader.getSnapshot(summary.hash);
  expect(cached?.files.map((f) => f.path).sort()).toEqual(Object.keys(v3Files).sort());
  expect((await reader.getBlob(sha256Hex(v3Files['src/outside.ts'])))?.toString('utf8')).toBe(
    v3Files['src/outside.ts'],
  );

  // A second restore of the same version writes its audit record and nothing else, besides
  // taking and releasing the mirror lease: counted once its store cache has had its say.
  const writes = await storeWritesSettled();
  const again = await restore(appId, { version: 3 });
  expect(await filesOf(again)).toEqual(textOf(v3Files));
  expect(await storeWritesSettled()).toBe(writes + 3);
});

test('a tag rewritten with a manifest that matches its new files is refused against the recorded version', async () => {
  const appId = await publishedApp();
  const mirror = mirrorOf(appId);

  const rewritten = sampleApp({ 'src/main.ts': 'rewritten();\n' });
  const committed = parseManifest(
    git(['--git-dir', mirror, 'show', 'refs/tags/second-app-v1:second-app.json']),
  );
  if (!committed) throw new Error('the mirror has no manifest');
  const source = summarizeSource(
    Object.entries(rewritten).map(([path, body]) => ({
      path,
      sha256: sha256Hex(body),
      size: Buffer.byteLength(body),
    })),
  );
  const manifest = serializeManifest({ ...committed, source: { ...source } });

  const index = { GIT_INDEX_FILE: join(tmpdir(), `rewrite-${appId}.index`) };
  git(['--git-dir', mirror, 'read-tree', 'refs/tags/second-app-v1'], index);
  for (const [path, body] of [
    ['src/main.ts', 'rewritten();\n'],
    ['second-app.json', manifest],
  ] as const) {
    const blob = git(['--git-dir', mirror, 'hash-object', '-w', '--stdin'], {}, Buffer.from(body));
    git(['--git-dir', mirror, 'update-index', '--cacheinfo', `100644,${blob},${path}`], index);
  }
  const tree = git(['--git-dir', mirror, 'write-tree'], index);
  await rm(index.GIT_INDEX_FILE, { force: true });
  const commit = git(['--git-dir', mirror, 'commit-tree', tree, '-m', 'rewritten history']);
  git(['--git-dir', mirror, 'update-ref', 'refs/tags/second-app-v1', commit]);

  const response = await restore(appId, { version: 1 });
  expect(response.status).toBe(422);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('hash_mismatch');
  expect((await restoreAudits(appId)).map((a) => a.code)).toEqual(['hash_mismatch']);
});

test("with neither a mirror nor a remote, a backed app's version comes from the store", async () => {
  const appId = await publishedApp();
  await rm(mirrorOf(appId), { recursive: true, force: true });
  h.git.setMode('unavailable');

  const response = await restore(appId);
  expect(response.status).toBe(200);
  expect(response.headers.get('x-source-origin')).toBe('store');
  expect(response.headers.get('x-source-version')).toBe('2');
  expect(response.headers.get('x-source-hash')).toBe((await storedVersion(appId, 2)).sourceHash);
  expect(await filesOf(response)).toEqual(
    textOf(sampleApp({ 'src/table.ts': 'export const rows = [];\n' })),
  );

  const unknown = await restore(appId, { version: 7 });
  expect(unknown.status).toBe(503);
  expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
    'provider_unavailable',
  );
});
