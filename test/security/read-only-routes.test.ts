import { pushAsOutsider } from '../gateway/restore/restore-support.js';
import { appFiles, manifestFor, OWNER } from '../gateway/catalog/catalog-support.js';
import { UI_PAGE_PATHS } from '../../gateway/http/routes/ui-routes.js';
import { dataDirPaths, providerMutations, readEventStream } from './security-support.js';
import { CATALOG_REPO, startSecurityWorld, type SecurityWorld } from './security-world.js';

let world: SecurityWorld;

beforeAll(async () => {
  world = await startSecurityWorld();

  // A newer version on the provider, so the listing has an update to report and reads the
  // new manifest rather than a cached one.
  const files = appFiles(2);
  await pushAsOutsider(world.double.gitRepoPath(OWNER, CATALOG_REPO), {
    write: { ...files, 'second-app.json': manifestFor(CATALOG_REPO, files, { version: 2 }) },
    tag: 'second-app-v2',
  });
});
afterAll(() => world.close());

test('no GET or HEAD route writes to the store, mutates the provider, records audit or touches a mirror or DATA_DIR', async () => {
  const viewer = await world.h.gateway.userToken({ role: 'viewer' });
  const owner = await world.h.gateway.userToken({ role: 'owner' });
  const { installed, published } = world;
  const routes: [string, string | null][] = [
    ['/healthz', null],
    ['/readyz', null],
    ['/metrics', null],
    ['/api/v1/session', viewer],
    ['/api/v1/source-control', viewer],
    ['/api/v1/source-control', owner],
    ['/api/v1/apps', viewer],
    [`/api/v1/apps/${published}`, viewer],
    [`/api/v1/apps/${published}/builds`, viewer],
    [`/api/v1/apps/${published}/versions`, viewer],
    [`/api/v1/apps/${installed}`, viewer],
    [`/api/v1/apps/${installed}/versions`, viewer],
    ['/api/v1/catalog', viewer],
    ['/api/v1/catalog', owner],
    ['/api/v1/audit', owner],
    [`/api/v1/audit?appId=${published}`, owner],
    [`/preview/${published}/`, viewer],
    [`/preview/${published}/assets/app.js`, viewer],
    [`/preview/${published}/v/1/`, viewer],
    [`/preview/${published}/v/1/assets/app.css`, viewer],
    [`/preview/${published}/v/7/`, viewer],
    [`/preview/${installed}/`, viewer],
    [`/preview/${installed}/v/1/`, viewer],
    ['/api/v1/apps/zzzzzzzzzzzzzzzzzzzz', viewer],
    ...UI_PAGE_PATHS.map((path): [string, null] => [path.replace(':appId', published), null]),
  ];
  const before = await world.sideEffects();
  const paths = await dataDirPaths(world.h.gateway.dataDir);
  const mutationsBefore = providerMutations(world.double.requests).length;

  const events = await world.h.gateway.request('/api/v1/events', { token: viewer });
  expect(events.status).toBe(200);

  const statuses: string[] = [];
  // fastify answers HEAD on every GET route; it must read as little as the GET does.
  for (const method of ['GET', 'HEAD']) {
    for (const [path, token] of routes) {
      const response = await world.h.gateway.request(path, {
        method,
        ...(token === null ? {} : { token }),
      });
      await response.arrayBuffer();
      statuses.push(`${method} ${response.status} ${path}`);
      expect([method, path, response.status < 500]).toEqual([method, path, true]);
    }
  }
  // The listing really went to the provider, and found the update: the reads were not skipped.
  const catalog = await world.h.gateway.request('/api/v1/catalog', { token: viewer });
  expect(((await catalog.json()) as { entries: unknown[] }).entries).toEqual([
    expect.objectContaining({ repo: CATALOG_REPO, version: 2, updateAvailable: true }),
  ]);
  expect(statuses).toContain(`GET 200 /preview/${published}/v/1/`);
  expect(statuses).toContain(`HEAD 200 /preview/${published}/v/1/`);
  expect(statuses).toContain(`GET 404 /preview/${published}/v/7/`);

  const eventText = await readEventStream(events, () => false, 300);
  expect(eventText).not.toContain('data:');

  const after = await world.sideEffects();
  expect(after.providerRequests).toBeGreaterThan(before.providerRequests);
  expect(providerMutations(world.double.requests).length).toBe(mutationsBefore);
  expect({ ...after, providerRequests: 0 }).toEqual({ ...before, providerRequests: 0 });
  expect(await dataDirPaths(world.h.gateway.dataDir)).toEqual(paths);
});
