import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFetchClient, type FetchClient } from '../../../adapters/providers/fetch-client.js';
import type { RetryPolicy } from '../../../adapters/providers/rate-limit.js';
import { expectSafeError, failure } from './provider-contract.js';

const CANARY = 'CANARYfc8k';
const POLICY: RetryPolicy = {
  docs: 'https://example.test/limits',
  maxAttempts: 2,
  backoffBaseMs: 10,
  backoffMaxMs: 10,
  rateLimitFallbackMs: 1_000,
  resetMarginMs: 0,
  retryReadsOn: ['rate_limited'],
  retryWritesOn: ['rate_limited'],
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('fetch client', () => {
  const servers: Server[] = [];

  const serve = async (handler: Handler) => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const client = (timeoutMs = 2_000): FetchClient =>
    createFetchClient({
      providerName: 'Example',
      authorization: `Bearer ${CANARY}`,
      secrets: [CANARY],
      policy: POLICY,
      timeoutMs,
      maxRateLimitWaitMs: 0,
    });

  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('follows a download redirect to another origin without the credential', async () => {
    const seen: (string | undefined)[] = [];
    const cdn = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.end('archive bytes');
    });
    const api = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(302, { location: `${cdn}/blob` }).end();
    });

    const answer = await client().request({
      url: new URL(`${api}/get`),
      action: 'downloading',
      followRedirects: true,
    });

    expect(answer.body.toString()).toBe('archive bytes');
    expect(seen).toEqual([`Bearer ${CANARY}`, undefined]);
  });

  it('refuses to follow a redirect to plain http off this machine', async () => {
    const api = await serve((_req, res) =>
      res.writeHead(302, { location: 'http://downloads.example.com/x' }).end(),
    );

    const error = await failure(
      client().request({
        url: new URL(`${api}/get`),
        action: 'downloading',
        followRedirects: true,
      }),
    );

    expectSafeError(error, 'provider_error');
  });

  it('ends a streamed body that goes silent with provider_unavailable and status 0', async () => {
    const api = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('first chunk');
    });

    const answer = await client(300).stream({
      url: new URL(`${api}/archive`),
      action: 'downloading',
    });
    const error = await new Promise<unknown>((resolve) => {
      answer.body.on('error', resolve);
      answer.body.resume();
    });

    expect(error).toMatchObject({ code: 'provider_unavailable', providerStatus: 0 });
  });

  it('keeps the status, and no secret, in the error of an unexpected answer', async () => {
    const api = await serve((_req, res) => res.writeHead(418).end(`teapot ${CANARY}`));

    const error = await failure(
      client().request({ url: new URL(`${api}/x?token=${CANARY}`), action: `reading ${CANARY}` }),
    );

    expectSafeError(error, 'provider_error');
    expect(error.providerStatus).toBe(418);
    expect(error.message).not.toContain('teapot');
  });

  it('hands back a status the caller expects instead of throwing', async () => {
    const api = await serve((_req, res) => res.writeHead(404).end('{}'));

    const answer = await client().request({
      url: new URL(`${api}/x`),
      action: 'reading',
      expect: [404],
    });

    expect(answer.status).toBe(404);
  });
});
