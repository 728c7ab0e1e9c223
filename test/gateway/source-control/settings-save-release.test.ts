import type { WorkspaceStore } from '../../../adapters/store/store-port.js';
import { makeTar, sampleApp, uploadBuild, type FileTree } from '../gateway-fixtures.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../../support/source-control-harness.js';

interface SourceControlBody {
  status: string;
  version: number | null;
  lastError: { code: string } | null;
  nextRetryAt: string | null;
}

const OLD_TOKEN = 'git-token-revoked-0123456789';
const NEW_TOKEN = 'git-token-rotated-9876543210';

let h: SourceControlHarness;
/** The one password the git server takes; tests change it to revoke the old token. */
let accepted = OLD_TOKEN;

beforeEach(async () => {
  accepted = OLD_TOKEN;
  h = await startSourceControlHarness({
    env: { DEPLOYMENT_MODE: 'onprem' },
    token: OLD_TOKEN,
    checkAuth: (_user, pass) => pass === accepted,
  });
});
afterEach(() => h.close());

async function build(appId: string, files: FileTree) {
  const token = await h.gateway.workerToken(appId);
  const response = await uploadBuild(h.gateway, appId, token, await makeTar(files));
  expect(response.status).toBe(201);
}

async function sourceControlOf(appId: string): Promise<SourceControlBody> {
  const token = await h.gateway.userToken({ role: 'viewer' });
  const response = await h.gateway.request(`/api/v1/apps/${appId}`, { token });
  return ((await response.json()) as { app: { sourceControl: SourceControlBody } }).app
    .sourceControl;
}

test('saving a new token re-queues syncs that failed for good with auth_failed, and they sync', async () => {
  await h.git.createRepo(GIT_OWNER, 'second-app-ledger');
  await h.git.createRepo(GIT_OWNER, 'second-app-invoices');
  expect((await h.connect({ storeAppSource: true })).status).toBe(200);
  const ledger = await h.gateway.createApp('Ledger');
  const invoices = await h.gateway.createApp('Invoices');

  // The provider revokes the token: every sync now fails for good.
  accepted = NEW_TOKEN;
  // The runner's queue, not `settle`: a build queued behind a held job waits, so it never settles.
  await build(ledger, sampleApp({ 'src/ledger.ts': 'one' }));
  await h.module.runner.idle();
  await build(ledger, sampleApp({ 'src/ledger.ts': 'two' }));
  await build(invoices, sampleApp({ 'src/invoices.ts': 'one' }));
  await h.module.runner.idle();

  for (const appId of [ledger, invoices]) {
    expect(await sourceControlOf(appId)).toMatchObject({
      status: 'failed',
      lastError: { code: 'auth_failed' },
      nextRetryAt: null,
    });
  }
  const held = await h.gateway.store.reader('acme').unfinishedJobsOfWorkspace();
  expect(held.map((job) => [job.appId, job.state])).toEqual([
    [ledger, 'failed'],
    [ledger, 'queued'],
    [invoices, 'failed'],
  ]);

  // The save kicks the released apps before it answers; a job it failed to release stays held,
  // so the queue going idle is the end either way.
  expect((await h.connect({ token: NEW_TOKEN })).status).toBe(200);
  await h.module.runner.idle();

  expect(await sourceControlOf(ledger)).toMatchObject({
    status: 'synced',
    version: 2,
    lastError: null,
  });
  expect(await sourceControlOf(invoices)).toMatchObject({
    status: 'synced',
    version: 1,
    lastError: null,
  });
  expect(h.remoteTags('second-app-ledger')).toEqual(['second-app-v1', 'second-app-v2']);
  expect(h.remoteTags('second-app-invoices')).toEqual(['second-app-v1']);
  expect(await h.gateway.store.reader('acme').unfinishedJobsOfWorkspace()).toEqual([]);
});

test('a settings save makes as many store calls for forty apps as for one', async () => {
  expect((await h.connect()).status).toBe(200);
  await h.gateway.createApp('First');

  // Counts every call to a method of a workspace view, whoever makes it.
  const store = h.gateway.store;
  const openView = store.workspace.bind(store);
  let calls = 0;
  store.workspace = (workspaceId: string) => {
    const view = openView(workspaceId);
    return new Proxy(view, {
      get(target, name) {
        const value = Reflect.get(target, name) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as WorkspaceStore;
  };

  const callsOfOneSave = async () => {
    calls = 0;
    expect((await h.connect()).status).toBe(200);
    return calls;
  };

  const withOneApp = await callsOfOneSave();
  for (let i = 0; i < 39; i += 1) await h.gateway.createApp(`App ${i}`);
  const withFortyApps = await callsOfOneSave();

  expect(withOneApp).toBeGreaterThan(0);
  expect(withFortyApps).toBe(withOneApp);
});
