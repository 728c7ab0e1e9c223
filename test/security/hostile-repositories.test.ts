import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mirrorPath } from '../../mirror/index.js';
import { makeTar, sampleApp, uploadBuild } from '../gateway/gateway-fixtures.js';
import { OWNER, startCatalogWorld, type CatalogWorld } from '../gateway/catalog/catalog-support.js';
import { untar } from '../gateway/restore/restore-support.js';
import { WORKSPACE } from '../support/gateway-harness.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../support/source-control-harness.js';
import { errorCodeOf } from './security-support.js';
import {
  APP_FILES,
  hasObject,
  hostileTrees,
  mainOf,
  plantCommit,
  refTargets,
  withCatalogManifest,
  type HostileTree,
} from './hostile-trees.js';

/** The codes a refused history may be answered with: its names, or its entry types. */
const REFUSALS = ['unsafe_path', 'unsupported_entry'];

/** True for a path that git or a file system could take for a repository's own folder. */
function reachesGitDir(path: string): boolean {
  return path.split('/').some((part) => /^\.git[. ]*$/i.test(part) || part === '..');
}

let markerDir: string;
let counter = 0;

beforeAll(async () => {
  markerDir = await mkdtemp(join(tmpdir(), 'hostile-marker-'));
});
afterAll(() => rm(markerDir, { recursive: true, force: true }));

/** A marker path of its own for each run, so one run cannot hide another's. */
function newMarker(): string {
  counter += 1;
  return join(markerDir, `ran-${counter}`);
}

const cases = hostileTrees().map((hostile) => [hostile.name, hostile] as const);

describe('a plain git remote', () => {
  let h: SourceControlHarness;

  beforeAll(async () => {
    h = await startSourceControlHarness({ env: { DEPLOYMENT_MODE: 'local' } });
    expect((await h.connect()).status).toBe(200);
  });
  afterAll(() => h.close());

  /** An app published as version 1, with the bare repository behind it on the git server. */
  async function publishedApp(name: string): Promise<{ appId: string; remote: string }> {
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    const remote = await h.git.createRepo(GIT_OWNER, `second-app-${slug}`);
    const appId = await h.gateway.createApp(name);
    await build(appId, {});
    const published = await h.gateway.request(`/api/v1/apps/${appId}/source-control/publish`, {
      method: 'POST',
      token: await h.gateway.userToken({ role: 'builder' }),
    });
    expect(published.status).toBe(202);
    await h.settle();
    expect((await appOf(appId)).sourceControl).toMatchObject({ status: 'synced', version: 1 });
    return { appId, remote };
  }

  async function build(appId: string, extra: Record<string, string>): Promise<void> {
    const token = await h.gateway.workerToken(appId);
    const response = await uploadBuild(h.gateway, appId, token, await makeTar(sampleApp(extra)));
    expect(response.status).toBe(201);
  }

  async function appOf(appId: string) {
    return (await h.gateway.store.reader(WORKSPACE).getApp(appId))!;
  }

  async function restore(appId: string, version?: number): Promise<Response> {
    return h.gateway.request(`/internal/v1/apps/${appId}/restore`, {
      method: 'POST',
      token: await h.gateway.workerToken(appId),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(version === undefined ? {} : { version }),
    });
  }

  /** The paths a restore handed out; a refusal answers none. */
  async function restoredPaths(response: Response): Promise<string[]> {
    if (response.status !== 200) return [];
    return [...(await untar(Buffer.from(await response.arrayBuffer()))).keys()];
  }

  test.each(cases)(
    'a sync fetching %s refuses it (or keeps it as plain files) and runs nothing',
    async (name, hostile: HostileTree) => {
      const marker = newMarker();
      const { appId, remote } = await publishedApp(`Fetch ${name}`);
      const mirror = mirrorPath(h.gateway.dataDir, WORKSPACE, appId);
      const planted = plantCommit(remote, hostile.tree(marker), { parent: mainOf(remote) });

      await build(appId, { 'src/v2.ts': 'export const v = 2;\n' });
      await h.settle();

      const app = await appOf(appId);
      if (hostile.refused) {
        expect(app.sourceControl.status).toBe('failed');
        expect(REFUSALS).toContain(app.sourceControl.lastError?.code);
        expect(refTargets(mirror)).not.toContain(planted);
        expect(h.remoteTags(`second-app-fetch-${name}`)).toEqual(['second-app-v1']);
      } else {
        expect(app.sourceControl).toMatchObject({ status: 'synced', version: 2 });
        expect(app.sourceControl.outsideCommits).toBe(true);
      }

      // A warm restore after it fetches again, and must hand out nothing of the hostile tree.
      const paths = await restoredPaths(await restore(appId));
      expect(paths.filter(reachesGitDir)).toEqual([]);
      expect(existsSync(marker)).toBe(false);
    },
  );

  test.each(cases)(
    'a worker restore of a tag rewritten to %s, with the mirror deleted, refuses it and runs nothing',
    async (name, hostile: HostileTree) => {
      const marker = newMarker();
      const { appId, remote } = await publishedApp(`Restore ${name}`);
      const mirror = mirrorPath(h.gateway.dataDir, WORKSPACE, appId);
      const planted = plantCommit(remote, hostile.tree(marker), {
        parent: mainOf(remote),
        tag: 'second-app-v1',
      });
      await rm(mirror, { recursive: true, force: true });

      const response = await restore(appId, 1);
      const origin = response.headers.get('x-source-origin');
      const paths = await restoredPaths(response);

      // The version is the one the gateway wrote: the rewritten tag's tree is never served,
      // whether the restore refuses or falls back to the stored copy of version 1.
      if (response.status === 200) {
        expect(paths.sort()).toEqual(Object.keys(sampleApp()).sort());
        expect(origin).not.toBe(null);
      } else {
        // A rewritten tag is also caught by the version check (its manifest or hash is not the
        // recorded one) when its paths alone would pass.
        expect([...REFUSALS, 'invalid_manifest', 'hash_mismatch']).toContain(
          await errorCodeOf(response),
        );
      }
      expect(paths.filter(reachesGitDir)).toEqual([]);
      // A history of plain files may be kept as the remote's state; a refused one never is.
      if (hostile.refused && existsSync(mirror)) expect(refTargets(mirror)).not.toContain(planted);
      expect(existsSync(marker)).toBe(false);
    },
  );
});

