import { readFile, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isGatewayError } from '../../core/errors.js';
import {
  lsRemote,
  observeGitSpawns,
  openMirror,
  type AppMirror,
  type GitSpawnRecord,
} from '../../mirror/index.js';
import type { GitServer } from '../support/git-server.js';
import { CREATED_AT, fileSet, git, manifestOf } from './mirror-fixtures.js';
import {
  CANARY_TOKEN,
  openMirrorWithRemote,
  remoteOf,
  type MirrorWithRemote,
} from './remote-fixtures.js';

const V1 = fileSet({ 'dist/index.html': '<h1>one</h1>\n' });
const BASIC = Buffer.from(`git:${CANARY_TOKEN}`).toString('base64');

async function readAllFiles(root: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      text += (await readFile(join(entry.parentPath, entry.name))).toString('latin1');
  }
  return text;
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the provider token and the remote', () => {
  let world: MirrorWithRemote;
  let server: GitServer;
  let mirror: AppMirror;
  let spawns: GitSpawnRecord[];
  let stop: () => void;

  beforeEach(async () => {
    world = await openMirrorWithRemote('mirror-safety-');
    ({ server, mirror } = world);
    spawns = [];
    stop = observeGitSpawns((record) => spawns.push(record));
  });
  afterEach(async () => {
    stop();
    await world.close();
  });

  const publish = (password = CANARY_TOKEN, timeoutMs = 10_000) =>
    mirror.publishVersion({
      files: V1.files,
      readBlob: V1.readBlob,
      manifestFor: (n) => manifestOf(V1, n),
      summary: 'v1',
      createdAt: CREATED_AT,
      version: 1,
      remote: remoteOf(server, 'console', password),
      timeoutMs,
    });

  it('reaches git only through the env of the processes that talk to the remote', async () => {
    await publish();
    await mirror.fetchRemote({ remote: remoteOf(server, 'console'), timeoutMs: 10_000 });
    await lsRemote(remoteOf(server, 'console'), 10_000);
    expect(server.requests.some((r) => r.status === 200 && r.user === 'git')).toBe(true);

    for (const spawn of spawns) {
      const argv = spawn.argv.join(' ');
      expect(argv).not.toContain(CANARY_TOKEN);
      expect(argv).not.toContain(BASIC);
      expect(argv).not.toMatch(/\/\/[^/\s]*@/);
      for (const [key, value] of Object.entries(spawn.env)) {
        if (value.includes(BASIC)) expect(key).toBe('GIT_CONFIG_VALUE_0');
        expect(value).not.toContain(CANARY_TOKEN);
      }
    }
    const remoteSpawns = spawns.filter((s) => s.envKeys.includes('GIT_CONFIG_VALUE_0'));
    const commands = new Set(
      remoteSpawns.map((s) => s.argv.find((a) => ['fetch', 'push', 'ls-remote'].includes(a))),
    );
    expect([...commands].sort()).toEqual(['fetch', 'ls-remote', 'push']);

    const onDisk = await readAllFiles(mirror.gitDir);
    expect(onDisk).not.toContain(CANARY_TOKEN);
    expect(onDisk).not.toContain(BASIC);
    expect(await readFile(join(mirror.gitDir, 'config'), 'utf8')).not.toMatch(
      /url|extraheader|credential/i,
    );
  });

  it('runs every git process hardened', async () => {
    await publish();
    expect(spawns.length).toBeGreaterThan(0);
    for (const { argv, env } of spawns) {
      for (const pair of [
        'core.hooksPath=/dev/null',
        'core.fsmonitor=false',
        'protocol.allow=never',
        'protocol.https.allow=always',
        'transfer.fsckObjects=true',
        'credential.helper=',
        'gc.auto=0',
      ]) {
        expect(argv).toContain(pair);
      }
      expect(env).toMatchObject({
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_TERMINAL_PROMPT: '0',
      });
      const isRemote = argv.includes('fetch') || argv.includes('push');
      // http is allowed only for loopback remotes, and only on the processes that use one.
      expect(argv.includes('protocol.http.allow=always')).toBe(isRemote);
      if (!argv.includes('init')) expect(argv[0]).toMatch(/^--git-dir=/);
    }
  });

  it('maps a refused token to auth_failed without the token in the error', async () => {
    const error = await publish('wrong-canary-TOKEN-0000').catch((err: unknown) => err);

    expect(isGatewayError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'auth_failed' });
    const text = JSON.stringify({
      error,
      details: (error as { details?: unknown }).details,
      message: (error as Error).message,
    });
    expect(text).not.toContain('wrong-canary-TOKEN-0000');
    expect(text).not.toContain(Buffer.from('git:wrong-canary-TOKEN-0000').toString('base64'));
  });

  it('maps a 503, a refused connection and a silent server to provider_unavailable', async () => {
    server.setMode('unavailable');
    await expect(publish()).rejects.toMatchObject({ code: 'provider_unavailable' });

    server.setMode('hang');
    await expect(publish(CANARY_TOKEN, 1000)).rejects.toMatchObject({
      code: 'provider_unavailable',
      providerStatus: 0,
    });
    server.setMode('ok');

    const port = await closedPort();
    const gone = {
      url: `http://127.0.0.1:${port}/acme/console.git`,
      username: 'git',
      password: CANARY_TOKEN,
    };
    await expect(lsRemote(gone, 5000)).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('maps a missing repository to provider_error', async () => {
    const missing = remoteOf(server, 'nothing-here');
    await expect(lsRemote(missing, 5000)).rejects.toMatchObject({
      code: 'provider_error',
      providerStatus: 404,
    });
  });

  it.each([
    ['ext::sh -c touch% /tmp/pwned'],
    ['ext::git-upload-pack'],
    ['file:///etc'],
    ['ssh://git@example.com/acme/x.git'],
    ['http://example.com/acme/x.git'],
    [`https://git:${CANARY_TOKEN}@example.com/acme/x.git`],
    ['https://example.com/acme/x.git\r\nHost: evil'],
    ['/srv/git/acme/x.git'],
  ])('refuses the remote %j before any git process starts', async (url) => {
    const remote = { url, username: 'git', password: CANARY_TOKEN };
    const error = await mirror
      .fetchRemote({ remote, timeoutMs: 5000 })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'invalid_remote' });
    expect((error as Error).message).not.toContain(CANARY_TOKEN);
    await expect(lsRemote(remote, 5000)).rejects.toMatchObject({ code: 'invalid_remote' });
    expect(spawns.filter((s) => s.argv.includes('fetch') || s.argv.includes('ls-remote'))).toEqual(
      [],
    );
  });

  it('refuses a credential with a line break, which would inject a header', async () => {
    const remote = { ...remoteOf(server, 'console'), password: 'abc\r\nX-Evil: 1' };
    await expect(lsRemote(remote, 5000)).rejects.toMatchObject({ code: 'invalid_remote' });
  });
});

