import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../adapters/store/sqlite/sqlite-store.js';
import { FAULT_POINT_VARIABLE } from '../../core/fault-point.js';
import {
  buildGateway,
  describeExit,
  killAllGatewayProcesses,
  startGatewayProcess,
  type GatewayBuild,
  type GatewayExit,
  type GatewayProcess,
} from '../support/gateway-process.js';
import { startGitServer, type GitServer } from '../support/git-server.js';
import {
  WORKSPACE,
  baseEnv,
  distinctApp,
  GatewayClient,
  GIT_OWNER,
  GIT_TOKEN,
  newSecrets,
  waitUntil,
  type GatewaySecrets,
} from './gateway-client.js';
import { startReceivePackGate, type ReceivePackGate } from './receive-pack-gate.js';
import { trialCount } from './trials.js';
import {
  findInconsistencies,
  git,
  mirrorGitDir,
  type UploadedBuild,
} from './version-invariants.js';

/**
 * The steps of writing a version a crash can fall between. The first three are fault points
 * inside the gateway (core/fault-point.ts); during the push the test itself kills the process
 * group while the git server holds the push.
 */
const STEPS = ['objects-written', 'refs-moved', 'store-updated', 'push-in-flight'] as const;
type Step = (typeof STEPS)[number];

const TRIALS = trialCount();
const ran = new Map<Step, number>();
let gatewayBuild: GatewayBuild;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  gatewayBuild = await buildGateway();
});

afterAll(async () => {
  killAllGatewayProcesses();
  for (const cleanup of cleanups.reverse()) await cleanup();
  await gatewayBuild?.remove();
  const counts = STEPS.map((step) => `${step} ${ran.get(step) ?? 0}/${TRIALS}`).join(', ');
  console.log(`kill -9 trials run per step (RELIABILITY_TRIALS, CI=true: 20): ${counts}`);
});

interface World {
  dataDir: string;
  git: GitServer;
  gate: ReceivePackGate | null;
  secrets: GatewaySecrets;
  appId: string;
  repo: string;
  builds: UploadedBuild[];
}

async function newWorld(step: Step): Promise<World> {
  const dataDir = await mkdtemp(join(tmpdir(), `reliability-${step}-`));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const gitServer = await startGitServer({ checkAuth: (_user, pass) => pass === GIT_TOKEN });
  cleanups.push(() => gitServer.close());
  const gate = step === 'push-in-flight' ? await startReceivePackGate(gitServer.baseUrl) : null;
  if (gate) cleanups.push(() => gate.close());

  const secrets = newSecrets();
  const setup = await start({ dataDir, secrets });
  try {
    const client = new GatewayClient(setup.url, secrets);
    await client.connect(gate?.baseUrl ?? gitServer.baseUrl);
    const appId = await client.createApp(`Crash ${step}`);
    const repo = `second-app-crash-${step}`;
    await gitServer.createRepo(GIT_OWNER, repo);
    return { dataDir, git: gitServer, gate, secrets, appId, repo, builds: [] };
  } finally {
    await setup.stop();
  }
}

function start(world: Pick<World, 'dataDir' | 'secrets'>, fault?: string): Promise<GatewayProcess> {
  return startGatewayProcess({
    build: gatewayBuild,
    dataDir: world.dataDir,
    env: {
      ...baseEnv(world.secrets),
      SYNC_RETRY_BASE_MS: '200',
      ...(fault ? { [FAULT_POINT_VARIABLE]: fault } : {}),
    },
  });
}

/** Version tags of a repository, oldest first. */
function tagsOf(gitDir: string): string[] {
  return git(gitDir, ['tag', '--list', '--sort=version:refname'])
    .stdout.split('\n')
    .filter(Boolean);
}

async function crashOnce(world: World, step: Step, trial: number): Promise<GatewayExit> {
  const fault = step === 'push-in-flight' ? undefined : step;
  const doomed = await start(world, fault);
  const client = new GatewayClient(doomed.url, world.secrets);
  // Alternate: the push never reached the remote, or the remote took it and the answer was lost.
  const caught = world.gate?.arm(trial % 2 === 1 ? 'drop' : 'deliver');

  const upload = await client.uploadBuild(world.appId, distinctApp(step, trial), `Build ${trial}`);
  if (upload.status !== 201 || !upload.body.build)
    throw new Error(`trial ${trial}: the build answered ${upload.status}\n${doomed.logTail()}`);
  world.builds.push({ id: upload.body.build.id, snapshotHash: upload.body.build.snapshotHash });

  if (caught) {
    await caught;
    return doomed.kill9();
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`trial ${trial}: the gateway never reached ${step}\n${doomed.logTail()}`)),
      30_000,
    );
  });
  try {
    return await Promise.race([doomed.exited, timeout]);
  } finally {
    clearTimeout(timer);
    await doomed.kill9();
  }
}

/**
 * What the mirror, the store and the remote must show right after a crash at `step` in
 * `trial`: proof that the process died exactly between the two steps it was meant to.
 */
async function expectCrashState(world: World, step: Step, trial: number): Promise<void> {
  const mirrorTags = tagsOf(mirrorGitDir(world.dataDir, world.appId));
  const remoteTags = tagsOf(world.git.repoPath(GIT_OWNER, world.repo));
  const tag = `second-app-v${trial}`;
  // The gateway is dead, so the test may open its store to look.
  const store = SqliteStore.open({ dataDir: world.dataDir });
  const recorded = await store
    .workspace(WORKSPACE)
    .getVersion(world.appId, trial)
    .finally(() => store.close());

  expect({
    trial,
    inMirror: mirrorTags.includes(tag),
    inStore: recorded?.pushed ?? 'absent',
    onRemote: remoteTags.includes(tag),
  }).toEqual({
    trial,
    inMirror: step !== 'objects-written',
    inStore: step === 'store-updated' || step === 'push-in-flight' ? false : 'absent',
    onRemote: step === 'push-in-flight' && trial % 2 === 0,
  });
}

test.concurrent.each(STEPS)(
  'kill -9 at %s: the restarted gateway pushes every version once, loses no build, and both repositories stay sound',
  async (step) => {
    const world = await newWorld(step);

    for (let trial = 1; trial <= TRIALS; trial += 1) {
      const exit = await crashOnce(world, step, trial);
      expect(describeExit(exit)).toBe('signal SIGKILL');
      await expectCrashState(world, step, trial);

      const healthy = await start(world);
      try {
        const client = new GatewayClient(healthy.url, world.secrets);
        await waitUntil(
          async () => {
            const sc = (await client.app(world.appId)).sourceControl;
            return sc.status === 'synced' && sc.version === trial && sc.pushed;
          },
          60_000,
          async () =>
            `trial ${trial} at ${step}: no recovery; app is ${JSON.stringify((await client.app(world.appId)).sourceControl)}\n${healthy.logTail()}`,
        );
        const problems = await findInconsistencies(client, {
          appId: world.appId,
          remoteGitDir: world.git.repoPath(GIT_OWNER, world.repo),
          dataDir: world.dataDir,
          builds: world.builds,
        });
        expect({ step, trial, problems }).toEqual({ step, trial, problems: [] });
      } finally {
        await healthy.stop();
      }
      ran.set(step, trial);
    }
  },
  TRIALS * 120_000,
);
