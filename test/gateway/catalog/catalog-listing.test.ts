import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { listCatalog } from '../../../gateway/catalog/list-catalog.js';
import { ManifestCache } from '../../../gateway/catalog/manifest-cache.js';
import {
  appFiles,
  manifestFor,
  startCatalogWorld,
  seedApp,
  OWNER,
  TOKEN,
  type CatalogWorld,
} from './catalog-support.js';
import { WORKSPACE } from '../../support/gateway-harness.js';
import type { ProviderFactory } from '../../../gateway/source-control/provider-session.js';
import { listGitTags, type DoubleRequest } from '../../doubles/provider-double.js';

const execFileAsync = promisify(execFile);

interface Entry {
  repo: string;
  owner: string;
  appName: string | null;
  version: number | null;
  tag: string | null;
  commitSha: string | null;
  installedAppId: string | null;
  installedVersion: number | null;
  updateAvailable: boolean;
  error: { code: string; message: string } | null;
}

let world: CatalogWorld;

async function listing(role: 'viewer' | 'builder' = 'viewer'): Promise<Response> {
  const token = await world.h.gateway.userToken({ role });
  return world.h.gateway.request('/api/v1/catalog', { token });
}

async function entries(): Promise<Entry[]> {
  const response = await listing();
  expect(response.status).toBe(200);
  return ((await response.json()) as { entries: Entry[] }).entries;
}

/** Reads of the root manifest of `repo` among `requests`, whatever the provider's path for it. */
function manifestReads(requests: readonly DoubleRequest[], repo: string): DoubleRequest[] {
  return requests.filter(
    (r) =>
      r.kind === 'api' &&
      r.path.includes(`/${repo}/`) &&
      (r.path.endsWith('/contents/second-app.json') || r.path.endsWith('/raw/second-app.json')),
  );
}

/**
 * Commits `files` on top of `main` of a repository of the GitHub double and pushes it through
 * the double's git endpoint, as someone outside the gateway would. The token reaches git through
 * the environment only.
 */