test('a worker snapshot carrying a .gitmodules that fsck refuses is published without it, so the mirror can be rebuilt and later builds sync', async () => {
  const h = await startSourceControlHarness({ env: { DEPLOYMENT_MODE: 'local' } });
  const marker = newMarker();
  try {
    expect((await h.connect()).status).toBe(200);
    await h.git.createRepo(GIT_OWNER, 'second-app-submodule-trick');
    const appId = await h.gateway.createApp('Submodule Trick');
    const worker = await h.gateway.workerToken(appId);
    const gitmodules = `[submodule "sub"]\n\tpath = sub\n\turl = --upload-pack=touch '${marker}'\n`;
    const upload = async (extra: Record<string, string>) => {
      const response = await uploadBuild(
        h.gateway,
        appId,
        worker,
        await makeTar(sampleApp({ '.gitmodules': gitmodules, ...extra })),
      );
      expect(response.status).toBe(201);
      return (await response.json()) as { build: { skipped: { path: string }[] } };
    };

    const first = await upload({});
    expect(first.build.skipped.map((entry) => entry.path)).toContain('.gitmodules');
    const published = await h.gateway.request(`/api/v1/apps/${appId}/source-control/publish`, {
      method: 'POST',
      token: await h.gateway.userToken({ role: 'builder' }),
    });
    expect(published.status).toBe(202);
    await h.settle();

    await rm(mirrorPath(h.gateway.dataDir, WORKSPACE, appId), { recursive: true, force: true });
    const restored = await h.gateway.request(`/internal/v1/apps/${appId}/restore`, {
      method: 'POST',
      token: worker,
    });
    expect(restored.status).toBe(200);
    const files = await untar(Buffer.from(await restored.arrayBuffer()));
    expect(files.has('.gitmodules')).toBe(false);

    await upload({ 'src/v2.ts': 'export {};\n' });
    await h.settle();
    const app = (await h.gateway.store.reader(WORKSPACE).getApp(appId))!;
    expect(app.sourceControl).toMatchObject({ status: 'synced', version: 2, lastError: null });
    expect(h.remoteTags('second-app-submodule-trick')).toEqual(['second-app-v1', 'second-app-v2']);
    expect(existsSync(marker)).toBe(false);
  } finally {
    await h.close();
  }
});

describe('a GitHub catalog', () => {
  let world: CatalogWorld;

  beforeAll(async () => {
    world = await startCatalogWorld();
  });
  afterAll(() => world.close());

  test.each(cases)(
    'install of a version holding %s refuses it (or takes it as plain files) and runs nothing',
    async (name, hostile: HostileTree) => {
      const marker = newMarker();
      const repo = `second-app-install-${name}`;
      await world.double.seedRepo(OWNER, repo, {
        topics: ['second-app'],
        files: APP_FILES,
        tags: ['second-app-v1'],
      });
      const remote = world.double.gitRepoPath(OWNER, repo);
      plantCommit(remote, withCatalogManifest(hostile.tree(marker), repo), {
        parent: mainOf(remote),
        tag: 'second-app-v1',
      });
      const gateway = world.h.gateway;
      const before = { writes: gateway.store.writeCount, apps: await listApps() };

      const response = await gateway.request('/api/v1/catalog/install', {
        method: 'POST',
        token: await gateway.userToken({ role: 'builder' }),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ repo }),
      });

      if (hostile.refused && hostile.strippedOnImport === undefined) {
        // git archive on the provider's side refuses to write `.git` and `..` paths, so the
        // provider serves a broken archive; the same paths in a well-formed archive are refused
        // as unsafe_path (hostile-archives.test.ts serves them through a proxy).
        const code = await errorCodeOf(response);
        expect([name, response.status, [...REFUSALS, 'invalid_archive'].includes(code!)]).toEqual([
          name,
          422,
          true,
        ]);
        expect(gateway.store.writeCount).toBe(before.writes);
        expect(await listApps()).toEqual(before.apps);
      } else {
        expect(response.status).toBe(201);
        const { app } = (await response.json()) as { app: { id: string } };
        const restored = await gateway.request(`/internal/v1/apps/${app.id}/restore`, {
          method: 'POST',
          token: await gateway.workerToken(app.id),
        });
        const files = await untar(Buffer.from(await restored.arrayBuffer()));
        expect([...files.keys()].filter(reachesGitDir)).toEqual([]);
        for (const stripped of hostile.strippedOnImport ?? [])
          expect(files.has(stripped)).toBe(false);
        if (!hostile.refused) expect(files.get('config')).toContain('fsmonitor');
      }
      expect(hasObject(remote, mainOf(remote))).toBe(true);
      expect(existsSync(marker)).toBe(false);

      async function listApps() {
        return gateway.store.reader(WORKSPACE).listApps();
      }
    },
  );
});
