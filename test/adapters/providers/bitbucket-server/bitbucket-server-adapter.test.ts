import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBitbucketServerAdapter } from '../../../../adapters/providers/bitbucket-server/bitbucket-server-adapter.js';
import { parseBitbucketServerToken } from '../../../../adapters/providers/bitbucket-server/bitbucket-server-credential.js';
import {
  DEFAULT_BRANCH_REF,
  type GitRemote,
  type ProviderConnection,
  type RepoInfo,
} from '../../../../adapters/providers/provider-port.js';
import {
  startBitbucketServerDouble,
  type BitbucketServerDouble,
} from '../../../doubles/bitbucket-server/bitbucket-server-double.js';
import { expectSafeError, failure, gitWithCredential } from '../provider-contract.js';
import { commitIn, tarEntries } from '../../../support/git-fixtures.js';

const run = promisify(execFile);
const CANARY = 'CANARYbbs2m';
const PERSONAL = `NjQ3${CANARY}personal`;
const PROJECT_TOKEN = `NzE2${CANARY}project`;
const KEY = 'ACME';

describe('Bitbucket Data Center adapter', () => {
  let double: BitbucketServerDouble;
  let work: string;

  const connect = (overrides: Partial<ProviderConnection> = {}, fetchImpl?: typeof fetch) =>
    createBitbucketServerAdapter(
      {
        provider: 'bitbucket-server',
        baseUrl: double.baseUrl,
        owner: KEY,
        ownerType: 'org',
        token: `alice:${PERSONAL}`,
        ...overrides,
      },
      { timeoutMs: 5_000, maxRateLimitWaitMs: 3_000, fetch: fetchImpl },
    );

  beforeEach(async () => {
    double = await startBitbucketServerDouble();
    double.addOwner(KEY, 'org');
    double.addToken({ value: PERSONAL, login: 'alice' });
    double.addToken({
      value: PROJECT_TOKEN,
      login: 'project-acme-bot',
      kind: 'project',
      resource: KEY,
    });
    work = await mkdtemp(join(tmpdir(), 'bbs-test-'));
  });

  afterEach(async () => {
    await double.close();
    await rm(work, { recursive: true, force: true });
  });

  describe('token kinds', () => {
    it('reads username:token as a personal token and a bare token as a project token', () => {
      expect(parseBitbucketServerToken('alice:NjQ3abc')).toEqual({
        kind: 'personal',
        username: 'alice',
        secret: 'NjQ3abc',
      });
      expect(parseBitbucketServerToken('NzE2abc')).toEqual({ kind: 'project', secret: 'NzE2abc' });
    });

    it('sends every REST call as Bearer, whatever the kind', async () => {
      const schemes: string[] = [];
      const recording: typeof fetch = (input, init) => {
        schemes.push(new Headers(init?.headers).get('authorization')?.split(' ')[0] ?? 'none');
        return fetch(input, init);
      };

      await connect({}, recording).validate();
      await connect({ token: PROJECT_TOKEN }, recording).validate();

      expect(new Set(schemes)).toEqual(new Set(['Bearer']));
    });

    it('reports the service user of a project token from X-AUSERNAME', async () => {
      const report = await connect({ token: PROJECT_TOKEN }).validate();

      expect(report).toEqual({ account: 'project-acme-bot', missingPermissions: [] });
    });

    it('gives git Basic with the username for a personal token and Bearer for a project token', () => {
      expect(connect().gitRemote('app')).toEqual({
        url: `${double.baseUrl}/scm/acme/app.git`,
        username: 'alice',
        password: PERSONAL,
        authScheme: 'basic',
      });
      expect(connect({ token: PROJECT_TOKEN }).gitRemote('app')).toMatchObject({
        password: PROJECT_TOKEN,
        authScheme: 'bearer',
      });
    });

    it('pushes and fetches with a project token as Bearer, and Basic with it is refused', async () => {
      const adapter = connect({ token: PROJECT_TOKEN });
      await adapter.createRepo({ name: 'second-app-bot', visibility: 'private' });
      const remote = adapter.gitRemote('second-app-bot');
      const sha = await commitIn(join(work, 'src'));

      await gitWithBearer(remote, work, [
        '--git-dir',
        join(work, 'src', '.git'),
        'push',
        remote.url,
        'main',
      ]);
      const listed = await gitWithBearer(remote, work, ['ls-remote', remote.url]);

      expect(listed).toContain(`${sha}\trefs/heads/main`);
      await expect(gitWithCredential(remote, work, ['ls-remote', remote.url])).rejects.toThrow();
    });

    it('names the missing project admin permission of a read-only token', async () => {
      double.addToken({ value: `${PERSONAL}-ro`, login: 'reader', access: 'read' });

      const report = await connect({ token: `reader:${PERSONAL}-ro` }).validate();

      expect(report.account).toBe('reader');
      expect(report.missingPermissions).toEqual([
        expect.stringMatching(/^Project admin on project ACME/),
      ]);
    });
  });

  describe('personal projects', () => {
    it('creates under ~user, clones from /scm/~user, and lists there', async () => {
      const adapter = connect({ owner: 'alice', ownerType: 'user' });

      const repo = await adapter.createRepo({ name: 'second-app-mine', visibility: 'private' });
      const names: string[] = [];
      for await (const listed of adapter.listRepos()) names.push(listed.name);

      expect(repo).toMatchObject({ owner: 'alice', name: 'second-app-mine', private: true });
      expect(repo.htmlUrl).toBe(`${double.baseUrl}/users/alice/repos/second-app-mine/browse`);
      expect(adapter.gitRemote('second-app-mine').url).toBe(
        `${double.baseUrl}/scm/~alice/second-app-mine.git`,
      );
      expect(names).toEqual(['second-app-mine']);
      expect(double.requests.some((r) => r.path === '/rest/api/1.0/projects/~alice/repos')).toBe(
        true,
      );
    });

    it("says another user's personal project is not the token's to create in", async () => {
      double.addOwner('bob', 'user');

      const report = await connect({ owner: 'bob', ownerType: 'user' }).validate();

      expect(report.account).toBe('alice');
      expect(report.missingPermissions).toEqual([
        expect.stringMatching(/only bob can create repositories there/),
      ]);
    });
  });

  describe('listing, files and archives', () => {
    it('pages by nextPageStart until isLastPage', async () => {
      double.setMaxPageSize(3);
      for (let i = 0; i < 7; i += 1) await double.seedRepo(KEY, `second-app-${i}`);

      const names: string[] = [];
      for await (const repo of connect().listRepos()) names.push(repo.name);

      expect(names).toHaveLength(7);
      const starts = double.requests
        .filter((r) => r.path === `/rest/api/1.0/projects/${KEY}/repos`)
        .map((r) => new URLSearchParams(r.query).get('start'));
      expect(starts).toEqual(['0', '3', '6']);
    });

    it('reads raw files at a tag without conditional requests, as the endpoint has none', async () => {
      await double.seedRepo(KEY, 'second-app-f', {
        files: { 'second-app.json': '{"v":1}' },
        tags: ['second-app-v1'],
      });
      const sent: (string | null)[] = [];
      const recording: typeof fetch = (input, init) => {
        sent.push(new Headers(init?.headers).get('if-none-match'));
        return fetch(input, init);
      };

      const read = await connect({}, recording).readFile(
        'second-app-f',
        'second-app.json',
        'second-app-v1',
        '"x"',
      );

      expect(read).toEqual({ status: 'ok', content: Buffer.from('{"v":1}'), etag: null });
      expect(sent).toEqual([null]);
      expect(double.requests.at(-1)?.query).toBe('at=second-app-v1');
    });

    it('reads the default branch, which the listing does not name, by leaving out `at`', async () => {
      await double.seedRepo(KEY, 'second-app-d', { files: { 'second-app.json': '{"v":2}' } });
      const adapter = connect();

      const listed: RepoInfo[] = [];
      for await (const repo of adapter.listRepos()) listed.push(repo);
      expect(listed.map((repo) => repo.defaultBranch)).toEqual([DEFAULT_BRANCH_REF]);
      expect((await adapter.getRepo('second-app-d'))?.defaultBranch).toBe(DEFAULT_BRANCH_REF);

      const read = await adapter.readFile('second-app-d', 'second-app.json', DEFAULT_BRANCH_REF);
      expect(read).toEqual({ status: 'ok', content: Buffer.from('{"v":2}'), etag: null });
      expect(double.requests.at(-1)).toMatchObject({
        path: `/rest/api/1.0/projects/${KEY}/repos/second-app-d/raw/second-app.json`,
        query: '',
      });
    });

    it('asks for a tar.gz with the slug as prefix, giving one top folder', async () => {
      await double.seedRepo(KEY, 'second-app-a', {
        files: { 'a/b.txt': 'b' },
        tags: ['second-app-v3'],
      });

      const entries = await tarEntries(
        await connect().downloadArchive('second-app-a', 'second-app-v3'),
      );

      expect(new Set(entries.map((path) => path.split('/')[0]))).toEqual(new Set(['second-app-a']));
      const query = new URLSearchParams(double.requests.at(-1)?.query);
      expect([query.get('at'), query.get('format'), query.get('prefix')]).toEqual([
        'second-app-v3',
        'tar.gz',
        'second-app-a/',
      ]);
    });

    it('lists tags with their commits across pages', async () => {
      double.setMaxPageSize(2);
      await double.seedRepo(KEY, 'second-app-t', { files: { a: 'a' }, tags: ['v1', 'v2', 'v3'] });

      const tags = await connect().listTags('second-app-t');

      expect(tags.map((t) => t.name)).toEqual(['v1', 'v2', 'v3']);
      expect(new Set(tags.map((t) => t.commitSha)).size).toBe(1);
    });
  });

  describe('failures', () => {
    it('maps 409, 404, 403 and 401 to their codes and keeps every token out', async () => {
      await double.seedRepo(KEY, 'taken');
      double.addToken({ value: `${PERSONAL}-ro`, login: 'reader', access: 'read' });

      const taken = await failure(connect().createRepo({ name: 'taken', visibility: 'private' }));
      const missing = await failure(
        connect({ owner: 'NOPE' }).createRepo({ name: 'x', visibility: 'private' }),
      );
      const denied = await failure(
        connect({ token: `reader:${PERSONAL}-ro` }).createRepo({
          name: 'y',
          visibility: 'private',
        }),
      );
      const refused = await failure(connect({ token: `alice:${PERSONAL}-wrong` }).validate());

      expectSafeError(taken, 'repo_name_taken');
      expectSafeError(missing, 'owner_not_found');
      expectSafeError(denied, 'insufficient_permissions');
      expectSafeError(refused, 'auth_failed');
      expect([taken, missing, denied, refused].map((e) => e.providerStatus)).toEqual([
        409, 404, 403, 401,
      ]);
    });

    it('takes the retry time of a 429 from Retry-After, and waits it out within the bound', async () => {
      await double.seedRepo(KEY, 'second-app-rl');
      double.setMode('rate_limited_once');
      const before = Date.now();
      const impatient = createBitbucketServerAdapter(
        {
          provider: 'bitbucket-server',
          baseUrl: double.baseUrl,
          owner: KEY,
          ownerType: 'org',
          token: `alice:${PERSONAL}`,
        },
        { maxRateLimitWaitMs: 0 },
      );

      const error = await failure(impatient.getRepo('second-app-rl'));
      double.setMode('rate_limited_once');
      const repo = await connect().getRepo('second-app-rl');

      expectSafeError(error, 'rate_limited');
      expect(error.providerStatus).toBe(429);
      expect(error.retryAt).toBeGreaterThanOrEqual(before + 1_000);
      expect(error.retryAt).toBeLessThan(before + 10_000);
      expect(repo?.name).toBe('second-app-rl');
      expect(double.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    });
  });
});

/** Runs git with the credential as a Bearer header in this process's environment only. */
async function gitWithBearer(remote: GitRemote, cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: '/nonexistent',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${remote.url}.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Bearer ${remote.password}`,
    },
  });
  return stdout;
}