async function pushFromOutside(repo: string, files: Record<string, string>): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'catalog-push-'));
  const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
  const env = {
    PATH: process.env.PATH,
    HOME: work,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    GIT_AUTHOR_NAME: 'Outside',
    GIT_AUTHOR_EMAIL: 'outside@example.test',
    GIT_COMMITTER_NAME: 'Outside',
    GIT_COMMITTER_EMAIL: 'outside@example.test',
  };
  const git = (args: string[]) => execFileAsync('git', args, { env, cwd: join(work, 'clone') });
  try {
    await execFileAsync(
      'git',
      ['clone', '-q', `${world.double.gitOrigin}/${OWNER}/${repo}.git`, 'clone'],
      { env, cwd: work },
    );
    for (const [path, body] of Object.entries(files)) {
      await mkdir(dirname(join(work, 'clone', path)), { recursive: true });
      await writeFile(join(work, 'clone', path), body);
    }
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', 'share the app']);
    await git(['push', '-q', 'origin', 'main']);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The manifest `manifestFor` writes for `repo` (available in the catalog), with some top-level
 * fields replaced: still well-formed JSON, so only the schema can turn it away.
 */
function manifestWith(repo: string, fields: Record<string, unknown>): string {
  const manifest = JSON.parse(manifestFor(repo, appFiles(1))) as Record<string, unknown>;
  return `${JSON.stringify({ ...manifest, ...fields }, null, 2)}\n`;
}

/**
 * Runs one catalog refresh straight through `listCatalog`, with the providers and cache given,
 * and answers how often it read the manifest of `plain-website`; the listing must be empty.
 */
async function plainReadsOfRefresh(providers: ProviderFactory, cache: ManifestCache) {
  const deps = {
    mode: 'local' as const,
    catalogEnabled: false,
    secrets: world.h.module.secrets,
    providers,
    remoteTimeoutMs: 5_000,
    cache,
    logger: pino({ level: 'silent' }),
  };
  const before = world.double.requests.length;
  expect(await listCatalog(deps, world.h.gateway.store.reader(WORKSPACE))).toEqual([]);
  return manifestReads(world.double.requests.slice(before), 'plain-website').length;
}

describe('with a GitHub organization', () => {
  beforeEach(async () => {
    world = await startCatalogWorld();
  });
  afterEach(() => world.close());

  test('lists available apps with or without the topic, never storage-only or broken ones', async () => {
    await seedApp(world, 'second-app-alpha', { appName: 'Alpha' });
    await seedApp(world, 'second-app-beta', { topic: false, appName: 'Beta' });
    await seedApp(world, 'second-app-storage', { available: false });
    await seedApp(world, 'second-app-broken', { manifest: '{"type": "second.app.export.v1",' });
    // Well-formed JSON, available and topic-tagged, but not a manifest this gateway reads.
    await seedApp(world, 'second-app-other-type', {
      manifest: manifestWith('second-app-other-type', { type: 'second.app.export.v2' }),
    });
    await seedApp(world, 'second-app-other-schema', {
      manifest: manifestWith('second-app-other-schema', { schemaVersion: 2 }),
    });
    await world.double.seedRepo(OWNER, 'plain-website', { files: { 'index.html': 'hi' } });
    await world.double.seedRepo(OWNER, 'empty-repo');

    const listed = await entries();
    expect(listed.map((entry) => entry.repo)).toEqual(['second-app-alpha', 'second-app-beta']);
    // The committed manifest says null; the listing fills in the commit its tag points at.
    const tagCommit = execFileSync(
      'git',
      [
        '--git-dir',
        world.double.gitRepoPath(OWNER, 'second-app-alpha'),
        'rev-parse',
        'second-app-v1^{commit}',
      ],
      { encoding: 'utf8' },
    ).trim();
    expect(listed[0]).toEqual({
      repo: 'second-app-alpha',
      owner: OWNER,
      appName: 'Alpha',
      version: 1,
      tag: 'second-app-v1',
      commitSha: tagCommit,
      installedAppId: null,
      installedVersion: null,
      updateAvailable: false,
      error: null,
    });
    expect(listed[1]).toMatchObject({ appName: 'Beta', version: 1, error: null });
  });

  test('reads every page of a large owner', async () => {
    world.double.setMaxPageSize(2);
    const repos = ['a', 'b', 'c', 'd', 'e'].map((letter) => `second-app-${letter}`);
    for (const [i, repo] of repos.entries()) await seedApp(world, repo, { topic: i % 2 === 0 });
    await seedApp(world, 'second-app-zz-storage', { available: false });

    expect((await entries()).map((entry) => entry.repo)).toEqual(repos);
    const listingPages = world.double.requests.filter(
      (r) => r.kind === 'api' && r.path === '/api/v3/orgs/acme/repos',
    );
    expect(listingPages.length).toBeGreaterThanOrEqual(3);
  });

  test('a refresh asks with ETags and reuses unchanged manifests; GETs mutate nothing', async () => {
    await seedApp(world, 'second-app-alpha');
    await seedApp(world, 'second-app-beta', { topic: false });
    await seedApp(world, 'second-app-storage', { available: false });

    const store = world.h.gateway.store;
    const writes = store.writeCount;
    const events: string[] = [];
    const unsubscribe = world.h.module.events.subscribe(WORKSPACE, (event) =>
      events.push(event.type),
    );
    const requestsBefore = world.double.requests.length;
    const audits = (await store.reader(WORKSPACE).listAudit()).length;

    const first = await entries();
    const firstReads = world.double.requests.length;
    const second = await entries();
    unsubscribe();

    expect(second).toEqual(first);
    const manifestReads = world.double.requests
      .slice(firstReads)
      .filter((r) => r.path.endsWith('/contents/second-app.json'));
    expect(manifestReads).toHaveLength(3);
    expect(manifestReads.every((r) => r.status === 304)).toBe(true);
    // Tag commits are looked up once: the refresh lists no tags again.
    const tagLists = world.double.requests
      .slice(firstReads)
      .filter((r) => r.path.endsWith('/tags'));
    expect(tagLists).toHaveLength(0);

    expect(store.writeCount).toBe(writes);
    expect(events).toEqual([]);
    expect(await store.reader(WORKSPACE).listAudit()).toHaveLength(audits);
    const seen = world.double.requests.slice(requestsBefore);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.method === 'GET')).toBe(true);
  });

  test('a refresh does not read an unchanged plain repository again; a push to it does', async () => {
    await seedApp(world, 'second-app-alpha');
    await world.double.seedRepo(OWNER, 'plain-website', { files: { 'index.html': 'hi' } });
    await world.double.seedRepo(OWNER, 'broken-manifest', {
      files: { 'second-app.json': '{"type": "second.app.export.v1",' },
    });
    await world.double.seedRepo(OWNER, 'other-type-manifest', {
      files: {
        'second-app.json': manifestWith('other-type-manifest', { type: 'second.app.export.v2' }),
      },
    });
    await world.double.seedRepo(OWNER, 'other-schema-manifest', {
      files: { 'second-app.json': manifestWith('other-schema-manifest', { schemaVersion: 2 }) },
    });

    const first = await entries();
    expect(first.map((entry) => entry.repo)).toEqual(['second-app-alpha']);
    for (const repo of ['other-type-manifest', 'other-schema-manifest']) {
      expect(manifestReads(world.double.requests, repo).map((r) => r.status)).toEqual([200]);
    }
    const firstRefresh = world.double.requests.length;
    expect((await entries()).map((entry) => entry.repo)).toEqual(['second-app-alpha']);
    const second = world.double.requests.slice(firstRefresh);
    expect(manifestReads(second, 'plain-website')).toEqual([]);
    expect(manifestReads(second, 'broken-manifest')).toEqual([]);
    // A manifest of another type or schema version is no app manifest: remembered as none.
    expect(manifestReads(second, 'other-type-manifest')).toEqual([]);
    expect(manifestReads(second, 'other-schema-manifest')).toEqual([]);
    // A known manifest is still asked about, with its ETag.
    expect(manifestReads(second, 'second-app-alpha').map((r) => r.status)).toEqual([304]);

    // GitHub stamps pushes in whole seconds; the double's clock moves a minute on, as a person
    // would take that long before sharing.
    world.double.advanceClock(60_000);
    const files = appFiles(1);
    await pushFromOutside('plain-website', {
      ...files,
      'second-app.json': manifestFor('plain-website', files, { appName: 'Website' }),
    });
    const beforePush = world.double.requests.length;
    const afterPush = await entries();
    expect(manifestReads(world.double.requests.slice(beforePush), 'plain-website')).toHaveLength(1);
    expect(afterPush.map((entry) => [entry.repo, entry.appName])).toEqual([
      ['plain-website', 'Website'],
      ['second-app-alpha', 'App second-app-alpha'],
    ]);

    // Now a known manifest, it is asked about with its ETag like any other app.
    const beforeAgain = world.double.requests.length;
    await entries();
    const again = manifestReads(world.double.requests.slice(beforeAgain), 'plain-website');
    expect(again.map((r) => r.status)).toEqual([304]);
  });

  test('a remembered plain repository is read again once the cap has passed', async () => {
    await world.double.seedRepo(OWNER, 'plain-website', { files: { 'index.html': 'hi' } });
    let now = Date.parse('2025-06-01T12:00:00Z');
    // The default cap: an hour, GitLab's own delay in moving its stamp.
    const cache = new ManifestCache({ now: () => now });
    const refreshReads = () => plainReadsOfRefresh(world.h.module.providers, cache);

    expect(await refreshReads()).toBe(1);
    now += 59 * 60 * 1000;
    expect(await refreshReads()).toBe(0);
    now += 2 * 60 * 1000;
    expect(await refreshReads()).toBe(1);
    // Read again under the same stamp, it is believed for another hour from then.
    now += 30 * 60 * 1000;
    expect(await refreshReads()).toBe(0);
  });

  test('a listing without change stamps has its plain repositories read at every refresh', async () => {
    await world.double.seedRepo(OWNER, 'plain-website', { files: { 'index.html': 'hi' } });
    // Bitbucket Data Center and plain git list no change stamp; the same GitHub listing with its
    // stamps taken out stands for them here.
    const withoutStamps: ProviderFactory = (connection, options) => {
      const adapter = world.h.module.providers(connection, options);
      return {
        ...adapter,
        async *listRepos(listOptions) {
          for await (const repo of adapter.listRepos(listOptions))
            yield { ...repo, changedAt: null };
        },
      };
    };
    const cache = new ManifestCache();

    for (let refresh = 0; refresh < 3; refresh += 1) {
      expect(await plainReadsOfRefresh(withoutStamps, cache)).toBe(1);
    }
  });

  test('a repository that cannot be read shows its own error; the others are listed', async () => {
    await seedApp(world, 'second-app-alpha');
    await seedApp(world, 'second-app-beta');
    await entries();
    await seedApp(world, 'second-app-gamma');
    await seedApp(world, 'second-app-untagged', { topic: false });

    const manifestPath = (repo: string) =>
      `/api/v3/repos/${OWNER}/${repo}/contents/second-app.json`;
    world.proxy.failPaths([manifestPath('second-app-beta')]);
    const withBeta = await entries();
    expect(withBeta.map((entry) => [entry.repo, entry.error?.code ?? null])).toEqual([
      ['second-app-alpha', null],
      ['second-app-beta', expect.any(String)],
      ['second-app-gamma', null],
      ['second-app-untagged', null],
    ]);
    // What was read before still shows beside the error.
    expect(withBeta[1]).toMatchObject({ version: 1, tag: 'second-app-v1' });

    // Never read, with the topic: listed with its error; never read without it: not listed.
    await seedApp(world, 'second-app-delta');
    await seedApp(world, 'second-app-epsilon', { topic: false });
    world.proxy.failPaths([manifestPath('second-app-delta'), manifestPath('second-app-epsilon')]);
    const withDelta = await entries();
    expect(withDelta.map((entry) => entry.repo)).not.toContain('second-app-epsilon');
    expect(withDelta.find((e) => e.repo === 'second-app-delta')).toMatchObject({
      appName: null,
      version: null,
      error: { code: expect.any(String) },
    });
  });

  test('shows which entries are installed, and their tags resolve to real commits', async () => {
    await seedApp(world, 'second-app-alpha');
    const builder = await world.h.gateway.userToken({ role: 'builder' });
    const installed = await world.h.gateway.request('/api/v1/catalog/install', {
      method: 'POST',
      token: builder,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repo: 'second-app-alpha' }),
    });
    expect(installed.status).toBe(201);
    const app = (
      (await installed.json()) as { app: { id: string; installedFrom: { commitSha: string } } }
    ).app;
    const [tag] = await listGitTags(world.double.gitRepoPath(OWNER, 'second-app-alpha'));
    expect(app.installedFrom.commitSha).toBe(tag?.commitSha);

    expect(await entries()).toEqual([
      expect.objectContaining({
        repo: 'second-app-alpha',
        installedAppId: app.id,
        installedVersion: 1,
        updateAvailable: false,
      }),
    ]);
  });
});

