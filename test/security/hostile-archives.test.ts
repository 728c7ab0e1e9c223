import { join } from 'node:path';
import type { ErrorCode } from '../../core/errors.js';
import { makeTar, sampleApp, uploadBuild } from '../gateway/gateway-fixtures.js';
import {
  seedApp,
  startCatalogWorld,
  type CatalogWorld,
} from '../gateway/catalog/catalog-support.js';
import { startGatewayHarness, WORKSPACE, type GatewayHarness } from '../support/gateway-harness.js';
import {
  hostileArchives,
  IMPORT_TOP_FOLDER,
  type ArchiveReading,
  type HostileArchive,
} from '../support/hostile-archives.js';
import {
  buildTar,
  dirEntry,
  fileEntry,
  minimalApp,
  symlinkEntry,
  type RawEntry,
} from '../support/raw-tar.js';
import { dataDirPaths, errorCodeOf, escapeTargets, treeOf } from './security-support.js';
import { startSecurityWorld, type SecurityWorld } from './security-world.js';

/** The repository the hostile installs name; the proxy answers its archive with the case's bytes. */
const HOSTILE_REPO = 'second-app-hostile';

/**
 * Cases of the node-tar advisories that the shared corpus spells one way only: an absolute path
 * with more repeated slashes, and through the pax and GNU long-name records that override the
 * header's name field; a symlink chain reached through a folder that was replaced.
 */
function advisoryVariants(): HostileArchive[] {
  const archive = (reading: ArchiveReading, hostile: (at: (p: string) => string) => RawEntry[]) => {
    const at = (path: string) => (reading === 'import' ? `${IMPORT_TOP_FOLDER}/${path}` : path);
    const start = reading === 'import' ? [dirEntry(`${IMPORT_TOP_FOLDER}/`)] : [];
    const app = minimalApp().map((entry) => ({ ...entry, path: at(String(entry.path)) }));
    return buildTar([...start, ...app, ...hostile(at)]);
  };
  const both = (code: ErrorCode) => ({ worker: code, import: code });
  return [
    {
      name: 'absolute-triple-slash',
      description: 'an absolute path spelled with three slashes',
      expected: both('unsafe_path'),
      build: (reading) => archive(reading, () => [fileEntry('///etc/passwd', 'x')]),
    },
    {
      name: 'absolute-repeated-slashes-in-pax-path',
      description: 'a pax path record of repeated slashes over a harmless name field',
      expected: both('unsafe_path'),
      build: (reading) =>
        archive(reading, (at) => [
          { ...fileEntry(at('dist/decoy.js'), 'x'), pax: { path: '////tmp/evil.js' } },
        ]),
    },
    {
      name: 'absolute-repeated-slashes-in-gnu-long-name',
      description: 'a GNU long name of repeated slashes over a harmless name field',
      expected: both('unsafe_path'),
      build: (reading) =>
        archive(reading, (at) => [
          { ...fileEntry(at('dist/decoy.js'), 'x'), gnuLongName: '//./tmp/evil.js' },
        ]),
    },
    {
      name: 'folder-replaced-by-symlink-chain',
      description: 'a folder replaced by a symlink to a symlink, then a file written through it',
      expected: { worker: 'unsafe_path', import: 'unsupported_entry' },
      build: (reading) =>
        archive(reading, (at) => [
          dirEntry(at('assets/')),
          symlinkEntry(at('hop'), '/tmp'),
          symlinkEntry(at('assets'), 'hop'),
          fileEntry(at('assets/x.js'), 'x'),
        ]),
    },
  ];
}

const corpus = [...hostileArchives(), ...advisoryVariants()];

let world: SecurityWorld;

beforeAll(async () => {
  world = await startSecurityWorld();
  await seedApp(world, HOSTILE_REPO);
});
afterAll(() => world.close());

/** DATA_DIR must hold what it held, and at most an empty temporary folder more. */
async function expectDataDirAsBefore(dataDir: string, before: string[]): Promise<void> {
  const withoutTmp = (paths: string[]) => paths.filter((path) => path !== 'tmp/');
  expect(withoutTmp(await dataDirPaths(dataDir))).toEqual(withoutTmp(before));
  expect(await treeOf(join(dataDir, 'tmp'))).toEqual([]);
}

