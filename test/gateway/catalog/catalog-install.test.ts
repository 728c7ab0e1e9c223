import type { AppRecord } from '../../../core/model.js';
import { pushAsOutsider, untar } from '../restore/restore-support.js';
import { makeTar, uploadBuild } from '../gateway-fixtures.js';
import { OTHER_WORKSPACE, WORKSPACE } from '../../support/gateway-harness.js';
import { listGitTags } from '../../doubles/provider-double.js';
import {
  appFiles,
  manifestFor,
  OWNER,
  seedApp,
  startCatalogWorld,
  type CatalogWorld,
} from './catalog-support.js';

interface AppView {
  id: string;
  name: string;
  draft: { buildId: string; snapshotHash: string } | null;
  sourceControl: { backed: boolean; status: string };
  installedFrom: {
    provider: string;
    owner: string;
    repo: string;
    tag: string;
    version: number;
    commitSha: string;
    installedAt: string;
  } | null;
}

const REPO = 'second-app-alpha';
let world: CatalogWorld;

beforeEach(async () => {
  world = await startCatalogWorld();
  await seedApp(world, REPO, { appName: 'Alpha Console' });
});
afterEach(() => world.close());

async function post(path: string, body: unknown, role: 'builder' | 'viewer' = 'builder') {
  return world.h.gateway.request(path, {
    method: 'POST',
    token: await world.h.gateway.userToken({ role, sub: 'bob' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function install(repo = REPO): Promise<AppView> {
  const response = await post('/api/v1/catalog/install', { repo });
  expect(response.status).toBe(201);
  return ((await response.json()) as { app: AppView }).app;
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

/** The app's files as a worker restore hands them out. */
async function filesOf(appId: string): Promise<Map<string, string>> {
  const response = await world.h.gateway.request(`/internal/v1/apps/${appId}/restore`, {
    method: 'POST',
    token: await world.h.gateway.workerToken(appId),
  });
  expect(response.status).toBe(200);
  return untar(Buffer.from(await response.arrayBuffer()));
}

/** Pushes version `n` of the app to the repository, as a later publish would. */
async function pushVersion(n: number): Promise<void> {
  const files = appFiles(n);
  await pushAsOutsider(world.double.gitRepoPath(OWNER, REPO), {
    write: {
      ...files,
      'second-app.json': manifestFor(REPO, files, { version: n, appName: 'Alpha Console' }),
    },
    tag: `second-app-v${n}`,
  });
}

test('install imports the tagged version as a new local app, without publishing it', async () => {
  const requestsBefore = world.double.requests.length;
  const app = await install();

  const [tag] = await listGitTags(world.double.gitRepoPath(OWNER, REPO));
  expect(app.name).toBe('Alpha Console');
  expect(app.installedFrom).toEqual({
    provider: 'github',
    owner: OWNER,
    repo: REPO,
    tag: 'second-app-v1',
    version: 1,
    commitSha: tag?.commitSha,
    installedAt: expect.any(String),
  });
  expect(app.draft).not.toBeNull();
  expect(app.sourceControl).toMatchObject({ backed: false, status: 'disabled' });
  expect(await filesOf(app.id)).toEqual(new Map(Object.entries(appFiles(1))));

  const reader = world.h.gateway.store.reader(WORKSPACE);
  const [build] = await reader.listBuilds(app.id);
  expect(build?.summary).toBe(`Installed from ${OWNER}/${REPO} second-app-v1`);
  const audits = await reader.listAudit({ appId: app.id });
  const catalogAudits = audits.filter((a) => a.action.startsWith('catalog.'));
  expect(catalogAudits.map((a) => [a.action, a.outcome, a.actor])).toEqual([
    ['catalog.install', 'success', 'bob'],
  ]);

  // Reads and the download only: no repository made, no topic set, nothing pushed.
  const seen = world.double.requests.slice(requestsBefore);
  expect(seen.every((r) => r.method === 'GET')).toBe(true);
  expect(seen.some((r) => r.kind === 'archive')).toBe(true);
});

/**
 * Every state of the workspace's apps a reader could have seen while `run` ran: after each call
 * that wrote to the store, the apps are read back. The gateway's own store is watched, not
 * replaced, and put back as it was afterwards.
 */
async function appStatesDuring(run: () => Promise<void>): Promise<AppRecord[]> {
  const store = world.h.gateway.store;
  const workspaceOf = store.workspace;
  const states: AppRecord[] = [];
  store.workspace = (workspaceId) => {
    const view = workspaceOf.call(store, workspaceId);
    return new Proxy(view, {
      get(target, key) {
        const member: unknown = Reflect.get(target, key, target);
        if (typeof member !== 'function') return member;
        return async (...args: unknown[]) => {
          const writesBefore = store.writeCount;
          const result: unknown = await member.apply(target, args);
          if (store.writeCount !== writesBefore && workspaceId === WORKSPACE) {
            states.push(...(await target.listApps()));
          }
          return result;
        };
      },
    });
  };

  try {
    await run();
  } finally {
    store.workspace = workspaceOf;
  }
  return states;
}

test('install and update each change the app in one write, never leaving it half-made', async () => {
  let app: AppView | undefined;
  const installing = await appStatesDuring(async () => {
    app = await install();
  });

  // The app appears with its draft, never before it.
  expect(installing.map((state) => state.id)).toContain(app?.id);
  expect(installing.filter((state) => state.draft === null)).toEqual([]);

  await pushVersion(2);
  let updated: AppView | undefined;
  const updating = await appStatesDuring(async () => {
    const response = await post('/api/v1/catalog/update', { appId: app?.id, force: false });
    expect(response.status).toBe(200);
    updated = ((await response.json()) as { app: AppView }).app;
  });

  // The draft and the version it came from move together: no state has one without the other.
  const before = `${app?.draft?.buildId} at v1`;
  const after = `${updated?.draft?.buildId} at v2`;
  const seen = updating
    .filter((state) => state.id === app?.id)
    .map((state) => `${state.draft?.buildId} at v${state.installedFrom?.version}`);
  expect(seen).toContain(after);
  expect(seen.filter((state) => state !== before && state !== after)).toEqual([]);
});

test('install refuses bad input, unknown and storage-only repositories, and viewers', async () => {
  await seedApp(world, 'second-app-storage', { available: false });
  const apps = async () => world.h.gateway.store.reader(WORKSPACE).listApps();
  const writes = world.h.gateway.store.writeCount;

  for (const body of [{}, { repo: '../x' }, { repo: 42 }, { repo: '.hidden' }]) {
    const response = await post('/api/v1/catalog/install', body);
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe('invalid_request');
  }
  const unknown = await post('/api/v1/catalog/install', { repo: 'second-app-nothing' });
  expect(unknown.status).toBe(404);
  const storage = await post('/api/v1/catalog/install', { repo: 'second-app-storage' });
  expect(storage.status).toBe(404);
  const viewer = await post('/api/v1/catalog/install', { repo: REPO }, 'viewer');
  expect(viewer.status).toBe(403);

  expect(await apps()).toEqual([]);
  expect(world.h.gateway.store.writeCount).toBe(writes);
});

test('update brings the copy to the newer version as a new draft; then it is up to date', async () => {
  const app = await install();
  await pushVersion(2);

  const listed = await world.h.gateway.request('/api/v1/catalog', {
    token: await world.h.gateway.userToken({ role: 'viewer' }),
  });
  expect(((await listed.json()) as { entries: unknown[] }).entries).toEqual([
    expect.objectContaining({ version: 2, installedVersion: 1, updateAvailable: true }),
  ]);

  const response = await post('/api/v1/catalog/update', { appId: app.id, force: false });
  expect(response.status).toBe(200);
  const updated = ((await response.json()) as { app: AppView }).app;
  const tags = await listGitTags(world.double.gitRepoPath(OWNER, REPO));
  expect(updated.installedFrom).toMatchObject({
    tag: 'second-app-v2',
    version: 2,
    commitSha: tags.find((t) => t.name === 'second-app-v2')?.commitSha,
  });
  expect(updated.draft?.buildId).not.toBe(app.draft?.buildId);
  expect(await filesOf(app.id)).toEqual(new Map(Object.entries(appFiles(2))));

  const again = await post('/api/v1/catalog/update', { appId: app.id });
  expect(again.status).toBe(409);
  expect(await errorCode(again)).toBe('up_to_date');

  const audits = await world.h.gateway.store.reader(WORKSPACE).listAudit({ appId: app.id });
  expect(audits.map((a) => a.action).filter((action) => action.startsWith('catalog.'))).toEqual([
    'catalog.update',
    'catalog.install',
  ]);
});

test('update refuses a copy built here since its install unless forced, and says what is lost', async () => {
  const app = await install();
  const worker = await world.h.gateway.workerToken(app.id);
  const built = await uploadBuild(
    world.h.gateway,
    app.id,
    worker,
    await makeTar({ ...appFiles(1), 'src/mine.ts': 'export const mine = true;\n' }),
    { summary: 'My change' },
  );
  expect(built.status).toBe(201);
  await pushVersion(2);

  const refused = await post('/api/v1/catalog/update', { appId: app.id, force: false });
  expect(refused.status).toBe(409);
  const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
  expect(error.code).toBe('local_changes');
  expect(error.message).toContain('once since second-app-v1');
  expect(error.message).toContain('second-app-v2');
  expect((await filesOf(app.id)).has('src/mine.ts')).toBe(true);

  const forced = await post('/api/v1/catalog/update', { appId: app.id, force: true });
  expect(forced.status).toBe(200);
  expect(await filesOf(app.id)).toEqual(new Map(Object.entries(appFiles(2))));

  // The local build stays in the history.
  const builds = await world.h.gateway.store.reader(WORKSPACE).listBuilds(app.id);
  expect(builds.map((b) => b.summary)).toEqual([
    `Updated from ${OWNER}/${REPO} second-app-v2`,
    'My change',
    `Installed from ${OWNER}/${REPO} second-app-v1`,
  ]);
});

test('update answers not_installed for an app made here, 404 for an unknown one, 400 for bad input', async () => {
  const local = await world.h.gateway.createApp('Made here');
  const notInstalled = await post('/api/v1/catalog/update', { appId: local });
  expect(notInstalled.status).toBe(409);
  expect(await errorCode(notInstalled)).toBe('not_installed');

  const unknown = await post('/api/v1/catalog/update', { appId: 'zzzzzzzzzzzzzzzzzzzz' });
  expect(unknown.status).toBe(404);

  const app = await install();
  const bad = await post('/api/v1/catalog/update', { appId: app.id, force: 'yes' });
  expect(bad.status).toBe(400);
  const missing = await post('/api/v1/catalog/update', { force: true });
  expect(missing.status).toBe(400);
});

test("another workspace's installed app is answered 404 on update, and left as it was", async () => {
  const app = await install();
  await pushVersion(2);
  const theirs = await world.h.gateway.request('/api/v1/catalog/update', {
    method: 'POST',
    token: await world.h.gateway.userToken({ role: 'owner', workspaceId: OTHER_WORKSPACE }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appId: app.id, force: true }),
  });
  expect(theirs.status).toBe(404);

  const stored = await world.h.gateway.store.reader(WORKSPACE).getApp(app.id);
  expect(stored?.installedFrom?.version).toBe(1);
  expect(stored?.draft?.buildId).toBe(app.draft?.buildId);
});
