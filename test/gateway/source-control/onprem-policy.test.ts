import { makeTar, sampleApp, uploadBuild } from '../gateway-fixtures.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../../support/source-control-harness.js';

let h: SourceControlHarness;

beforeEach(async () => {
  h = await startSourceControlHarness({ env: { DEPLOYMENT_MODE: 'onprem' } });
});
afterEach(() => h.close());

async function build(appId: string, files: Record<string, string | Buffer>) {
  const token = await h.gateway.workerToken(appId);
  const response = await uploadBuild(h.gateway, appId, token, await makeTar(files));
  expect(response.status).toBe(201);
  return (await response.json()) as {
    build: { sync: { status: string } };
    sourceControl: { status: string };
  };
}

async function appOf(appId: string) {
  const token = await h.gateway.userToken({ role: 'viewer' });
  const response = await h.gateway.request(`/api/v1/apps/${appId}`, { token });
  return ((await response.json()) as { app: { sourceControl: Record<string, unknown> } }).app;
}

async function put(body: unknown) {
  return h.gateway.request('/api/v1/source-control', {
    method: 'PUT',
    token: await h.gateway.userToken({ role: 'owner', sub: 'olga' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

test('with the policy off nothing syncs; turned on, existing apps are adopted at their next build', async () => {
  await h.git.createRepo(GIT_OWNER, 'second-app-ledger');
  expect((await h.connect({ storeAppSource: false })).status).toBe(200);

  const appId = await h.gateway.createApp('Ledger');
  const before = h.git.requests.length;
  const off = await build(appId, sampleApp());
  expect(off.build.sync.status).toBe('disabled');
  await h.settle();
  expect(h.git.requests.length).toBe(before);
  expect((await appOf(appId)).sourceControl).toMatchObject({ backed: false, status: 'disabled' });

  const turnedOn = await put({ storeAppSource: true });
  expect(turnedOn.status).toBe(200);
  expect(
    ((await turnedOn.json()) as { settings: { storeAppSource: boolean } }).settings.storeAppSource,
  ).toBe(true);
  // Turning the policy on uploads nothing by itself.
  await h.settle();
  expect(h.remoteTags('second-app-ledger')).toEqual([]);

  const on = await build(appId, sampleApp({ 'src/more.ts': 'more' }));
  expect(on.build.sync.status).toBe('pending');
  expect(on.sourceControl.status).toBe('pending');
  await h.settle();

  expect((await appOf(appId)).sourceControl).toMatchObject({
    backed: true,
    status: 'synced',
    version: 1,
    repo: 'second-app-ledger',
  });
  expect(h.remoteTags('second-app-ledger')).toEqual(['second-app-v1']);

  const publish = await h.gateway.request(`/api/v1/apps/${appId}/source-control/publish`, {
    method: 'POST',
    token: await h.gateway.userToken({ role: 'builder' }),
  });
  expect(publish.status).toBe(409);
  expect(((await publish.json()) as { error: { code: string } }).error.code).toBe('not_supported');
});

test('turned off after a synced build, the policy stops syncing: the next build is disabled and no git request is made', async () => {
  await h.git.createRepo(GIT_OWNER, 'second-app-ledger');
  expect((await h.connect({ storeAppSource: true })).status).toBe(200);
  const appId = await h.gateway.createApp('Ledger');
  expect((await build(appId, sampleApp())).build.sync.status).toBe('pending');
  await h.settle();
  expect((await appOf(appId)).sourceControl).toMatchObject({ status: 'synced', version: 1 });
  expect(h.remoteTags('second-app-ledger')).toEqual(['second-app-v1']);

  const turnedOff = await put({ storeAppSource: false });
  expect(turnedOff.status).toBe(200);
  expect(
    ((await turnedOff.json()) as { settings: { storeAppSource: boolean } }).settings.storeAppSource,
  ).toBe(false);
  await h.settle();

  // Counted after the save: saving the settings checks the credential with the server.
  const before = h.git.requests.length;
  const off = await build(appId, sampleApp({ 'src/after.ts': 'changed after the policy' }));
  expect(off.build.sync.status).toBe('disabled');
  await h.settle();

  expect(h.git.requests.length).toBe(before);
  expect(h.remoteTags('second-app-ledger')).toEqual(['second-app-v1']);
  // The store is authoritative again: the app is no longer backed, its repo stays on record.
  expect((await appOf(appId)).sourceControl).toMatchObject({
    backed: false,
    status: 'disabled',
    repo: 'second-app-ledger',
    version: 1,
  });
  const viewer = await h.gateway.userToken({ role: 'viewer' });
  const { builds } = (await (
    await h.gateway.request(`/api/v1/apps/${appId}/builds`, { token: viewer })
  ).json()) as { builds: { sync: { status: string; version: number | null } }[] };
  expect(builds.map((b) => b.sync)).toEqual([
    { status: 'disabled', version: null, error: null },
    { status: 'synced', version: 1, error: null },
  ]);
  const { versions } = (await (
    await h.gateway.request(`/api/v1/apps/${appId}/versions`, { token: viewer })
  ).json()) as { versions: { version: number }[] };
  expect(versions.map((v) => v.version)).toEqual([1]);

  // Turned on again, the app is adopted once more and goes on in the same repository.
  expect((await put({ storeAppSource: true })).status).toBe(200);
  await build(appId, sampleApp({ 'src/after.ts': 'changed once the policy returned' }));
  await h.settle();
  expect((await appOf(appId)).sourceControl).toMatchObject({
    backed: true,
    status: 'synced',
    repo: 'second-app-ledger',
    version: 2,
  });
  expect(h.remoteTags('second-app-ledger')).toEqual(['second-app-v1', 'second-app-v2']);
});

test('sharing writes a manifest-only commit and no tag; rollback makes the next version', async () => {
  await h.git.createRepo(GIT_OWNER, 'second-app-ledger');
  await h.connect({ storeAppSource: true });
  const appId = await h.gateway.createApp('Ledger');
  const builder = await h.gateway.userToken({ role: 'builder', sub: 'bob' });
  const post = (path: string, body: unknown = {}) =>
    h.gateway.request(path, {
      method: 'POST',
      token: builder,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const noVersion = await post(`/api/v1/apps/${appId}/source-control/share`, { available: true });
  expect(((await noVersion.json()) as { error: { code: string } }).error.code).toBe('no_version');

  await build(appId, sampleApp());
  await h.settle();
  await build(appId, sampleApp({ 'src/v2.ts': 'two' }));
  await h.settle();
  expect(h.remoteTags('second-app-ledger')).toEqual(['second-app-v1', 'second-app-v2']);

  const shared = await post(`/api/v1/apps/${appId}/source-control/share`, { available: true });
  expect(shared.status).toBe(202);
  await h.settle();
  expect((await appOf(appId)).sourceControl).toMatchObject({
    availableInCatalog: true,
    status: 'synced',
    version: 2,
  });
  expect(h.remoteTags('second-app-ledger')).toEqual(['second-app-v1', 'second-app-v2']);
  const { execFileSync } = await import('node:child_process');
  const gitDir = h.git.repoPath(GIT_OWNER, 'second-app-ledger');
  const manifest = JSON.parse(
    execFileSync('git', ['--git-dir', gitDir, 'show', 'main:second-app.json'], {
      encoding: 'utf8',
    }),
  );
  expect(manifest.sourceControl).toMatchObject({
    version: 2,
    availableInCatalog: true,
    commitSha: null,
  });
  const tagged = JSON.parse(
    execFileSync('git', ['--git-dir', gitDir, 'show', 'second-app-v2:second-app.json'], {
      encoding: 'utf8',
    }),
  );
  expect(tagged.sourceControl.availableInCatalog).toBe(false);

  const badShare = await post(`/api/v1/apps/${appId}/source-control/share`, { available: 'yes' });
  expect(badShare.status).toBe(400);

  const rollback = await post(`/api/v1/apps/${appId}/versions/1/restore-draft`);
  expect(rollback.status).toBe(200);
  await h.settle();
  expect((await appOf(appId)).sourceControl).toMatchObject({ version: 3, status: 'synced' });
  expect(h.remoteTags('second-app-ledger')).toEqual([
    'second-app-v1',
    'second-app-v2',
    'second-app-v3',
  ]);
  const v3 = execFileSync(
    'git',
    ['--git-dir', gitDir, 'ls-tree', '-r', '--name-only', 'second-app-v3'],
    {
      encoding: 'utf8',
    },
  );
  expect(v3).not.toContain('src/v2.ts');

  const missing = await post(`/api/v1/apps/${appId}/versions/99/restore-draft`);
  expect(missing.status).toBe(404);
});

test('sharing after someone pushed to the remote main keeps their commit and says so', async () => {
  const gitDir = await h.git.createRepo(GIT_OWNER, 'second-app-ledger');
  await h.connect({ storeAppSource: true });
  const appId = await h.gateway.createApp('Ledger');
  await build(appId, sampleApp());
  await h.settle();
  const outside = await commitOnRemoteMain(gitDir, 'NOTES.md', 'written by a person\n');

  const shared = await h.gateway.request(`/api/v1/apps/${appId}/source-control/share`, {
    method: 'POST',
    token: await h.gateway.userToken({ role: 'builder' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ available: true }),
  });
  expect(shared.status).toBe(202);
  await h.settle();

  expect((await appOf(appId)).sourceControl).toMatchObject({
    status: 'synced',
    availableInCatalog: true,
    outsideCommits: true,
    version: 1,
    lastError: null,
  });
  const { execFileSync } = await import('node:child_process');
  const gitOf = (...args: string[]) =>
    execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8' }).trim();
  expect(gitOf('rev-parse', 'main^')).toBe(outside);
  expect(gitOf('show', 'main:NOTES.md')).toBe('written by a person');
  expect(JSON.parse(gitOf('show', 'main:second-app.json')).sourceControl.availableInCatalog).toBe(
    true,
  );
  expect(h.remoteTags('second-app-ledger')).toEqual(['second-app-v1']);
});

/** A commit by a person with a clone, pushed onto the bare repository's main; its SHA. */
async function commitOnRemoteMain(gitDir: string, path: string, content: string): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const work = mkdtempSync(join(tmpdir(), 'outside-'));
  const git = (...args: string[]) =>
    execFileSync(
      'git',
      ['-C', work, '-c', 'user.name=Person', '-c', 'user.email=p@x.test', ...args],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' },
      },
    ).trim();
  try {
    git('clone', '-q', gitDir, '.');
    writeFileSync(join(work, path), content);
    git('add', path);
    git('commit', '-qm', 'hand edit');
    git('push', '-q', 'origin', 'main');
    return git('rev-parse', 'HEAD');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test('audit lists each mutation for owners and admins, newest first, filtered by app', async () => {
  await h.git.createRepo(GIT_OWNER, 'second-app-ledger');
  await h.connect({ storeAppSource: true });
  const appId = await h.gateway.createApp('Ledger');
  await build(appId, sampleApp());
  await h.settle();

  const admin = await h.gateway.userToken({ role: 'admin' });
  const all = (await (await h.gateway.request('/api/v1/audit', { token: admin })).json()) as {
    events: {
      action: string;
      appId: string | null;
      outcome: string;
      actor: string;
      code: string | null;
    }[];
  };
  const actions = all.events.map((e) => e.action);
  expect(actions).toEqual(expect.arrayContaining(['settings.save', 'sync.build']));
  expect(all.events[0]!.action).toBe('sync.build');
  for (const event of all.events) {
    expect(Object.keys(event).sort()).toEqual([
      'action',
      'actor',
      'appId',
      'at',
      'code',
      'id',
      'outcome',
    ]);
  }

  const byApp = (await (
    await h.gateway.request(`/api/v1/audit?appId=${appId}`, { token: admin })
  ).json()) as { events: { appId: string }[] };
  expect(byApp.events.length).toBeGreaterThan(0);
  expect(byApp.events.every((e) => e.appId === appId)).toBe(true);

  const other = await h.gateway.userToken({ role: 'admin', workspaceId: 'globex' });
  const foreign = (await (
    await h.gateway.request(`/api/v1/audit?appId=${appId}`, { token: other })
  ).json()) as { events: unknown[] };
  expect(foreign.events).toEqual([]);

  const builder = await h.gateway.userToken({ role: 'builder' });
  expect((await h.gateway.request('/api/v1/audit', { token: builder })).status).toBe(403);
});

test('the event stream carries compact hints of this workspace only', async () => {
  await h.git.createRepo(GIT_OWNER, 'second-app-ledger');
  await h.connect({ storeAppSource: true });
  const appId = await h.gateway.createApp('Ledger');

  const controller = new AbortController();
  const mine = await h.gateway.request('/api/v1/events', {
    token: await h.gateway.userToken({ role: 'viewer' }),
    signal: controller.signal,
  });
  expect(mine.status).toBe(200);
  expect(mine.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const foreignController = new AbortController();
  const foreign = await h.gateway.request('/api/v1/events', {
    token: await h.gateway.userToken({ role: 'viewer', workspaceId: 'globex' }),
    signal: foreignController.signal,
  });

  const read = async (response: Response, until: (text: string) => boolean, ms: number) => {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + ms;
    while (!until(text) && Date.now() < deadline) {
      const next = await Promise.race([
        reader.read(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now())),
      ]);
      if (next === null || next.done) break;
      text += decoder.decode(next.value);
    }
    return text;
  };

  await build(appId, sampleApp());
  await h.settle();
  const text = await read(mine, (t) => t.includes('"status":"synced"'), 5000);
  controller.abort();

  const events = text
    .split('\n\n')
    .filter((block) => block.startsWith('event:'))
    .map((block) => JSON.parse(block.split('\ndata: ')[1]!) as Record<string, unknown>);
  expect(events.map((e) => e.type)).toEqual(
    expect.arrayContaining(['app.updated', 'source-control.status']),
  );
  for (const event of events) {
    expect(Object.keys(event).sort()).toEqual(['appId', 'at', 'status', 'type', 'version']);
    expect(event.appId).toBe(appId);
  }

  const foreignText = await read(foreign, () => false, 300);
  foreignController.abort();
  expect(foreignText).not.toContain('event:');
});
