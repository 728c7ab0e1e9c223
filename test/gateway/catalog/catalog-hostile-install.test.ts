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

async function install(): Promise<Response> {
  return world.h.gateway.request('/api/v1/catalog/install', {
    method: 'POST',
    token: await world.h.gateway.userToken({ role: 'builder' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ repo: REPO }),
  });
}

/** Whatever an import left in the gateway's temporary folder. */
async function leftovers(): Promise<string[]> {
  return readdir(join(world.h.gateway.dataDir, 'tmp')).catch(() => []);
}

const cases = hostileArchives().filter((hostile) => hostile.expected.import !== undefined);
// The total-size case only fits a test under a lowered total cap, which the install route does
// not take; the reader's own tests run it with that cap.
const runnable = cases.filter((hostile) => hostile.limits === undefined);
for (const skipped of cases.filter((hostile) => hostile.limits !== undefined)) {
  console.log(`skipping ${skipped.name} on install: it needs caps the install route does not take`);
}

test.each(runnable.map((hostile) => [hostile.name, hostile] as const))(
  'install refuses the hostile archive %s and creates nothing',
  async (_name, hostile) => {
    const store = world.h.gateway.store;
    const writes = store.writeCount;
    world.proxy.serveArchive(hostile.build('import'));

    const response = await install();
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      hostile.expected.import,
    );

    expect(store.writeCount).toBe(writes);
    expect(await store.reader(WORKSPACE).listApps()).toEqual([]);
    expect(await leftovers()).toEqual([]);
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
