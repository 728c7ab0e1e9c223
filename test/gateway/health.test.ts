import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadiness } from '../../gateway/readiness.js';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness.js';

let harness: GatewayHarness;

beforeEach(async () => {
  harness = await startGatewayHarness();
});

afterEach(async () => {
  await harness.close();
});

interface Report {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

test('GET /healthz answers 200 without a credential', async () => {
  const response = await harness.request('/healthz');
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok' });
});

test('GET /readyz answers 200 when the store, the data dir and git all work', async () => {
  const response = await harness.request('/readyz');
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    ready: true,
    checks: { store: { ok: true }, dataDir: { ok: true }, git: { ok: true } },
  });
});

test('GET /readyz answers 503 naming the data dir when it cannot be written', async () => {
  // Root can write through any mode bits, so the data dir is replaced by a plain file instead.
  const moved = `${harness.dataDir}.moved`;
  await rename(harness.dataDir, moved);
  await writeFile(harness.dataDir, 'not a folder');
  try {
    const response = await harness.request('/readyz');
    expect(response.status).toBe(503);
    const report = (await response.json()) as Report;
    expect(report.ready).toBe(false);
    expect(report.checks.dataDir).toEqual({
      ok: false,
      error: expect.stringContaining('cannot write in the data dir'),
    });
    expect(report.checks.store!.ok).toBe(true);
  } finally {
    await rm(harness.dataDir, { force: true });
    await rename(moved, harness.dataDir);
  }
});

test('GET /readyz answers 503 naming the store when it does not answer', async () => {
  await harness.store.close();
  const response = await harness.request('/readyz');
  expect(response.status).toBe(503);
  const report = (await response.json()) as Report;
  expect(report.checks.store!.ok).toBe(false);
  expect(report.checks.dataDir!.ok).toBe(true);
});

test('the git check fails without git, and its outcome is kept until its time to live has passed', async () => {
  const bin = await mkdtemp(join(tmpdir(), 'readiness-git-'));
  const gitBinary = join(bin, 'git');
  let clock = 0;
  const readiness = createReadiness({
    store: harness.store,
    dataDir: harness.dataDir,
    gitBinary,
    gitCheckTtlMs: 1000,
    now: () => clock,
  });
  try {
    const first = await readiness.check();
    expect(first.ready).toBe(false);
    expect(first.checks.git).toEqual({ ok: false, error: 'git --version failed: ENOENT' });

    // git appears at that path; the failure stands until the time to live has passed.
    await writeFile(gitBinary, '#!/bin/sh\necho "git version 2.39.5"\n', { mode: 0o755 });
    expect((await readiness.check()).checks.git).toEqual(first.checks.git);
    clock = 999;
    expect((await readiness.check()).checks.git).toEqual(first.checks.git);

    clock = 1001;
    const after = await readiness.check();
    expect(after.checks.git).toEqual({ ok: true });
    expect(after.ready).toBe(true);

    // A success is kept the same way: git gone again is not seen until the next expiry.
    await rm(gitBinary);
    clock = 2000;
    expect((await readiness.check()).checks.git).toEqual({ ok: true });
    clock = 2002;
    expect((await readiness.check()).checks.git).toEqual(first.checks.git);
  } finally {
    await rm(bin, { recursive: true, force: true });
  }
});

test('GET /metrics answers Prometheus text with request durations by route and status', async () => {
  await harness.request('/api/v1/apps', { token: await harness.userToken() });
  const response = await harness.request('/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  expect(text).toMatch(
    /gateway_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/apps",status="200"\} 1/,
  );
  expect(text).toContain('gateway_ingest_bytes_bucket');
  expect(text).toContain('gateway_ingest_files_bucket');
  expect(text).toContain('# TYPE gateway_preview_cache_total counter');
  expect(text).toContain('process_cpu_user_seconds_total');
});
