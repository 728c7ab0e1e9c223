import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { createGitHubAdapter } from '../../../adapters/providers/github/github-adapter.js';
import { createGitLabAdapter } from '../../../adapters/providers/gitlab/gitlab-adapter.js';
import {
  codeForStatus,
  providerHttpError,
  providerNetworkError,
  retryAtFromHeaders,
  scrubSecrets,
} from '../../../adapters/providers/provider-errors.js';
import type { ProviderAdapter } from '../../../adapters/providers/provider-port.js';
import { GatewayError } from '../../../core/errors.js';

const CANARY = 'zzCANARYzz7q1';
const TOKEN = `ghp_${CANARY}TokenValueForLeakTests01`;

describe('provider error normalization', () => {
  const context = { provider: 'GitHub', action: 'creating repository acme/app' };

  it('maps statuses to the stable codes', () => {
    expect(codeForStatus(0)).toBe('provider_unavailable');
    expect(codeForStatus(401)).toBe('auth_failed');
    expect(codeForStatus(403)).toBe('insufficient_permissions');
    expect(codeForStatus(403, { 'x-ratelimit-remaining': '0' })).toBe('rate_limited');
    expect(codeForStatus(403, { 'retry-after': '30' })).toBe('rate_limited');
    expect(codeForStatus(429)).toBe('rate_limited');
    expect(codeForStatus(422)).toBe('provider_error');
    expect(codeForStatus(500)).toBe('provider_unavailable');
    expect(codeForStatus(503)).toBe('provider_unavailable');
  });

  it('reads the retry time from retry-after, x-ratelimit-reset and ratelimit-reset', () => {
    const now = 1_700_000_000_000;

    expect(retryAtFromHeaders({ 'retry-after': '30' }, now)).toBe(now + 30_000);
    expect(retryAtFromHeaders({ 'Retry-After': 'Wed, 15 Nov 2023 00:00:00 GMT' }, now)).toBe(
      Date.parse('Wed, 15 Nov 2023 00:00:00 GMT'),
    );
    expect(retryAtFromHeaders({ 'x-ratelimit-reset': '1700000060' }, now)).toBe(now + 60_000);
    expect(retryAtFromHeaders(new Headers({ 'ratelimit-reset': '1700000120' }), now)).toBe(
      now + 120_000,
    );
    // A small reset value is a delay in seconds (the IETF RateLimit header), not a date.
    expect(retryAtFromHeaders({ 'ratelimit-reset': '15' }, now)).toBe(now + 15_000);
    expect(retryAtFromHeaders({}, now)).toBeNull();
  });

  it('builds messages from fixed words and the context only, keeping the status and retry time', () => {
    const error = providerHttpError(context, 429, { 'retry-after': '5' }, { now: 1000 });

    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('rate_limited');
    expect(error.providerStatus).toBe(429);
    expect(error.retryAt).toBe(6000);
    expect(error.message).toBe(
      'GitHub rate limit was reached while creating repository acme/app (HTTP 429).',
    );
    expect(error.cause).toBeUndefined();
  });

  it('keeps only the system error code of a network failure, never its text', () => {
    const cause = Object.assign(new Error(`connect to https://x:${TOKEN}@h failed`), {
      code: 'ECONNREFUSED',
    });
    const error = providerNetworkError(context, new TypeError('fetch failed', { cause }));

    expect(error.code).toBe('provider_unavailable');
    expect(error.providerStatus).toBe(0);
    expect(error.message).toContain('ECONNREFUSED');
    expect(inspect(error, { depth: 8 })).not.toContain(CANARY);
  });

  it('scrubs named secrets, URL credentials, header values, query tokens and token shapes', () => {
    const text = [
      `token ${TOKEN} used`,
      `https://x-access-token:${TOKEN}@github.com/acme/app.git`,
      `Authorization: Bearer abcdefghijklmnop`,
      `PRIVATE-TOKEN: glpat-abcdefghijklmnopqrst`,
      `https://codeload.example/x.tar.gz?token=SECRETVALUE123&x=1`,
      'github_pat_11ABCDEFGHIJKLMNOPQRSTUV_more',
    ].join('\n');

    const out = scrubSecrets(text, [TOKEN]);

    expect(out).not.toContain(CANARY);
    expect(out).not.toContain('abcdefghijklmnop');
    expect(out).not.toContain('SECRETVALUE123');
    expect(out).not.toContain('github_pat_11');
    expect(out).toContain('https://***@github.com/acme/app.git');
    expect(out).toContain('x=1');
  });
});

// A provider that misbehaves on purpose: every answer echoes the credential it received, in
// the body and in headers, with the status the test asks for. Whatever the adapter does with
// such an answer, the canary must not come out in its error.
describe.each([
  ['GitHub', (baseUrl: string) => createGitHubAdapter(conn(`${baseUrl}/api/v3`), FAST)],
  ['GitLab', (baseUrl: string) => createGitLabAdapter(conn(baseUrl), FAST)],
])('%s errors never carry the token, a header or the provider body', (_name, make) => {
  let server: Server;
  let status = 500;
  let adapter: ProviderAdapter;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      const echoed = `${req.headers.authorization ?? ''} ${req.headers['private-token'] ?? ''}`;
      res
        .writeHead(status, {
          'content-type': 'application/json',
          'x-echo': echoed.trim(),
          location: `https://user:${TOKEN}@elsewhere.example/`,
        })
        .end(
          JSON.stringify({
            message: `Echo ${echoed} ${TOKEN}`,
            errors: [{ message: `name already exists ${TOKEN}` }],
          }),
        );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    adapter = make(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each([400, 401, 403, 404, 409, 422, 429, 500, 502, 503])(
    'answering %i through every call',
    async (code) => {
      status = code;
      const calls: (() => Promise<unknown>)[] = [
        () => adapter.validate(),
        () => adapter.createRepo({ name: 'second-app-x', visibility: 'private' }),
        () => adapter.getRepo('second-app-x'),
        () => adapter.addTopic('second-app-x', 'second-app'),
        () => adapter.readFile('second-app-x', 'second-app.json', 'second-app-v1'),
        () => adapter.downloadArchive('second-app-x', 'second-app-v1'),
        () => adapter.listTags('second-app-x'),
        async () => {
          for await (const repo of adapter.listRepos()) expect(repo).toBeDefined();
        },
      ];

      let failures = 0;
      for (const call of calls) {
        try {
          await call();
        } catch (error) {
          failures += 1;
          expect(error).toBeInstanceOf(GatewayError);
          const text = [
            (error as Error).message,
            JSON.stringify(error),
            inspect(error, { depth: 8, showHidden: true }),
          ].join('\n');
          expect(text).not.toContain(CANARY);
          expect(text).not.toMatch(/authorization['"]?\s*[:=]/i);
          expect(text).not.toContain('Echo');
          expect((error as GatewayError).providerStatus).toBe(code);
        }
      }
      // getRepo and readFile answer null / not_found for a 404; every other call must fail.
      expect(failures).toBeGreaterThanOrEqual(code === 404 ? calls.length - 2 : calls.length);
    },
  );
});

const FAST = { timeoutMs: 5_000, maxRateLimitWaitMs: 0 };

function conn(baseUrl: string) {
  return {
    provider: 'github' as const,
    baseUrl,
    owner: 'acme',
    ownerType: 'org' as const,
    token: TOKEN,
  };
}
