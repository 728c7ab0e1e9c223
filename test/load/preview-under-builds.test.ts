import autocannon from 'autocannon';
import { makeTar, sampleApp, uploadBuild } from '../gateway/gateway-fixtures.js';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness.js';

/** The options this test hands autocannon; `amount` ends the run after that many requests. */
type LoadOptions = Parameters<typeof autocannon>[0] & { amount: number };

const CONNECTIONS = 200;
const REQUESTS = 12_000;
const BUILDS = 20;
/** A measurement, not a timed assertion: the limit only stops a run that hangs. */
const TIME_LIMIT_MS = 5 * 60_000;

let harness: GatewayHarness;

beforeAll(async () => {
  harness = await startGatewayHarness();
});
afterAll(() => harness.close());

test(
  `preview answers ${REQUESTS} requests over ${CONNECTIONS} connections without an error while ${BUILDS} builds of the app arrive`,
  async () => {
    const appId = await harness.createApp('Preview Under Load');
    const worker = await harness.workerToken(appId);
    const first = await uploadBuild(harness, appId, worker, await makeTar(sampleApp()));
    expect(first.status).toBe(201);
    const token = await harness.userToken({ role: 'viewer' });

    // Every build keeps the paths the load asks for and changes one file, so each is a new draft
    // that the preview must pick up while it answers.
    const archives = await Promise.all(
      Array.from({ length: BUILDS }, (_, i) =>
        makeTar(sampleApp({ 'dist/assets/app.js': `document.title = "build ${i}";\n` })),
      ),
    );
    let running = true;
    const buildStatuses: number[] = [];
    const builds = (async () => {
      for (const archive of archives) {
        if (!running) break;
        const response = await uploadBuild(harness, appId, worker, archive);
        buildStatuses.push(response.status);
        await response.arrayBuffer();
      }
    })();

    const options: LoadOptions = {
      url: harness.url,
      connections: CONNECTIONS,
      amount: REQUESTS,
      headers: { authorization: `Bearer ${token}` },
      requests: [
        `/preview/${appId}/`,
        `/preview/${appId}/assets/app.js`,
        `/preview/${appId}/assets/app.css`,
        `/preview/${appId}/logo.png`,
      ].map((path) => ({ method: 'GET', path })),
    };
    const result = await autocannon(options);
    running = false;
    await builds;

    console.log(
      `preview under load: ${result.requests.total} requests, ${Math.round(result.requests.average)} requests/s, ` +
        `p99 ${result.latency.p99} ms, p50 ${result.latency.p50} ms, ` +
        `${buildStatuses.length} builds saved during the run`,
    );
    expect(result.requests.total).toBeGreaterThanOrEqual(10_000);
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }).toEqual({
      errors: 0,
      timeouts: 0,
      non2xx: 0,
    });
    expect(buildStatuses.length).toBeGreaterThan(0);
    expect(buildStatuses.every((status) => status === 201)).toBe(true);

    // Builds the load outlasted are sent now, so the run always covers all of them.
    for (const archive of archives.slice(buildStatuses.length)) {
      expect((await uploadBuild(harness, appId, worker, archive)).status).toBe(201);
    }
    const listed = await harness.request(`/api/v1/apps/${appId}/builds`, { token });
    expect(((await listed.json()) as { builds: unknown[] }).builds.length).toBe(BUILDS + 1);
  },
  TIME_LIMIT_MS,
);