describe('a worker upload', () => {
  const cases = corpus.filter((hostile) => hostile.expected.worker !== undefined);

  test.each(cases.map((hostile) => [hostile.name, hostile] as const))(
    'refuses %s and writes nothing anywhere',
    async (_name, hostile) => {
      // A case that needs lowered caps gets a gateway of its own with them.
      const own: GatewayHarness | null = hostile.limits
        ? await startGatewayHarness({ deps: { archiveLimits: hostile.limits } })
        : null;
      const gateway = own ?? world.h.gateway;
      try {
        const appId = own ? await own.createApp() : world.published;
        const reader = gateway.store.reader(WORKSPACE);
        const before = {
          writes: gateway.store.writeCount,
          app: await reader.getApp(appId),
          builds: await reader.listBuilds(appId),
          apps: (await reader.listApps()).length,
          paths: await dataDirPaths(gateway.dataDir),
          provider: world.double.requests.length,
          outside: await escapeTargets(gateway.dataDir),
        };

        const worker = await gateway.workerToken(appId);
        const response = await uploadBuild(gateway, appId, worker, hostile.build('worker'));
        expect([response.status >= 400, await errorCodeOf(response)]).toEqual([
          true,
          hostile.expected.worker,
        ]);

        expect(gateway.store.writeCount).toBe(before.writes);
        expect(await reader.getApp(appId)).toEqual(before.app);
        expect(await reader.listBuilds(appId)).toEqual(before.builds);
        expect((await reader.listApps()).length).toBe(before.apps);
        expect(world.double.requests.length).toBe(before.provider);
        await expectDataDirAsBefore(gateway.dataDir, before.paths);
        expect(await escapeTargets(gateway.dataDir)).toEqual(before.outside);
      } finally {
        await own?.close();
      }
    },
  );

  test('the same gateway still takes a good build afterwards, so the refusals were not a broken route', async () => {
    const worker = await world.h.gateway.workerToken(world.bystander);
    const response = await uploadBuild(
      world.h.gateway,
      world.bystander,
      worker,
      await makeTar(sampleApp({ 'src/after.ts': 'export {};\n' })),
    );
    expect(response.status).toBe(201);
  });
});

describe('a catalog import', () => {
  const cases = corpus.filter((hostile) => hostile.expected.import !== undefined);

  afterEach(() => world.proxy.serveArchive(null));

  test.each(cases.map((hostile) => [hostile.name, hostile] as const))(
    'refuses %s and writes nothing anywhere',
    async (_name, hostile) => {
      // A case that needs lowered caps gets a catalog world of its own with them.
      let own: CatalogWorld | null = null;
      if (hostile.limits) {
        own = await startCatalogWorld({}, { deps: { archiveLimits: hostile.limits } });
        await seedApp(own, HOSTILE_REPO);
      }
      const on = own ?? world;
      try {
        const gateway = on.h.gateway;
        const reader = gateway.store.reader(WORKSPACE);
        const before = {
          writes: gateway.store.writeCount,
          apps: await reader.listApps(),
          audit: (await reader.listAudit({ limit: 1000 })).length,
          paths: await dataDirPaths(gateway.dataDir),
          outside: await escapeTargets(gateway.dataDir),
        };
        on.proxy.serveArchive(hostile.build('import'));

        const response = await gateway.request('/api/v1/catalog/install', {
          method: 'POST',
          token: await gateway.userToken({ role: 'builder' }),
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ repo: HOSTILE_REPO }),
        });
        expect([response.status >= 400, await errorCodeOf(response)]).toEqual([
          true,
          hostile.expected.import,
        ]);

        expect(gateway.store.writeCount).toBe(before.writes);
        expect(await reader.listApps()).toEqual(before.apps);
        expect((await reader.listAudit({ limit: 1000 })).length).toBe(before.audit);
        await expectDataDirAsBefore(gateway.dataDir, before.paths);
        expect(await escapeTargets(gateway.dataDir)).toEqual(before.outside);
      } finally {
        await own?.close();
      }
    },
  );

  test('the real archive of the same repository installs, so the refusals were the archives', async () => {
    const response = await world.h.gateway.request('/api/v1/catalog/install', {
      method: 'POST',
      token: await world.h.gateway.userToken({ role: 'builder' }),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repo: HOSTILE_REPO }),
    });
    expect(response.status).toBe(201);
  });
});