describe('where the catalog cannot answer', () => {
  afterEach(() => world.close());

  test('plain git answers 409 not_supported, no connection 409 not_connected', async () => {
    world = await startCatalogWorld();
    const token = await world.h.gateway.userToken({ role: 'admin' });
    expect(
      (await world.h.gateway.request('/api/v1/source-control', { method: 'DELETE', token })).status,
    ).toBe(204);
    const disconnected = await listing();
    expect(disconnected.status).toBe(409);
    expect(((await disconnected.json()) as { error: { code: string } }).error.code).toBe(
      'not_connected',
    );

    expect((await world.h.connect()).status).toBe(200);
    const plainGit = await listing();
    expect(plainGit.status).toBe(409);
    expect(((await plainGit.json()) as { error: { code: string } }).error.code).toBe(
      'not_supported',
    );
  });

  test('onprem answers catalog_disabled on every route unless CATALOG_ENABLED=true', async () => {
    world = await startCatalogWorld({ DEPLOYMENT_MODE: 'onprem' });
    const builder = await world.h.gateway.userToken({ role: 'builder' });
    const calls = [
      () => listing(),
      () =>
        world.h.gateway.request('/api/v1/catalog/install', {
          method: 'POST',
          token: builder,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ repo: 'second-app-alpha' }),
        }),
      () =>
        world.h.gateway.request('/api/v1/catalog/update', {
          method: 'POST',
          token: builder,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ appId: 'abc', force: false }),
        }),
    ];
    for (const call of calls) {
      const response = await call();
      expect(response.status).toBe(409);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'catalog_disabled',
      );
    }
    await world.close();

    world = await startCatalogWorld({ DEPLOYMENT_MODE: 'onprem', CATALOG_ENABLED: 'true' });
    await seedApp(world, 'second-app-alpha');
    expect((await entries()).map((entry) => entry.repo)).toEqual(['second-app-alpha']);
  });
});