describe('hostile repository content on the remote', () => {
  let world: MirrorWithRemote;
  let server: GitServer;
  let mirror: AppMirror;
  let remotePath: string;
  let dataDir: string;

  beforeEach(async () => {
    world = await openMirrorWithRemote('mirror-hostile-remote-');
    ({ server, mirror, remotePath, dataDir } = world);
  });
  afterEach(() => world.close());

  // Plumbing on the server side writes trees that porcelain (and fsck) would never accept.
  const plantHostileMain = async (entries: (blob: string, sub: string) => string) => {
    const blob = await git(
      remotePath,
      ['hash-object', '-w', '--stdin'],
      '[core]\n\tfsmonitor = touch /tmp/pwned\n',
    );
    const sub = await git(remotePath, ['mktree'], `100644 blob ${blob}\tconfig\n`);
    const tree = await git(remotePath, ['mktree'], entries(blob, sub));
    const commit = await git(remotePath, [
      '-c',
      'user.name=x',
      '-c',
      'user.email=x@x',
      'commit-tree',
      '-m',
      'x',
      tree,
    ]);
    await git(remotePath, ['update-ref', 'refs/heads/main', commit]);
    await git(remotePath, ['update-ref', 'refs/tags/second-app-v1', commit]);
  };

  it.each([
    ['a .git folder', (_b: string, sub: string) => `040000 tree ${sub}\t.git\n`],
    ['a .GIT folder', (_b: string, sub: string) => `040000 tree ${sub}\t.GIT\n`],
    ['a .. entry', (blob: string) => `100644 blob ${blob}\t..\n`],
    ['a .git file', (blob: string) => `100644 blob ${blob}\t.git\n`],
  ])('refuses %s on fetch and on rebuild, leaving nothing behind', async (_label, entries) => {
    await plantHostileMain(entries);

    await expect(
      mirror.fetchRemote({ remote: remoteOf(server, 'console'), timeoutMs: 10_000 }),
    ).rejects.toMatchObject({
      code: 'unsafe_path',
    });
    expect(await mirror.resolve('refs/remotes/origin/main')).toBeNull();
    expect(await mirror.listTags()).toEqual([]);
    await mirror.maintain();

    const rebuilt = openMirror({ dataDir, workspaceId: 'ws1', appId: 'app2' });
    await expect(
      rebuilt.cloneMissing({
        remote: remoteOf(server, 'console'),
        tag: 'second-app-v1',
        timeoutMs: 10_000,
      }),
    ).rejects.toMatchObject({ code: 'unsafe_path' });
    expect(await rebuilt.exists()).toBe(false);
    const leftovers = await readdir(join(dataDir, 'mirrors', 'ws1'));
    expect(leftovers).toEqual(['app1.git']);
  });
});
