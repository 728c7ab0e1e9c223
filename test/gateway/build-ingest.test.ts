import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { SqliteStore } from '../../adapters/store/sqlite/sqlite-store.js';
import { hostileArchives } from '../support/hostile-archives.js';
import { summaryOf, workerSnapshot } from '../support/snapshot-archives.js';
import { symlinkEntry, buildTar, fileEntry } from '../support/raw-tar.js';
import {
  OTHER_WORKSPACE,
  startGatewayHarness,
  WORKSPACE,
  type GatewayHarness,
} from '../support/gateway-harness.js';
import { sampleApp, uploadBuild } from './gateway-fixtures.js';

let harness: GatewayHarness;

beforeAll(async () => {
  harness = await startGatewayHarness();
});

afterAll(async () => {
  await harness.close();
});

interface BuildAnswer {
  build: {
    id: string;
    summary: string;
    snapshotHash: string;
    fileCount: number;
    totalBytes: number;
    skipped: { path: string; reason: string }[];
    createdAt: string;
    sync: unknown;
  };
  sourceControl: Record<string, unknown>;
}

const writes = () => (harness.store as SqliteStore).writeCount;

async function stagingLeftovers(): Promise<string[]> {
  return readdir(join(harness.dataDir, 'tmp')).catch(() => []);
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

async function newApp(): Promise<{ appId: string; worker: string }> {
  const appId = await harness.createApp();
  return { appId, worker: await harness.workerToken(appId) };
}

test.each([
  ['tar, summary first', false, 'summary-first'],
  ['tar, file first', false, 'file-first'],
  ['tar.gz, summary first', true, 'summary-first'],
  ['tar.gz, file first', true, 'file-first'],
] as const)(
  'a build upload (%s) answers 201 {build, sourceControl} and becomes the draft',
  async (_case, gzip, order) => {
    const { appId, worker } = await newApp();
    const files = sampleApp();
    const archive = workerSnapshot(files, { gzip });

    const response = await uploadBuild(harness, appId, worker, archive, {
      order,
      summary: 'Added a table',
    });
    expect(response.status).toBe(201);

    const answer = (await response.json()) as BuildAnswer;
    const expected = summaryOf(files);
    expect(answer.build).toMatchObject({
      summary: 'Added a table',
      snapshotHash: expected.hash,
      fileCount: expected.fileCount,
      totalBytes: expected.totalBytes,
      skipped: [],
      sync: { status: 'disabled', version: null, error: null },
    });
    expect(answer.sourceControl).toMatchObject({ backed: false, status: 'disabled' });
    expect(Object.keys(answer.sourceControl)).toHaveLength(16);

    const app = await harness.store.reader(WORKSPACE).getApp(appId);
    expect(app?.draft).toEqual({
      buildId: answer.build.id,
      snapshotHash: expected.hash,
      createdAt: answer.build.createdAt,
    });

    const page = await harness.request(`/preview/${appId}/`, { token: await harness.userToken() });
    expect(await page.text()).toBe(files['dist/index.html']);
    expect(await stagingLeftovers()).toEqual([]);
  },
);

test('the summary is stored as sent, control characters included', async () => {
  const { appId, worker } = await newApp();
  const summary = 'Line one\nLine two\ttabbed \u0007bell ünïcode';
  const response = await uploadBuild(harness, appId, worker, workerSnapshot(sampleApp()), {
    summary,
  });
  // FormData sends line breaks in field values as CRLF (the HTML form encoding), and that is
  // what the gateway received and keeps.
  expect(((await response.json()) as BuildAnswer).build.summary).toBe(
    summary.replace(/\n/g, '\r\n'),
  );
});

test('only blobs the workspace lacks are written; an identical build writes one record', async () => {
  const { appId, worker } = await newApp();
  const files = sampleApp({ 'src/unique.txt': `unique ${appId}` });

  const before = writes();
  expect((await uploadBuild(harness, appId, worker, workerSnapshot(files))).status).toBe(201);
  const firstWrites = writes() - before;
  // One putBlob per file whose content this workspace did not hold yet, then one saveBuild.
  expect(firstWrites).toBeGreaterThanOrEqual(2);

  const again = writes();
  expect((await uploadBuild(harness, appId, worker, workerSnapshot(files))).status).toBe(201);
  expect(writes() - again).toBe(1);
});

test('symlinks, the worker manifest and filtered files are skipped and listed, never stored', async () => {
  const { appId, worker } = await newApp();
  const archive = buildTar([
    fileEntry('dist/index.html', '<p>x</p>'),
    fileEntry('second-app.json', '{"forged": true}'),
    fileEntry('.env', 'TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789'),
    fileEntry('node_modules/left/index.js', 'x'),
    symlinkEntry('dist/link.js', '/etc/passwd'),
  ]);

  const response = await uploadBuild(harness, appId, worker, archive);
  expect(response.status).toBe(201);
  const { build } = (await response.json()) as BuildAnswer;
  expect(build.fileCount).toBe(1);
  expect(build.skipped.map((entry) => entry.path).sort()).toEqual(
    ['.env', 'dist/link.js', 'node_modules/', 'second-app.json'].sort(),
  );

  const snapshot = await harness.store.reader(WORKSPACE).getSnapshot(build.snapshotHash);
  expect(snapshot?.files.map((file) => file.path)).toEqual(['dist/index.html']);
});

test('a snapshot without dist/index.html answers 422 dist_index_missing and writes nothing', async () => {
  const { appId, worker } = await newApp();
  const before = writes();
  const response = await uploadBuild(harness, appId, worker, workerSnapshot({ 'src/a.ts': 'x' }));
  expect(response.status).toBe(422);
  expect(await errorCode(response)).toBe('dist_index_missing');
  expect(writes()).toBe(before);
});

test.each([
  ['no summary', 'invalid_request', 400, { summary: null }],
  ['no snapshot file', 'invalid_request', 400, { noFile: true }],
  ['a file under another name', 'invalid_request', 400, { fileField: 'archive' }],
  ['a summary over 16 KiB', 'too_large', 413, { summary: 'x'.repeat(16 * 1024 + 1) }],
] as const)('%s answers %s (%s) and writes nothing', async (_case, code, status, options) => {
  const { appId, worker } = await newApp();
  const before = writes();
  const archive = 'noFile' in options ? null : workerSnapshot(sampleApp());
  const response = await uploadBuild(harness, appId, worker, archive, options as never);
  expect(response.status).toBe(status);
  expect(await errorCode(response)).toBe(code);
  expect(writes()).toBe(before);
  expect(await harness.store.reader(WORKSPACE).listBuilds(appId)).toEqual([]);
});

test('a summary of exactly 16 KiB is accepted', async () => {
  const { appId, worker } = await newApp();
  const response = await uploadBuild(harness, appId, worker, workerSnapshot(sampleApp()), {
    summary: 's'.repeat(16 * 1024),
  });
  expect(response.status).toBe(201);
});

test('a body that is not multipart answers 400 invalid_request', async () => {
  const { appId, worker } = await newApp();
  const response = await harness.request(`/internal/v1/apps/${appId}/builds`, {
    method: 'POST',
    token: worker,
    headers: { 'content-type': 'application/json' },
    body: '{"summary": "x"}',
  });
  expect(response.status).toBe(400);
  expect(await errorCode(response)).toBe('invalid_request');
});

test('a declared body over the cap answers 413 too_large before it is read', async () => {
  const { appId, worker } = await newApp();
  const { hostname, port } = new URL(harness.url);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      {
        hostname,
        port,
        method: 'POST',
        path: `/internal/v1/apps/${appId}/builds`,
        headers: {
          authorization: `Bearer ${worker}`,
          'content-type': 'multipart/form-data; boundary=xyz',
          'content-length': String(2 * 1024 * 1024 * 1024),
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    req.on('error', (error) =>
      (error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error),
    );
    req.write('--xyz\r\n');
  });
  expect(status).toBe(413);
});

test('a body that is not an archive answers 422 invalid_archive', async () => {
  const { appId, worker } = await newApp();
  const response = await uploadBuild(
    harness,
    appId,
    worker,
    Buffer.from('this is not a tar file at all'.repeat(40)),
  );
  expect(response.status).toBe(422);
  expect(await errorCode(response)).toBe('invalid_archive');
});

test('an app of another workspace, a missing app and a malformed id answer 404', async () => {
  const foreign = await harness.createApp('Theirs', { workspaceId: OTHER_WORKSPACE });
  const wrongWorkspaceWorker = await harness.workerToken(foreign); // a worker of acme naming globex's app
  const before = writes();

  for (const [appId, token] of [
    [foreign, wrongWorkspaceWorker],
    ['aaaaaaaaaaaaaaaaaaaa', await harness.workerToken('aaaaaaaaaaaaaaaaaaaa')],
    ['Not..Valid', await harness.workerToken('validbutdifferent')],
  ] as const) {
    const response = await uploadBuild(harness, appId, token, workerSnapshot(sampleApp()));
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe('not_found');
  }
  expect(writes()).toBe(before);
  expect(await harness.store.reader(OTHER_WORKSPACE).listBuilds(foreign)).toEqual([]);
});

describe('hostile archives through HTTP', () => {
  const cases = hostileArchives().filter((entry) => entry.expected.worker !== undefined);

  test.each(cases.map((entry) => [entry.name, entry] as const))(
    '%s is refused and nothing is written',
    async (_name, entry) => {
      const code = entry.expected.worker!;
      const local =
        entry.limits === undefined
          ? harness
          : await startGatewayHarness({ deps: { archiveLimits: entry.limits } });
      try {
        const appId = await local.createApp();
        const worker = await local.workerToken(appId);
        const before = (local.store as SqliteStore).writeCount;

        const response = await uploadBuild(local, appId, worker, entry.build('worker'));
        const status = response.status;
        const body = (await response.json()) as { error?: { code: string } };

        expect({ status: status >= 400, code: body.error?.code }).toEqual({ status: true, code });
        expect((local.store as SqliteStore).writeCount).toBe(before);
        expect(await local.store.reader(WORKSPACE).listBuilds(appId)).toEqual([]);
        expect(await readdir(join(local.dataDir, 'tmp')).catch(() => [])).toEqual([]);
      } finally {
        if (local !== harness) await local.close();
      }
    },
  );
});
