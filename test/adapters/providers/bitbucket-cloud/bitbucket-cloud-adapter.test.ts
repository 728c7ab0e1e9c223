import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createBitbucketCloudAdapter } from '../../../../adapters/providers/bitbucket-cloud/bitbucket-cloud-adapter.js';
import { parseBitbucketCloudToken } from '../../../../adapters/providers/bitbucket-cloud/bitbucket-cloud-credential.js';
import type { ProviderConnection } from '../../../../adapters/providers/provider-port.js';
import {
  startBitbucketCloudDouble,
  type BitbucketCloudDouble,
} from '../../../doubles/bitbucket-cloud/bitbucket-cloud-double.js';
import {
  expectSafeError,
  failure,
  gitWithCredential,
  pushSourceMain,
} from '../provider-contract.js';
import { commitIn, tarEntries } from '../../../support/git-fixtures.js';

const run = promisify(execFile);
const CANARY = 'CANARYbbc7x';
const API_SECRET = `ATATT-${CANARY}-api`;
const ACCESS_SECRET = `ATCTT-${CANARY}-ws`;
const REPO_SECRET = `ATCTT-${CANARY}-repo`;
const WS = 'acme';

describe('Bitbucket Cloud adapter', () => {
  let double: BitbucketCloudDouble;

  const connect = (
    token: string,
    overrides: Partial<ProviderConnection> = {},
    fetchImpl?: typeof fetch,
  ) =>
    createBitbucketCloudAdapter(
      {
        provider: 'bitbucket-cloud',
        baseUrl: null,
        owner: WS,
        ownerType: 'org',
        token,
        ...overrides,
      },
      {
        apiUrl: double.apiUrl,
        webUrl: double.webUrl,
        timeoutMs: 5_000,
        maxRateLimitWaitMs: 3_000,
        fetch: fetchImpl,
      },
    );

  beforeEach(async () => {
    double = await startBitbucketCloudDouble();
    double.addOwner(WS, 'org');
    double.addToken({ value: API_SECRET, login: 'alice', kind: 'api-token' });
    double.addToken({
      value: ACCESS_SECRET,
      login: 'acme-bot',
      kind: 'access-token',
      resource: WS,
    });
    double.addToken({
      value: REPO_SECRET,
      login: 'repo-bot',
      kind: 'repository-access-token',
      resource: `${WS}/one`,
    });
  });

  afterEach(async () => {
    await double.close();
  });

  describe('token kinds', () => {
    it('reads email:token as an API token and anything else as an access token', () => {
      expect(parseBitbucketCloudToken('alice@example.test:abc:def')).toEqual({
        kind: 'api-token',
        email: 'alice@example.test',
        secret: 'abc:def',
      });
      expect(parseBitbucketCloudToken('ATCTT-xyz')).toEqual({
        kind: 'access-token',
        secret: 'ATCTT-xyz',
      });
      expect(parseBitbucketCloudToken('no-email:secret')).toEqual({
        kind: 'access-token',
        secret: 'no-email:secret',
      });
    });

    it('sends an API token as Basic with the email and an access token as Bearer', async () => {
      const schemes: string[] = [];
      const recording: typeof fetch = (input, init) => {
        schemes.push(new Headers(init?.headers).get('authorization')?.split(' ')[0] ?? 'none');
        return fetch(input, init);
      };

      await connect(`alice@example.test:${API_SECRET}`, {}, recording).validate();
      await connect(ACCESS_SECRET, {}, recording).validate();

      expect(schemes).toEqual(['Basic', 'Basic', 'Bearer']);
    });

    it('gives git the static user names Atlassian documents for each kind', () => {
      expect(connect(`alice@example.test:${API_SECRET}`).gitRemote('one')).toEqual({
        url: `${double.webUrl}/${WS}/one.git`,
        username: 'x-bitbucket-api-token-auth',
        password: API_SECRET,
      });
      expect(connect(ACCESS_SECRET).gitRemote('one')).toMatchObject({
        username: 'x-token-auth',
        password: ACCESS_SECRET,
      });
    });

    it('validates a workspace access token without an account, as it acts as no user', async () => {
      const report = await connect(ACCESS_SECRET).validate();

      expect(report).toEqual({ account: null, missingPermissions: [] });
      expect(double.requests.map((r) => r.path)).toEqual([`/2.0/workspaces/${WS}`]);
    });

    it('says a repository access token cannot create repositories in the workspace', async () => {
      const report = await connect(REPO_SECRET).validate();

      expect(report.missingPermissions).toHaveLength(1);
      expect(report.missingPermissions[0]).toMatch(/workspace access token or an API token/);
    });

    it('names the scope an API token lacks from x-oauth-scopes', async () => {
      double.addToken({
        value: `${API_SECRET}-noadmin`,
        login: 'bob',
        scopes: ['read:user:bitbucket', 'read:repository:bitbucket', 'write:repository:bitbucket'],
      });

      const report = await connect(`bob@example.test:${API_SECRET}-noadmin`).validate();

      expect(report.account).toBe('bob');
      expect(report.missingPermissions).toEqual([
        expect.stringMatching(/admin:repository:bitbucket/),
      ]);
    });
  });

  describe('repositories', () => {
    it('creates with an access token and pushes and fetches through git as x-token-auth', async () => {
      const adapter = connect(ACCESS_SECRET);
      await adapter.createRepo({ name: 'second-app-bot', visibility: 'private' });
      const work = await mkdtemp(join(tmpdir(), 'bbc-git-'));
      try {
        const remote = adapter.gitRemote('second-app-bot');
        const sha = await commitIn(join(work, 'src'));

        await pushSourceMain(remote, work);
        const listed = await gitWithCredential(remote, work, ['ls-remote', remote.url]);

        expect(listed).toContain(`${sha}\trefs/heads/main`);
        const gitUsers = new Set(
          double.requests.filter((r) => r.kind === 'git' && r.status === 200).map((r) => r.gitUser),
        );
        expect([...gitUsers]).toEqual(['x-token-auth']);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });

    it('refuses a push with a read-only access token', async () => {
      double.addToken({
        value: `${ACCESS_SECRET}-ro`,
        login: 'ro-bot',
        kind: 'access-token',
        access: 'read',
      });
      await double.seedRepo(WS, 'second-app-ro', { files: { a: 'a' } });
      const adapter = connect(`${ACCESS_SECRET}-ro`);
      const work = await mkdtemp(join(tmpdir(), 'bbc-git-'));
      try {
        const remote = adapter.gitRemote('second-app-ro');
        await commitIn(join(work, 'src'));

        await expect(
          gitWithCredential(remote, work, [
            '--git-dir',
            join(work, 'src', '.git'),
            'push',
            remote.url,
            'main:refs/heads/x',
          ]),
        ).rejects.toThrow(/403|denied|error/i);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });

    it('answers owner_not_found when listing an unknown workspace', async () => {
      const adapter = connect(ACCESS_SECRET, { owner: 'nowhere' });

      const error = await failure(
        (async () => {
          for await (const repo of adapter.listRepos()) void repo;
        })(),
      );

      expectSafeError(error, 'owner_not_found');
      expect(error.message).not.toContain(CANARY);
    });

    it('reports no topics and adds none, as Bitbucket Cloud has no topics', async () => {
      await double.seedRepo(WS, 'second-app-t');
      const adapter = connect(ACCESS_SECRET);

      expect(adapter.supportsTopics).toBe(false);
      expect(await adapter.addTopic('second-app-t', 'second-app')).toBe(false);
      expect((await adapter.getRepo('second-app-t'))?.topics).toBeNull();
    });

    it('turns a refusal that asks for a project into a message an admin can act on', async () => {
      const answer = JSON.stringify({
        type: 'error',
        error: { message: `A project is required ${CANARY}` },
      });
      const stub: typeof fetch = async () => new Response(answer, { status: 400 });

      const error = await failure(
        connect(ACCESS_SECRET, {}, stub).createRepo({ name: 'x', visibility: 'private' }),
      );

      expectSafeError(error, 'provider_error');
      expect(error.message).toMatch(/needs a project in workspace acme/);
    });

    it('refuses a next-page link that leaves the API origin, without following it', async () => {
      const calls: string[] = [];
      const stub: typeof fetch = async (input) => {
        calls.push(String(input));
        const body = { values: [], next: 'https://elsewhere.example/2.0/repositories/acme?page=2' };
        return new Response(JSON.stringify(body), { status: 200 });
      };

      const error = await failure(
        (async () => {
          for await (const repo of connect(ACCESS_SECRET, {}, stub).listRepos()) void repo;
        })(),
      );

      expectSafeError(error, 'provider_error');
      expect(calls).toHaveLength(1);
    });
  });

  describe('archives', () => {
    it('downloads from the web host with one top folder <workspace>-<repo>-<short sha>', async () => {
      await double.seedRepo(WS, 'second-app-a', {
        files: { 'second-app.json': '{}', 'x/y.txt': 'y' },
        tags: ['second-app-v1'],
      });
      const sha = (
        await run('git', ['--git-dir', double.gitRepoPath(WS, 'second-app-a'), 'rev-parse', 'main'])
      ).stdout.trim();

      const entries = await tarEntries(
        await connect(ACCESS_SECRET).downloadArchive('second-app-a', 'second-app-v1'),
      );

      expect(new Set(entries.map((path) => path.split('/')[0]))).toEqual(
        new Set([`${WS}-second-app-a-${sha.slice(0, 12)}`]),
      );
      const archive = double.requests.filter((r) => r.kind === 'archive');
      expect(archive.map((r) => r.path)).toEqual([`/${WS}/second-app-a/get/second-app-v1.tar.gz`]);
      expect(double.requests.filter((r) => r.kind === 'api')).toHaveLength(0);
    });
  });

  describe('failures', () => {
    it('reports rate_limited a minute ahead when a 429 names no time', async () => {
      const stub: typeof fetch = async () =>
        new Response('Rate limit for this resource has been exceeded', { status: 429 });
      const before = Date.now();

      const error = await failure(connect(ACCESS_SECRET, {}, stub).getRepo('x'));

      expectSafeError(error, 'rate_limited');
      expect(error.retryAt).toBeGreaterThanOrEqual(before + 59_000);
      expect(error.retryAt).toBeLessThan(before + 120_000);
    });

    it('gives up on an API that accepts the connection and never answers', async () => {
      const silent: Server = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as AddressInfo).port;
      try {
        const adapter = createBitbucketCloudAdapter(
          {
            provider: 'bitbucket-cloud',
            baseUrl: null,
            owner: WS,
            ownerType: 'org',
            token: ACCESS_SECRET,
          },
          { apiUrl: `http://127.0.0.1:${port}/2.0`, webUrl: double.webUrl, timeoutMs: 300 },
        );

        const error = await failure(adapter.getRepo('x'));

        expectSafeError(error, 'provider_unavailable');
        expect(error.providerStatus).toBe(0);
        expect(error.message).toMatch(/timed out/);
      } finally {
        silent.close();
        await new Promise((resolve) => setImmediate(resolve));
      }
    });

    it('keeps the email, the token and its Basic form out of every error', async () => {
      const wrong = `alice@example.test:${API_SECRET}-wrong`;

      const error = await failure(connect(wrong).validate());

      expectSafeError(error, 'auth_failed');
      const text = JSON.stringify(error) + String(error.stack);
      expect(text).not.toContain(Buffer.from(wrong).toString('base64'));
    });

    it('refuses a base URL, and API hosts that are not https or loopback', () => {
      expect(() => connect(ACCESS_SECRET, { baseUrl: 'https://bitbucket.org' })).toThrow(
        /no base URL/,
      );
      expect(() =>
        createBitbucketCloudAdapter(
          {
            provider: 'bitbucket-cloud',
            baseUrl: null,
            owner: WS,
            ownerType: 'org',
            token: ACCESS_SECRET,
          },
          { apiUrl: 'http://api.example.com/2.0' },
        ),
      ).toThrow(expect.objectContaining({ code: 'invalid_remote' }));
    });
  });
});
