import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { createGitAdapter } from '../../../../adapters/providers/git/git-adapter.js';
import type { ProviderConnection } from '../../../../adapters/providers/provider-port.js';
import { checkRemoteBaseUrl } from '../../../../adapters/providers/remote-url.js';
import { observeGitSpawns, type GitSpawnRecord } from '../../../../mirror/index.js';
import { startGitServer, type GitServer } from '../../../support/git-server.js';

const run = promisify(execFile);
const TOKEN = 'plain-git-CANARY-5c1e07';

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function seedTags(path: string, tags: string[]): Promise<string> {
  const env = {
    PATH: process.env.PATH,
    HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'x',
    GIT_AUTHOR_EMAIL: 'x@x',
    GIT_COMMITTER_NAME: 'x',
    GIT_COMMITTER_EMAIL: 'x@x',
  };
  const git = async (args: string[]) =>
    (await run('git', ['--git-dir', path, ...args], { env })).stdout.trim();
  const tree = await git(['write-tree']).catch(
    async () => '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  );
  const { stdout } = await run('git', ['--git-dir', path, 'commit-tree', '-m', 'seed', tree], {
    env,
  });
  const commit = stdout.trim();
  await git(['update-ref', 'refs/heads/main', commit]);
  for (const tag of tags) await git(['tag', '-a', '-m', tag, tag, commit]);
  return commit;
}

describe('plain git provider adapter', () => {
  let server: GitServer;
  let spawns: GitSpawnRecord[];
  let stop: () => void;

  const conn = (overrides: Partial<ProviderConnection> = {}): ProviderConnection => ({
    provider: 'git',
    baseUrl: server.baseUrl,
    owner: 'acme',
    ownerType: 'org',
    token: TOKEN,
    ...overrides,
  });

  beforeEach(async () => {
    server = await startGitServer({
      checkAuth: (user, pass) => pass === TOKEN && (user === 'git' || user === 'alice'),
    });
    spawns = [];
    stop = observeGitSpawns((record) => spawns.push(record));
  });
  afterEach(async () => {
    stop();
    await server.close();
  });

  it('validates a credential the server accepts under the owner folder', async () => {
    const adapter = createGitAdapter(conn());
    expect(await adapter.validate()).toEqual({ account: null, missingPermissions: [] });
    expect(server.requests.at(-1)).toMatchObject({ path: '/acme/', user: 'git' });
    expect(adapter).toMatchObject({ id: 'git', supportsTopics: false, supportsListing: false });
  });

  it('refuses a bad credential with auth_failed and never names the token', async () => {
    const error = await createGitAdapter(conn({ token: 'wrong-CANARY-token' }))
      .validate()
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'auth_failed', providerStatus: 401 });
    expect(JSON.stringify(error) + String(error)).not.toContain('wrong-CANARY-token');
  });

  it('answers provider_unavailable for a server that does not answer or is down', async () => {
    const port = await closedPort();
    await expect(
      createGitAdapter(conn({ baseUrl: `http://127.0.0.1:${port}` })).validate(),
    ).rejects.toMatchObject({
      code: 'provider_unavailable',
      providerStatus: 0,
    });

    server.setMode('unavailable');
    await expect(createGitAdapter(conn()).validate()).rejects.toMatchObject({
      code: 'provider_unavailable',
    });

    server.setMode('hang');
    await expect(createGitAdapter(conn(), { timeoutMs: 500 }).validate()).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
  });

  it('reads repositories and tags with ls-remote, the token only in the env', async () => {
    const path = await server.createRepo('acme', 'second-app-console');
    const commit = await seedTags(path, ['second-app-v1', 'second-app-v2']);
    const adapter = createGitAdapter(conn());

    expect(await adapter.getRepo('second-app-console')).toEqual({
      owner: 'acme',
      name: 'second-app-console',
      htmlUrl: `${server.baseUrl}/acme/second-app-console.git`,
      defaultBranch: 'main',
      private: true,
      topics: null,
      // Plain git keeps no time of a last change, so the catalog could never trust it.
      changedAt: null,
    });
    expect(await adapter.getRepo('missing')).toBeNull();
    expect(await adapter.listTags('second-app-console')).toEqual([
      { name: 'second-app-v1', commitSha: commit },
      { name: 'second-app-v2', commitSha: commit },
    ]);

    expect(spawns.length).toBeGreaterThan(0);
    for (const spawn of spawns) {
      expect(spawn.argv.join(' ')).not.toContain(TOKEN);
      expect(spawn.argv).toContain('ls-remote');
    }
  });

  it('answers an existing repository on create, and a clear error for a missing one', async () => {
    await server.createRepo('acme', 'second-app-empty');
    const adapter = createGitAdapter(conn());

    expect(
      await adapter.createRepo({ name: 'second-app-empty', visibility: 'private' }),
    ).toMatchObject({
      name: 'second-app-empty',
      defaultBranch: null,
    });
    await expect(
      adapter.createRepo({ name: 'second-app-new', visibility: 'private' }),
    ).rejects.toMatchObject({
      code: 'provider_error',
      message: expect.stringContaining('create acme/second-app-new.git on the server first'),
    });
    await expect(adapter.listTags('second-app-new')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('answers a repository that already holds app versions as taken, whatever else it holds', async () => {
    await seedTags(await server.createRepo('acme', 'second-app-other'), ['second-app-v1']);
    const adapter = createGitAdapter(conn());

    await expect(
      adapter.createRepo({ name: 'second-app-other', visibility: 'private' }),
    ).rejects.toMatchObject({ code: 'repo_name_taken' });
  });

  it('gives git the remote with the credential form, and a user from a user:password token', () => {
    expect(createGitAdapter(conn()).gitRemote('app')).toEqual({
      url: `${server.baseUrl}/acme/app.git`,
      username: 'git',
      password: TOKEN,
    });
    expect(createGitAdapter(conn({ token: `alice:${TOKEN}` })).gitRemote('app')).toMatchObject({
      username: 'alice',
      password: TOKEN,
    });
    expect(() => createGitAdapter(conn()).gitRemote('../other')).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
  });

  it('answers not_supported for listing, file reads and archives, and false for topics', async () => {
    const adapter = createGitAdapter(conn());
    await expect(adapter.readFile('app', 'second-app.json', 'main')).rejects.toMatchObject({
      code: 'not_supported',
    });
    await expect(adapter.downloadArchive('app', 'second-app-v1')).rejects.toMatchObject({
      code: 'not_supported',
    });
    const iterate = async () => {
      for await (const repo of adapter.listRepos()) return repo;
    };
    await expect(iterate()).rejects.toMatchObject({ code: 'not_supported' });
    expect(await adapter.addTopic('app', 'second-app')).toBe(false);
  });

  it.each([
    ['ext::sh -c touch% /tmp/pwned'],
    ['ext::git-upload-pack'],
    ['file:///srv/git'],
    ['ftp://example.com/git'],
    ['http://example.com/git'],
    ['http://10.0.0.1/git'],
    [`https://user:${TOKEN}@example.com/git`],
    ['https://token@example.com/git'],
    ['https://example.com/git\r\nX-Evil: 1'],
    ['https://example.com/git\n'],
    ['https://example.com/ git'],
    ['https://example.com/git?x=1'],
    [''],
  ])('refuses the base URL %j with invalid_remote', (baseUrl) => {
    let error: unknown;
    try {
      createGitAdapter(conn({ baseUrl }));
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'invalid_remote' });
    expect(String((error as Error).message)).not.toContain(TOKEN);
  });

  it('accepts https anywhere and http to loopback only', () => {
    expect(checkRemoteBaseUrl('https://git.example.com/scm').hostname).toBe('git.example.com');
    expect(checkRemoteBaseUrl('http://127.0.0.1:8080').port).toBe('8080');
    expect(checkRemoteBaseUrl('http://127.9.9.9/').hostname).toBe('127.9.9.9');
    expect(checkRemoteBaseUrl('http://localhost:3000/git').hostname).toBe('localhost');
    expect(checkRemoteBaseUrl('http://[::1]:3000/git').hostname).toBe('[::1]');
    expect(() => checkRemoteBaseUrl('http://127.0.0.1.example.com/')).toThrow(
      expect.objectContaining({ code: 'invalid_remote' }),
    );
    expect(() => createGitAdapter(conn({ baseUrl: null }))).toThrow(
      expect.objectContaining({ code: 'invalid_remote' }),
    );
  });
});
