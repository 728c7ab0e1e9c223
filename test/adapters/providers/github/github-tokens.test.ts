import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGitHubAdapter } from '../../../../adapters/providers/github/github-adapter.js';
import { resolveGitHubEndpoints } from '../../../../adapters/providers/github/github-endpoints.js';
import type { ProviderConnection } from '../../../../adapters/providers/provider-port.js';
import { startGitHubDouble, type GitHubDouble } from '../../../doubles/github/github-double.js';
import { CANARY, expectSafeError, failure } from '../provider-contract.js';

const CLASSIC = `ghp_${CANARY}classicTokenValue0001`;
const FINE = `github_pat_${CANARY}fineGrainedValue0002`;
const FINE_NO_ADMIN = `github_pat_${CANARY}fineNoAdminValue0003`;
const PUBLIC_ONLY = `ghp_${CANARY}publicOnlyValue000004`;
const NO_REPO = `ghp_${CANARY}noRepoScopeValue00005`;

describe('GitHub token kinds and credential conventions', () => {
  let double: GitHubDouble;

  const adapter = (token: string, overrides: Partial<ProviderConnection> = {}) =>
    createGitHubAdapter(
      { provider: 'github', baseUrl: null, owner: 'acme', ownerType: 'org', token, ...overrides },
      { dotComEndpoints: { api: double.urls.api, web: double.urls.web }, maxRateLimitWaitMs: 0 },
    );

  beforeEach(async () => {
    double = await startGitHubDouble('dotcom');
    double.addOwner('acme', 'org');
    double.addToken({ value: CLASSIC, login: 'mona' });
    double.addToken({ value: FINE, login: 'hubot', kind: 'fine-grained' });
    double.addToken({
      value: FINE_NO_ADMIN,
      login: 'hubot2',
      kind: 'fine-grained',
      scopes: ['contents=write', 'metadata=read'],
    });
    double.addToken({ value: PUBLIC_ONLY, login: 'pat', scopes: ['public_repo'] });
    double.addToken({ value: NO_REPO, login: 'nora', scopes: ['read:org'] });
  });

  afterEach(async () => {
    await double.close();
  });

  it('reads a classic token scopes from X-OAuth-Scopes and reports nothing missing with repo', async () => {
    const report = await adapter(CLASSIC).validate();

    expect(report).toEqual({ account: 'mona', missingPermissions: [] });
  });

  it('names the repo scope when a classic token has only public_repo', async () => {
    const report = await adapter(PUBLIC_ONLY).validate();

    expect(report.missingPermissions).toHaveLength(1);
    expect(report.missingPermissions[0]).toContain('"repo"');
    expect(report.missingPermissions[0]).toContain('public_repo');
  });

  it('says plainly that a fine-grained token permissions cannot be read, naming what is needed', async () => {
    const report = await adapter(FINE).validate();

    expect(report.account).toBe('hubot');
    expect(report.missingPermissions).toHaveLength(1);
    expect(report.missingPermissions[0]).toMatch(/does not show which permissions/);
    expect(report.missingPermissions[0]).toContain('Administration (read and write)');
    expect(report.missingPermissions[0]).toContain('Contents (read and write)');
  });

  it('creates with a fine-grained token that has Administration write', async () => {
    const repo = await adapter(FINE).createRepo({ name: 'second-app-fg', visibility: 'private' });

    expect(repo).toMatchObject({ owner: 'acme', name: 'second-app-fg', private: true });
  });

  it('turns the 403 a fine-grained token without Administration gets into insufficient_permissions', async () => {
    const error = await failure(
      adapter(FINE_NO_ADMIN).createRepo({ name: 'second-app-x', visibility: 'private' }),
    );

    expectSafeError(error, 'insufficient_permissions');
    expect(error.providerStatus).toBe(403);
  });

  it('tells a classic token 404 on organization creation apart from a missing organization', async () => {
    const denied = await failure(
      adapter(NO_REPO).createRepo({ name: 'x1', visibility: 'private' }),
    );
    expectSafeError(denied, 'insufficient_permissions');
    expect(denied.message).toContain('"repo" scope');

    const missing = await failure(
      adapter(CLASSIC, { owner: 'ghost-org' }).createRepo({ name: 'x2', visibility: 'private' }),
    );
    expectSafeError(missing, 'owner_not_found');

    const lookups = double.requests.filter((r) => r.path === '/orgs/acme' && r.method === 'GET');
    expect(lookups).toHaveLength(1);
  });

  it('refuses to create under a user the token does not belong to', async () => {
    double.addOwner('someone-else', 'user');

    const report = await adapter(CLASSIC, { owner: 'someone-else', ownerType: 'user' }).validate();
    expect(report.missingPermissions.join(' ')).toContain('belongs to mona');

    const error = await failure(
      adapter(CLASSIC, { owner: 'someone-else', ownerType: 'user' }).createRepo({
        name: 'x',
        visibility: 'private',
      }),
    );
    expectSafeError(error, 'insufficient_permissions');
  });

  it('gives git the web host, not the API host, with x-access-token as the user', () => {
    const remote = adapter(CLASSIC).gitRemote('second-app-one');

    expect(remote).toEqual({
      url: `${double.urls.web}/acme/second-app-one.git`,
      username: 'x-access-token',
      password: CLASSIC,
    });
    expect(remote.url.startsWith(double.urls.api)).toBe(false);
  });

  it('follows the tarball redirect to the archive host without sending the token there', async () => {
    await double.seedRepo('acme', 'second-app-tar', { files: { a: 'a' }, tags: ['second-app-v1'] });

    const stream = await adapter(CLASSIC).downloadArchive('second-app-tar', 'second-app-v1');
    for await (const chunk of stream) expect(chunk).toBeDefined();

    const archive = double.requests.filter((r) => r.kind === 'archive');
    expect(archive.map((r) => r.status)).toEqual([200]);
    expect(double.archiveRequestsWithAuthorization).toBe(0);
  });
});

describe('GitHub endpoints from baseUrl', () => {
  it('uses github.com when no baseUrl is set', () => {
    expect(resolveGitHubEndpoints(null)).toEqual({
      api: 'https://api.github.com',
      web: 'https://github.com',
    });
  });

  it('takes an Enterprise Server API root and derives its web host', () => {
    expect(resolveGitHubEndpoints('https://ghe.example.com/api/v3/')).toEqual({
      api: 'https://ghe.example.com/api/v3',
      web: 'https://ghe.example.com',
    });
  });

  it('accepts a bare Enterprise host and an api. host', () => {
    expect(resolveGitHubEndpoints('https://ghe.example.com')).toEqual({
      api: 'https://ghe.example.com/api/v3',
      web: 'https://ghe.example.com',
    });
    expect(resolveGitHubEndpoints('https://api.acme.ghe.com')).toEqual({
      api: 'https://api.acme.ghe.com',
      web: 'https://acme.ghe.com',
    });
  });
});

describe('GitHub secondary rate limits', () => {
  it('reads a bare 403 whose message names a secondary limit as rate_limited, a minute out', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;
      const before = Date.now();
      const error = await failure(
        createGitHubAdapter(
          { provider: 'github', baseUrl: base, owner: 'acme', ownerType: 'org', token: CLASSIC },
          { maxRateLimitWaitMs: 0 },
        ).getRepo('x'),
      );

      expectSafeError(error, 'rate_limited');
      expect(error.retryAt).toBeGreaterThanOrEqual(before + 60_000);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
