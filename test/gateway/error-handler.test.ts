import type { DestinationStream } from 'pino';
import { GatewayError } from '../../core/errors.js';
import { createLogger } from '../../gateway/logger.js';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness.js';

let harness: GatewayHarness;
const lines: string[] = [];

beforeAll(async () => {
  const destination: DestinationStream = { write: (line: string) => void lines.push(line) };
  harness = await startGatewayHarness({
    logger: createLogger({ level: 'debug', destination }),
    deps: {
      routes: {
        user: [
          () => async (scope) => {
            scope.get('/api/v1/test/crash', async () => {
              throw new Error('database password hunter2 at https://admin:hunter2@db.internal');
            });
            scope.get('/api/v1/test/conflict', async () => {
              throw new GatewayError('no_draft');
            });
            scope.get('/api/v1/test/provider', async () => {
              throw new GatewayError('rate_limited', 'GitHub asked us to slow down.');
            });
          },
        ],
      },
    },
  });
});

afterAll(async () => {
  await harness.close();
});

test('an unexpected error answers 500 internal with the generic message; the detail goes to the log only', async () => {
  const response = await harness.request('/api/v1/test/crash', {
    token: await harness.userToken(),
  });
  expect(response.status).toBe(500);
  const body = await response.json();
  expect(body).toEqual({
    error: { code: 'internal', message: 'Something went wrong inside the gateway.' },
  });
  expect(JSON.stringify(body)).not.toContain('hunter2');

  const logged = lines.find((line) => line.includes('request failed: internal'));
  expect(logged).toBeDefined();
  expect(logged).toContain('database password');
  // The credential in the URL is scrubbed from the log line too.
  expect(logged).not.toContain('admin:hunter2@');
});

test('a GatewayError answers its registry status, code and message', async () => {
  const token = await harness.userToken();
  const conflict = await harness.request('/api/v1/test/conflict', { token });
  expect(conflict.status).toBe(409);
  expect(await conflict.json()).toEqual({
    error: { code: 'no_draft', message: 'The app has no draft build yet.' },
  });

  const limited = await harness.request('/api/v1/test/provider', { token });
  expect(limited.status).toBe(429);
  expect(await limited.json()).toEqual({
    error: { code: 'rate_limited', message: 'GitHub asked us to slow down.' },
  });
});

test('the access log line has the request id, workspace, route and outcome level', async () => {
  const token = await harness.userToken();
  await harness.request('/api/v1/test/conflict', {
    token,
    headers: { 'x-request-id': 'trace-42' },
  });
  const line = lines
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .find((entry) => entry.reqId === 'trace-42' && entry.status === 409);
  expect(line).toMatchObject({
    level: 30,
    ws: 'acme',
    route: '/api/v1/test/conflict',
    code: 'no_draft',
  });
  expect(JSON.stringify(line)).not.toContain(token);
  // The workspace comes from the request's child logger, once.
  const text = lines.find((entry) => entry.includes('"reqId":"trace-42"')) ?? '';
  expect(text.match(/"ws":/g)).toHaveLength(1);

  const crash = lines
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .find((entry) => entry.status === 500);
  expect(crash).toMatchObject({ level: 50 });
});
