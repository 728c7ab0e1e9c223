import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { hostileArchives } from '../../support/hostile-archives.js';
import { providerArchive } from '../../support/snapshot-archives.js';
import { WORKSPACE } from '../../support/gateway-harness.js';
import { seedApp, startCatalogWorld, type CatalogWorld } from './catalog-support.js';

const REPO = 'second-app-alpha';
let world: CatalogWorld;

beforeAll(async () => {
  world = await startCatalogWorld();
  await seedApp(world, REPO);
});
afterAll(() => world.close());

async function install(on: CatalogWorld = world): Promise<Response> {
  return on.h.gateway.request('/api/v1/catalog/install', {
    method: 'POST',
    token: await on.h.gateway.userToken({ role: 'builder' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ repo: REPO }),
  });
}

/** Whatever an import left in the gateway's temporary folder. */
async function leftovers(on: CatalogWorld = world): Promise<string[]> {
  return readdir(join(on.h.gateway.dataDir, 'tmp')).catch(() => []);
}

const cases = hostileArchives().filter((hostile) => hostile.expected.import !== undefined);

test.each(cases.map((hostile) => [hostile.name, hostile] as const))(
  'install refuses the hostile archive %s and creates nothing',
  async (_name, hostile) => {
    // A case that needs lowered caps (the total size) gets a gateway of its own with them.
    let own: CatalogWorld | null = null;
    if (hostile.limits) {
      own = await startCatalogWorld({}, { deps: { archiveLimits: hostile.limits } });
      await seedApp(own, REPO);
    }
    const on = own ?? world;
    try {
      const store = on.h.gateway.store;
      const writes = store.writeCount;
      on.proxy.serveArchive(hostile.build('import'));

      const response = await install(on);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        hostile.expected.import,
      );

      expect(store.writeCount).toBe(writes);
      expect(await store.reader(WORKSPACE).listApps()).toEqual([]);
      expect(await leftovers(on)).toEqual([]);
    } finally {
      await own?.close();
    }
  },
);

test('install refuses an archive whose manifest does not match its files, and a mismatched tag', async () => {
  const writes = world.h.gateway.store.writeCount;
  const files = { 'dist/index.html': '<p>ok</p>' };
  // A manifest that names tag v1 but a source hash no file set has.
  const wrongHash = {
    type: 'second.app.export.v1',
    schemaVersion: 1,
    app: { name: 'Alpha' },
    source: { fileCount: 1, totalBytes: 9, hash: `sha256:${'0'.repeat(64)}` },
    sourceControl: {
      provider: 'github',
      owner: 'acme',
      repo: REPO,
      tag: 'second-app-v1',
      version: 1,
      commitSha: null,
      availableInCatalog: true,
    },
  };
  const tampered = providerArchive(files, {
    manifest: Buffer.from(JSON.stringify(wrongHash)),
    gzip: true,
  });
  world.proxy.serveArchive(tampered);
  const mismatch = await install();
  expect(mismatch.status).toBe(422);
  expect(((await mismatch.json()) as { error: { code: string } }).error.code).toBe('hash_mismatch');

  world.proxy.serveArchive(providerArchive(files, { version: 7, gzip: true }));
  const otherTag = await install();
  expect(otherTag.status).toBe(422);
  expect(((await otherTag.json()) as { error: { code: string } }).error.code).toBe(
    'invalid_manifest',
  );

  expect(world.h.gateway.store.writeCount).toBe(writes);
  expect(await world.h.gateway.store.reader(WORKSPACE).listApps()).toEqual([]);

  // The real archive still installs once the provider serves it again.
  world.proxy.serveArchive(null);
  expect((await install()).status).toBe(201);
});
