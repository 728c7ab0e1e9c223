import { execFileSync } from 'node:child_process';
import { startCatalogWorld, seedApp, OWNER, type CatalogWorld } from './catalog-support.js';
import { WORKSPACE } from '../../support/gateway-harness.js';
import { listGitTags } from '../../doubles/provider-double.js';

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
afterEach(() => world.close());

async function listing(role: 'viewer' | 'builder' = 'viewer'): Promise<Response> {
  const token = await world.h.gateway.userToken({ role });
  return world.h.gateway.request('/api/v1/catalog', { token });
}

async function entries(): Promise<Entry[]> {
  const response = await listing();
  expect(response.status).toBe(200);
  return ((await response.json()) as { entries: Entry[] }).entries;
}

describe('with a GitHub organization', () => {
  beforeEach(async () => {
    world = await startCatalogWorld();
  });

  test('lists available apps with or without the topic, never storage-only or broken ones', async () => {
    await seedApp(world, 'second-app-alpha', { appName: 'Alpha' });
    await seedApp(world, 'second-app-beta', { topic: false, appName: 'Beta' });
    await seedApp(world, 'second-app-storage', { available: false });
    await seedApp(world, 'second-app-broken', { manifest: '{"type": "second.app.export.v1",' });
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
  afterEach(() => undefined);

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
