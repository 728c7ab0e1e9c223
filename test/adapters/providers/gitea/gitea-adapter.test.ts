import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGiteaAdapter } from '../../../../adapters/providers/gitea/gitea-adapter.js';
import { missingScopesFrom } from '../../../../adapters/providers/gitea/gitea-scopes.js';
import type { ProviderConnection } from '../../../../adapters/providers/provider-port.js';
import type { ProviderDouble } from '../../../doubles/provider-double.js';
import { startGiteaDouble } from '../../../doubles/gitea/gitea-double.js';
import { expectSafeError, failure, pushSourceMain } from '../provider-contract.js';
import { commitIn, tarEntries } from '../../../support/git-fixtures.js';

const run = promisify(execFile);
const CANARY = 'CANARYgt4q';
const TOKEN = `gta_${CANARY}_full`;
const ORG = 'acme';

describe('Gitea adapter', () => {
  let double: ProviderDouble;

  const connect = (overrides: Partial<ProviderConnection> = {}, fetchImpl?: typeof fetch) =>
    createGiteaAdapter(
      {
        provider: 'gitea',
        baseUrl: double.baseUrl,
        owner: ORG,
        ownerType: 'org',
        token: TOKEN,
        ...overrides,
      },
      { timeoutMs: 5_000, maxRateLimitWaitMs: 3_000, fetch: fetchImpl },
    );

  beforeEach(async () => {
    double = await startGiteaDouble();
    double.addOwner(ORG, 'org');
    double.addToken({ value: TOKEN, login: 'alice' });
  });

  afterEach(async () => {
    await double.close();
  });

  describe('token and scopes', () => {
    it("sends the token in Gitea's `token` authorization form", async () => {
      const schemes: string[] = [];
      const recording: typeof fetch = (input, init) => {
        schemes.push(new Headers(init?.headers).get('authorization')?.split(' ')[0] ?? 'none');
        return fetch(input, init);
      };

      await connect({}, recording).getRepo('anything');

      expect(schemes).toEqual(['token']);
    });

    it('names each scope a token lacks, read from the 403 messages, and creates nothing', async () => {
      double.addToken({
        value: `${TOKEN}-narrow`,
        login: 'bob',
        scopes: ['read:user', 'read:organization', 'read:repository'],
      });

      const report = await connect({ token: `${TOKEN}-narrow` }).validate();

      expect(report.account).toBe('bob');
      expect(report.missingPermissions).toEqual([
        'Token scope write:organization, to create repositories and push',
        'Token scope write:repository, to push versions and set topics',
      ]);
      let listed = 0;
      for await (const repo of connect().listRepos()) listed += repo ? 1 : 0;
      expect(listed).toBe(0);
    });

    it('reports a token that may not read the account, with no account', async () => {
      double.addToken({
        value: `${TOKEN}-nouser`,
        login: 'carol',
        scopes: ['write:organization', 'write:repository'],
      });

      const report = await connect({ token: `${TOKEN}-nouser` }).validate();

      expect(report.account).toBeNull();
      expect(report.missingPermissions).toContain('Token scope read:user, to read the account');
    });

    it('names a missing organization permission apart from scopes', async () => {
      double.addToken({
        value: `${TOKEN}-member`,
        login: 'dave',
        access: 'read',
        scopes: ['write:user', 'write:organization', 'write:repository'],
      });

      const report = await connect({ token: `${TOKEN}-member` }).validate();

      expect(report.missingPermissions).toEqual([
        expect.stringMatching(/^Permission to create repositories in organization acme/),
      ]);
    });

    it('reads a 403 without a scope list as a permission, not a scope', () => {
      const body = Buffer.from(
        JSON.stringify({
          message: 'Given user is not allowed to create repository in organization acme.',
        }),
      );

      expect(missingScopesFrom(body, 'to create')).toEqual([
        expect.stringMatching(/^A permission Gitea did not name/),
      ]);
    });
  });

  describe('owners', () => {
    it('maps the 422 Gitea answers for an unknown organization on create to owner_not_found', async () => {
      const error = await failure(
        connect({ owner: 'ghost-org' }).createRepo({ name: 'x', visibility: 'private' }),
      );

      expectSafeError(error, 'owner_not_found');
      expect(error.providerStatus).toBe(422);
    });

    it('creates a user repository only as the token user, and says so otherwise', async () => {
      double.addOwner('someone-else', 'user');

      const mine = await connect({ owner: 'alice', ownerType: 'user' }).createRepo({
        name: 'second-app-a',
        visibility: 'private',
      });
      const error = await failure(
        connect({ owner: 'someone-else', ownerType: 'user' }).createRepo({
          name: 'second-app-b',
          visibility: 'private',
        }),
      );

      expect(mine).toMatchObject({
        owner: 'alice',
        name: 'second-app-a',
        private: true,
        defaultBranch: null,
      });
      expectSafeError(error, 'insufficient_permissions');
      expect(double.repoState('someone-else', 'second-app-b')).toBeNull();
      expect(double.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    });

    it('uses the owner login for git on a user owner and any name on an organization', () => {
      expect(connect({ owner: 'alice', ownerType: 'user' }).gitRemote('r')).toEqual({
        url: `${double.baseUrl}/alice/r.git`,
        username: 'alice',
        password: TOKEN,
      });
      expect(connect().gitRemote('r').username).toBe('second-gateway');
    });
  });

  describe('topics and listing', () => {
    it('adds the topic through PUT and refuses a topic Gitea calls invalid', async () => {
      await double.seedRepo(ORG, 'second-app-t');

      expect(await connect().addTopic('second-app-t', 'second-app')).toBe(true);
      const error = await failure(connect().addTopic('second-app-t', 'Not A Topic!'));

      expect(double.repoState(ORG, 'second-app-t')?.topics).toEqual(['second-app']);
      expectSafeError(error, 'provider_error');
      expect(error.providerStatus).toBe(422);
    });

    it('searches by topic with the owner id and drops repositories whose topic only starts alike', async () => {
      await double.seedRepo(ORG, 'second-app-1', { topics: ['second-app'] });
      await double.seedRepo(ORG, 'lookalike', { topics: ['second-app-extra'] });
      double.addOwner('other-org', 'org');
      await double.seedRepo('other-org', 'second-app-2', { topics: ['second-app'] });

      const names: string[] = [];
      for await (const repo of connect().listRepos({ topic: 'second-app' })) names.push(repo.name);

      expect(names).toEqual(['second-app-1']);
      const search = double.requests.find((r) => r.path === '/api/v1/repos/search');
      const query = new URLSearchParams(search?.query);
      expect([query.get('q'), query.get('topic'), query.get('exclusive')]).toEqual([
        'second-app',
        'true',
        'true',
      ]);
      expect(query.get('uid')).toMatch(/^\d+$/);
    });

    it('follows the Link header page after page', async () => {
      double.setMaxPageSize(4);
      for (let i = 0; i < 9; i += 1) await double.seedRepo(ORG, `second-app-${i}`);

      const names: string[] = [];
      for await (const repo of connect().listRepos()) names.push(repo.name);

      expect(names).toHaveLength(9);
      const pages = double.requests.filter((r) => r.path === `/api/v1/orgs/${ORG}/repos`);
      expect(pages.map((r) => new URLSearchParams(r.query).get('page'))).toEqual(['1', '2', '3']);
    });
  });

  describe('files, archives and git', () => {
    beforeEach(async () => {
      await double.seedRepo(ORG, 'second-app-f', {
        files: { 'second-app.json': '{"a":1}', 'src/x.ts': 'x' },
        tags: ['second-app-v1', 'second-app-v2'],
      });
    });

    it('reads the manifest with the blob ETag and gets 304 for it', async () => {
      const sha = (
        await run('git', [
          '--git-dir',
          double.gitRepoPath(ORG, 'second-app-f'),
          'rev-parse',
          'main:second-app.json',
        ])
      ).stdout.trim();

      const first = await connect().readFile('second-app-f', 'second-app.json', 'second-app-v1');
      const again = await connect().readFile(
        'second-app-f',
        'second-app.json',
        'second-app-v1',
        `"${sha}"`,
      );

      expect(first).toEqual({ status: 'ok', content: Buffer.from('{"a":1}'), etag: `"${sha}"` });
      expect(again).toEqual({ status: 'not_modified' });
      expect(double.requests.at(-1)?.status).toBe(304);
    });

    it('streams the archive with the repository name as its one top folder', async () => {
      const entries = await tarEntries(
        await connect().downloadArchive('second-app-f', 'second-app-v2'),
      );

      expect(new Set(entries.map((path) => path.split('/')[0]))).toEqual(new Set(['second-app-f']));
      expect(entries).toContain('second-app-f/src/x.ts');
    });

    it('pushes as the owner login on a user owner, with the token as the password', async () => {
      const adapter = connect({ owner: 'alice', ownerType: 'user' });
      await adapter.createRepo({ name: 'second-app-push', visibility: 'private' });
      const remote = adapter.gitRemote('second-app-push');
      const work = await mkdtemp(join(tmpdir(), 'gitea-git-'));
      try {
        const sha = await commitIn(join(work, 'src'));

        await pushSourceMain(remote, work);

        const onServer = await run('git', [
          '--git-dir',
          double.gitRepoPath('alice', 'second-app-push'),
          'rev-parse',
          'main',
        ]);
        expect(onServer.stdout.trim()).toBe(sha);
        const users = new Set(
          double.requests.filter((r) => r.kind === 'git' && r.status === 200).map((r) => r.gitUser),
        );
        expect([...users]).toEqual(['alice']);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  });

  describe('safety', () => {
    it('keeps the token out of a scope refusal and a refused token alike', async () => {
      double.addToken({ value: `${TOKEN}-none`, login: 'erin', scopes: [] });

      const refused = await failure(connect({ token: `${TOKEN}-bad` }).getRepo('x'));
      const scoped = await failure(connect({ token: `${TOKEN}-none` }).getRepo('x'));

      expectSafeError(refused, 'auth_failed');
      expectSafeError(scoped, 'insufficient_permissions');
      for (const error of [refused, scoped]) expect(String(error.stack)).not.toContain(CANARY);
    });

    it('needs the instance address and refuses plain http to another host', () => {
      expect(() => connect({ baseUrl: null })).toThrow(
        expect.objectContaining({ code: 'invalid_remote' }),
      );
      expect(() => connect({ baseUrl: 'http://gitea.example.com' })).toThrow(
        expect.objectContaining({ code: 'invalid_remote' }),
      );
    });
  });
});
