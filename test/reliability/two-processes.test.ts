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
import { expectedVersions, findInconsistencies } from './version-invariants.js';

const BUILDS = 50;

/**
 * The `distinctApp` number of the i-th build (from 0) of the burst: every fifth carries the
 * files of the build before it, which went to the other process, so the two processes take
 * the same source at the same time.
 */
const contentOf = (i: number) => (i % 5 === 4 ? i : i + 1);

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

test('50 concurrent builds of one app through two gateways on one DATA_DIR, some repeating a source: no build lost, a tag per change of source, versions in build order', async () => {
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
  const burst = await Promise.all(
    Array.from({ length: BUILDS }, (_, i) =>
      clients[i % 2]!.uploadBuild(appId, distinctApp('shared', contentOf(i)), `Build ${i + 1}`),
    ),
  );
  // Then one new source through both processes at once. Stored after the whole burst and next
  // to each other, the pair always makes exactly one version, whatever order the burst took.
  const pair = await Promise.all(
    clients.map((client, i) =>
      client.uploadBuild(appId, distinctApp('shared', BUILDS + 1), `Pair ${i + 1}`),
    ),
  );
  const answers = [...burst, ...pair];
  expect(answers.map((answer) => answer.status)).toEqual(Array(answers.length).fill(201));
  const uploadedIds = answers.map((answer) => answer.body.build!.id);

  // The order the store took the builds in is the order versions must follow.
  const stored = (await clients[0]!.builds(appId)).slice().reverse();
  expect(new Set(stored.map((build) => build.id))).toEqual(new Set(uploadedIds));
  const uploaded = stored.map((build) => ({ id: build.id, snapshotHash: build.snapshotHash }));
  const { hashes, versionOfBuild } = expectedVersions(uploaded);
  // Ten repeats in the burst, one in the pair: the repeated files gave repeated hashes.
  expect(new Set(uploaded.map((build) => build.snapshotHash)).size).toBe(answers.length - 11);
  const [beforeLast, last] = stored.slice(-2);
  expect(new Set([beforeLast!.id, last!.id])).toEqual(new Set(pair.map((a) => a.body.build!.id)));
  expect(beforeLast!.snapshotHash).toBe(last!.snapshotHash);
  expect(hashes.length).toBeLessThan(stored.length);

  await waitUntil(
    async () => {
      const builds = await clients[1]!.builds(appId);
      const sc = (await clients[1]!.app(appId)).sourceControl;
      return (
        builds.every((build) => build.sync.status === 'synced') &&
        sc.status === 'synced' &&
        sc.version === hashes.length
      );
    },
    180_000,
    async () =>
      `the app did not reach v${hashes.length} with every build synced: ${JSON.stringify((await clients[1]!.app(appId)).sourceControl)}\n${processes[0]!.logTail(10)}\n${processes[1]!.logTail(10)}`,
  );

  const versionsInBuildOrder = (await clients[0]!.builds(appId))
    .slice()
    .reverse()
    .map((build) => build.sync.version);
  expect(versionsInBuildOrder).toEqual(stored.map((build) => versionOfBuild.get(build.id)));
  // The pair shares the one version its source made, the last one.
  expect(versionsInBuildOrder.slice(-2)).toEqual([hashes.length, hashes.length]);

  const problems = await findInconsistencies(clients[1]!, {
    appId,
    remoteGitDir: gitServer.repoPath(GIT_OWNER, repo),
    dataDir,
    builds: uploaded,
  });
  expect(problems).toEqual([]);

  // The same check, told of a build the gateway never saw, notices it: it is not vacuous.
  const withPhantom = await findInconsistencies(clients[1]!, {
    appId,
    remoteGitDir: gitServer.repoPath(GIT_OWNER, repo),
    dataDir,
    builds: [...uploaded, { id: 'phantom', snapshotHash: `sha256:${'0'.repeat(64)}` }],
  });
  expect(withPhantom).toEqual(
    expect.arrayContaining([
      'build phantom is missing from GET builds',
      `remote tags are [${hashes.map((_, i) => `second-app-v${i + 1}`).join(' ')}], expected v1..v${hashes.length + 1}`,
    ]),
  );
}, 300_000);
