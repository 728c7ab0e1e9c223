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
} from './gateway-client.js';
import { findInconsistencies } from './version-invariants.js';

const BUILDS = 50;

let gatewayBuild: GatewayBuild;
let gitServer: GitServer;
let dataDir: string;
const processes: GatewayProcess[] = [];

beforeAll(async () => {
  gatewayBuild = await buildGateway();
  gitServer = await startGitServer({ checkAuth: (_user, pass) => pass === GIT_TOKEN });
  dataDir = await mkdtemp(join(tmpdir(), 'reliability-shared-'));
});

afterAll(async () => {
  for (const gateway of processes) await gateway.stop();
  killAllGatewayProcesses();
  await gitServer?.close();
  await rm(dataDir, { recursive: true, force: true });
  await gatewayBuild?.remove();
});

test('50 concurrent builds of one app through two gateways on one DATA_DIR: no build lost, one tag per build, versions in build order', async () => {
  const secrets = newSecrets();
  const env = { ...baseEnv(secrets), SYNC_RETRY_BASE_MS: '100', SYNC_MAX_ATTEMPTS: '10' };
  for (let i = 0; i < 2; i += 1) {
    processes.push(await startGatewayProcess({ build: gatewayBuild, dataDir, env }));
  }
  const clients = processes.map((gateway) => new GatewayClient(gateway.url, secrets));
  await clients[0]!.connect(gitServer.baseUrl);
  const repo = 'second-app-shared-store';
  await gitServer.createRepo(GIT_OWNER, repo);
  const appId = await clients[0]!.createApp('Shared store');

  // All at once, alternating between the processes.
  const answers = await Promise.all(
    Array.from({ length: BUILDS }, (_, i) =>
      clients[i % 2]!.uploadBuild(appId, distinctApp('shared', i + 1), `Build ${i + 1}`),
    ),
  );
  expect(answers.map((answer) => answer.status)).toEqual(Array(BUILDS).fill(201));
  const uploadedIds = answers.map((answer) => answer.body.build!.id);

  await waitUntil(
    async () => {
      const sc = (await clients[1]!.app(appId)).sourceControl;
      return sc.status === 'synced' && sc.version === BUILDS;
    },
    120_000,
    async () =>
      `the app did not reach v${BUILDS}: ${JSON.stringify((await clients[1]!.app(appId)).sourceControl)}\n${processes[0]!.logTail(10)}\n${processes[1]!.logTail(10)}`,
  );

  // The order the store took the builds in is the order versions must follow.
  const stored = (await clients[0]!.builds(appId)).slice().reverse();
  expect(new Set(stored.map((build) => build.id))).toEqual(new Set(uploadedIds));
  const versionsInBuildOrder = stored.map((build) => build.sync.version);
  expect(versionsInBuildOrder).toEqual(Array.from({ length: BUILDS }, (_, i) => i + 1));

  const problems = await findInconsistencies(clients[1]!, {
    appId,
    remoteGitDir: gitServer.repoPath(GIT_OWNER, repo),
    dataDir,
    builds: stored.map((build) => ({ id: build.id, snapshotHash: build.snapshotHash })),
  });
  expect(problems).toEqual([]);

  // The same check, told of a build the gateway never saw, notices it: it is not vacuous.
  const withPhantom = await findInconsistencies(clients[1]!, {
    appId,
    remoteGitDir: gitServer.repoPath(GIT_OWNER, repo),
    dataDir,
    builds: [
      ...stored.map((build) => ({ id: build.id, snapshotHash: build.snapshotHash })),
      { id: 'phantom', snapshotHash: `sha256:${'0'.repeat(64)}` },
    ],
  });
  expect(withPhantom).toEqual(
    expect.arrayContaining([
      'build phantom is missing from GET builds',
      `remote tags are [${Array.from({ length: BUILDS }, (_, i) => `second-app-v${i + 1}`).join(' ')}], expected v1..v${BUILDS + 1}`,
    ]),
  );
}, 240_000);
