import { createRequire } from 'node:module';
import type { GatewayHarness } from '../support/gateway-harness.js';

/**
 * Every way to start a process goes through these functions of `child_process`; the test wraps
 * them on the module object itself, before any gateway module is loaded, so that the gateway's
 * imports see the wrapped ones.
 */
const childProcess = createRequire(import.meta.url)('node:child_process') as Record<
  string,
  unknown
>;
const SPAWNING = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'];
const calls: string[] = [];
const originals = new Map<string, unknown>();

for (const name of SPAWNING) {
  const original = childProcess[name] as (...args: unknown[]) => unknown;
  originals.set(name, original);
  childProcess[name] = function (this: unknown, ...args: unknown[]) {
    calls.push(
      `${name} ${String(args[0])} ${Array.isArray(args[1]) ? args[1].join(' ') : ''}`.trim(),
    );
    return original.apply(this, args);
  };
}

let harness: GatewayHarness;
let seedDraft: typeof import('./gateway-fixtures.js').seedDraft;
let WORKSPACE: string;

beforeAll(async () => {
  const support = await import('../support/gateway-harness.js');
  ({ seedDraft } = await import('./gateway-fixtures.js'));
  WORKSPACE = support.WORKSPACE;
  harness = await support.startGatewayHarness();
});

afterAll(async () => {
  await harness.close();
  for (const [name, original] of originals) childProcess[name] = original;
});

test('serving previews spawns no process; the spy does see one where git is used', async () => {
  const token = await harness.userToken();
  const appId = await harness.createApp('No git');
  const hash = await seedDraft(harness, WORKSPACE, appId, {
    'dist/index.html': '<p>hi</p>',
    'dist/app.js': 'run()',
  });
  await harness.store.workspace(WORKSPACE).insertVersion({
    workspaceId: WORKSPACE,
    appId,
    version: 1,
    tag: 'second-app-v1',
    commitSha: 'b'.repeat(40),
    summary: 'one',
    sourceHash: hash,
    fileCount: 2,
    totalBytes: 14,
    createdAt: new Date().toISOString(),
    pushed: false,
    buildId: null,
  });
  calls.length = 0;

  const statuses: number[] = [];
  for (const path of ['/', '/app.js', '/v/1/', '/v/1/app.js', '/missing', '/v/2/', '/app.js']) {
    statuses.push((await harness.request(`/preview/${appId}${path}`, { token })).status);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 404, 404, 200]);
  expect(calls).toEqual([]);

  // The control: the readiness check runs `git --version`, and the spy records it.
  expect((await harness.request('/readyz')).status).toBe(200);
  expect(calls).toEqual(['execFile git --version']);
});
