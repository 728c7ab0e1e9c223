import { EventEmitter } from 'node:events';
import { request as httpRequest } from 'node:http';
import { silentLogger } from '../../gateway/logger.js';
import { handleShutdownSignals } from '../../gateway/shutdown.js';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness.js';
import { sampleApp } from './gateway-fixtures.js';
import { workerSnapshot } from '../support/snapshot-archives.js';

let harness: GatewayHarness;

beforeEach(async () => {
  harness = await startGatewayHarness();
});

afterEach(async () => {
  await harness.close();
});

/** Starts a multipart upload, sends half of it, and answers a way to send the rest. */
function startSlowUpload(appId: string, token: string, body: Buffer, boundary: string) {
  const { hostname, port } = new URL(harness.url);
  let resolveAnswer: (value: { status: number; body: string }) => void;
  const answer = new Promise<{ status: number; body: string }>(
    (resolve) => (resolveAnswer = resolve),
  );
  const req = httpRequest(
    {
      hostname,
      port,
      method: 'POST',
      path: `/internal/v1/apps/${appId}/builds`,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(body.length),
      },
    },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, body: text }));
    },
  );
  const half = Math.floor(body.length / 2);
  req.write(body.subarray(0, half));
  return { answer, finish: () => req.end(body.subarray(half)) };
}

function multipartBody(boundary: string, archive: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="summary"\r\n\r\nslow build\r\n`,
    ),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="snapshot"; filename="s.tar"\r\nContent-Type: application/x-tar\r\n\r\n`,
    ),
    archive,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

test('SIGTERM stops accepting, lets the request in flight finish, closes the store and exits 0', async () => {
  const appId = await harness.createApp();
  const worker = await harness.workerToken(appId);
  const boundary = 'shutdown-boundary';
  const upload = startSlowUpload(
    appId,
    worker,
    multipartBody(boundary, workerSnapshot(sampleApp())),
    boundary,
  );
  // Let the request reach the route before the signal arrives.
  await new Promise((resolve) => setTimeout(resolve, 100));

  const signals = new EventEmitter();
  const exits: number[] = [];
  let closed: Promise<void> | undefined;
  handleShutdownSignals({
    signals,
    close: () => (closed = harness.gateway.close()),
    logger: silentLogger(),
    exit: (status) => exits.push(status),
  });
  signals.emit('SIGTERM');

  // New connections are refused while the upload is still in flight.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await expect(fetch(`${harness.url}/healthz`)).rejects.toThrow();
  expect(exits).toEqual([]);

  upload.finish();
  const answer = await upload.answer;
  expect(answer.status).toBe(201);
  expect(JSON.parse(answer.body).build.summary).toBe('slow build');

  await closed;
  await new Promise((resolve) => setImmediate(resolve));
  expect(exits).toEqual([0]);
  await expect(harness.store.ping()).rejects.toThrow();
});

test('a second signal while stopping exits 1 at once', async () => {
  const signals = new EventEmitter();
  const exits: number[] = [];
  handleShutdownSignals({
    signals,
    close: () => new Promise(() => undefined),
    logger: silentLogger(),
    exit: (status) => exits.push(status),
  });
  signals.emit('SIGINT');
  signals.emit('SIGTERM');
  expect(exits).toEqual([1]);
});
