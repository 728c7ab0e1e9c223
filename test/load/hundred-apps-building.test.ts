import { WORKSPACE } from '../support/gateway-harness.js';
import { makeTar, sampleApp, uploadBuild } from '../gateway/gateway-fixtures.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../support/source-control-harness.js';

const APPS = 100;
/** Syncs the gateway runs at once; the machine running the tests has two cores. */
const SYNC_CONCURRENCY = 4;
/**
 * The test measures throughput and asserts only correctness, so its time limit is wide: on a CI
 * machine shared with other work the same run has taken three times as long as on a quiet one.
 */
const TIME_LIMIT_MS = 10 * 60_000;

let h: SourceControlHarness;

beforeAll(async () => {
  h = await startSourceControlHarness({
    env: { DEPLOYMENT_MODE: 'onprem' },
    module: { concurrency: SYNC_CONCURRENCY },
  });
  expect((await h.connect({ storeAppSource: true })).status).toBe(200);
});
afterAll(() => h.close());

const nameOf = (i: number) => `Load ${String(i).padStart(3, '0')}`;
const repoOf = (i: number) => `second-app-load-${String(i).padStart(3, '0')}`;

test(
  `${APPS} apps building at once are all synced, each with exactly one tag`,
  async () => {
    const indexes = Array.from({ length: APPS }, (_, i) => i + 1);
    for (const i of indexes) await h.git.createRepo(GIT_OWNER, repoOf(i));
    const apps = await Promise.all(indexes.map((i) => h.gateway.createApp(nameOf(i))));
    const archives = await Promise.all(
      indexes.map((i) => makeTar(sampleApp({ 'src/id.ts': `export const app = ${i};\n` }))),
    );
    const workers = await Promise.all(apps.map((appId) => h.gateway.workerToken(appId)));

    const started = performance.now();
    const statuses = await Promise.all(
      apps.map(async (appId, i) => {
        const response = await uploadBuild(h.gateway, appId, workers[i]!, archives[i]!);
        await response.arrayBuffer();
        return response.status;
      }),
    );
    await h.settle(TIME_LIMIT_MS);
    const seconds = (performance.now() - started) / 1000;

    console.log(
      `${APPS} apps building at once: all synced in ${seconds.toFixed(1)} s, ` +
        `${(APPS / seconds).toFixed(1)} apps synced per second (${SYNC_CONCURRENCY} syncs at a time)`,
    );
    expect(statuses.filter((status) => status !== 201)).toEqual([]);

    const reader = h.gateway.store.reader(WORKSPACE);
    const states = await Promise.all(
      apps.map(async (appId) => (await reader.getApp(appId))!.sourceControl),
    );
    const notSynced = states
      .map((state, i) => ({ app: nameOf(i + 1), status: state.status, error: state.lastError }))
      .filter((state) => state.status !== 'synced');
    expect(notSynced).toEqual([]);
    expect(states.every((state) => state.version === 1 && state.pushed)).toBe(true);

    const tags = indexes.map((i) => ({ repo: repoOf(i), tags: h.remoteTags(repoOf(i)) }));
    expect(tags.filter((repo) => repo.tags.join() !== 'second-app-v1')).toEqual([]);
  },
  TIME_LIMIT_MS,
);
