import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildGateway,
  killAllGatewayProcesses,
  startGatewayProcess,
  type GatewayBuild,
  type GatewayProcess,
} from '../support/gateway-process.js';
import { startGitServer, type GitServer } from '../support/git-server.js';
import {
  baseEnv,
  distinctApp,
  GatewayClient,
  GIT_OWNER,
  GIT_TOKEN,
  newSecrets,
  waitUntil,
  type GatewaySecrets,
} from './gateway-client.js';
import { findInconsistencies, type UploadedBuild } from './version-invariants.js';

const APPS = 5;
const BUILDS_PER_APP = 10;

let gatewayBuild: GatewayBuild;
let gitServer: GitServer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  gatewayBuild = await buildGateway();
  gitServer = await startGitServer({ checkAuth: (_user, pass) => pass === GIT_TOKEN });
});

// A test that failed mid-outage must not leave the next one without a git server.
beforeEach(() => gitServer.setMode('ok'));

afterAll(async () => {
  killAllGatewayProcesses();
  for (const cleanup of cleanups.reverse()) await cleanup();
  await gitServer?.close();
  await gatewayBuild?.remove();
});

async function startGateway(
  env: Record<string, string>,
): Promise<{ gateway: GatewayProcess; client: GatewayClient; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'reliability-remote-down-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const secrets: GatewaySecrets = newSecrets();
  const gateway = await startGatewayProcess({
    build: gatewayBuild,
    dataDir,
    env: { ...baseEnv(secrets), ...env },
  });
  cleanups.push(async () => void (await gateway.stop()));
  const client = new GatewayClient(gateway.url, secrets);
  await client.connect(gitServer.baseUrl);
  return { gateway, client, dataDir };
}

async function upload(client: GatewayClient, appId: string, name: string, n: number) {
  const response = await client.uploadBuild(appId, distinctApp(name, n), `${name} build ${n}`);
  expect(response.status).toBe(201);
  return { id: response.body.build!.id, snapshotHash: response.body.build!.snapshotHash };
}

test('50 builds of 5 apps while the remote is down all reach it in order once it is back, with no manual step', async () => {
  // Backoff from 100 ms doubling: the remote is down for seconds, so 20 attempts outlast it.
  const { gateway, client, dataDir } = await startGateway({
    SYNC_RETRY_BASE_MS: '100',
    SYNC_MAX_ATTEMPTS: '20',
  });
  const apps: { id: string; name: string; repo: string; builds: UploadedBuild[] }[] = [];
  for (let a = 1; a <= APPS; a += 1) {
    const name = `Outage ${a}`;
    const repo = `second-app-outage-${a}`;
    await gitServer.createRepo(GIT_OWNER, repo);
    apps.push({ id: await client.createApp(name), name, repo, builds: [] });
  }

  gitServer.setMode('unavailable');
  const refusedBefore = gitServer.requests.filter((r) => r.status === 503).length;
  // The apps build side by side; each app's builds come one after another, as a worker sends them.
  await Promise.all(
    apps.map(async (app) => {
      for (let n = 1; n <= BUILDS_PER_APP; n += 1) {
        app.builds.push(await upload(client, app.id, app.name, n));
      }
    }),
  );

  // Every app tried, failed with the provider unavailable, and has an automatic retry set.
  await waitUntil(
    async () => {
      const states = await Promise.all(apps.map((app) => client.app(app.id)));
      return states.every(
        (state) =>
          state.sourceControl.lastError?.code === 'provider_unavailable' &&
          state.sourceControl.pushed === false,
      );
    },
    30_000,
    async () => `not every app failed: ${gateway.logTail(20)}`,
  );
  const failed = await client.app(apps[0]!.id);
  expect(failed.sourceControl.version).toBeNull();
  expect(gitServer.requests.filter((r) => r.status === 503).length).toBeGreaterThan(refusedBefore);

  gitServer.setMode('ok');
  await waitUntil(
    async () => {
      const states = await Promise.all(apps.map((app) => client.app(app.id)));
      return states.every(
        (state) =>
          state.sourceControl.status === 'synced' && state.sourceControl.version === BUILDS_PER_APP,
      );
    },
    90_000,
    async () =>
      `not every app caught up: ${JSON.stringify(
        await Promise.all(apps.map(async (app) => (await client.app(app.id)).sourceControl)),
      )}`,
  );

  for (const app of apps) {
    const problems = await findInconsistencies(client, {
      appId: app.id,
      remoteGitDir: gitServer.repoPath(GIT_OWNER, app.repo),
      dataDir,
      builds: app.builds,
    });
    expect({ app: app.name, problems }).toEqual({ app: app.name, problems: [] });
  }
}, 180_000);

test('when the automatic attempts ran out, the retry action pushes every held build', async () => {
  const { client, dataDir } = await startGateway({
    SYNC_RETRY_BASE_MS: '50',
    SYNC_MAX_ATTEMPTS: '2',
  });
  const repo = 'second-app-given-up';
  await gitServer.createRepo(GIT_OWNER, repo);
  const appId = await client.createApp('Given up');

  gitServer.setMode('unavailable');
  const builds: UploadedBuild[] = [];
  for (let n = 1; n <= 3; n += 1) builds.push(await upload(client, appId, 'given-up', n));

  await waitUntil(
    async () => {
      const sc = (await client.app(appId)).sourceControl;
      return sc.status === 'failed' && sc.nextRetryAt === null;
    },
    30_000,
    async () =>
      `the attempts never ran out: ${JSON.stringify((await client.app(appId)).sourceControl)}`,
  );
  expect((await client.app(appId)).sourceControl.lastError?.code).toBe('provider_unavailable');

  // The remote is back, but nothing retries by itself any more.
  gitServer.setMode('ok');
  await new Promise((resolveWait) => setTimeout(resolveWait, 500));
  const stillFailed = (await client.app(appId)).sourceControl;
  expect(stillFailed).toMatchObject({ status: 'failed', nextRetryAt: null, version: null });
  expect(gitServer.requests.some((r) => r.path.includes(repo) && r.status === 200)).toBe(false);

  const retried = await client.retry(appId);
  expect(retried).toEqual({ status: 202, code: null });
  await waitUntil(
    async () => {
      const sc = (await client.app(appId)).sourceControl;
      return sc.status === 'synced' && sc.version === 3;
    },
    30_000,
    async () =>
      `the retry did not sync: ${JSON.stringify((await client.app(appId)).sourceControl)}`,
  );

  const problems = await findInconsistencies(client, {
    appId,
    remoteGitDir: gitServer.repoPath(GIT_OWNER, repo),
    dataDir,
    builds,
  });
  expect(problems).toEqual([]);
  expect(await client.retry(appId)).toEqual({ status: 409, code: 'nothing_to_retry' });
}, 120_000);
