import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type {
  ProviderAdapter,
  ProviderConnection,
  ProviderOptions,
} from '../../../adapters/providers/provider-port.js';
import { createBitbucketCloudAdapter } from '../../../adapters/providers/bitbucket-cloud/bitbucket-cloud-adapter.js';
import { createBitbucketServerAdapter } from '../../../adapters/providers/bitbucket-server/bitbucket-server-adapter.js';
import { createGiteaAdapter } from '../../../adapters/providers/gitea/gitea-adapter.js';
import { createGitHubAdapter } from '../../../adapters/providers/github/github-adapter.js';
import { createGitLabAdapter } from '../../../adapters/providers/gitlab/gitlab-adapter.js';
import {
  startBitbucketCloudDouble,
  type BitbucketCloudDouble,
} from '../../doubles/bitbucket-cloud/bitbucket-cloud-double.js';
import {
  startBitbucketServerDouble,
  type BitbucketServerDouble,
} from '../../doubles/bitbucket-server/bitbucket-server-double.js';
import { startGiteaDouble } from '../../doubles/gitea/gitea-double.js';
import { startGitHubDouble, type GitHubDouble } from '../../doubles/github/github-double.js';
import { startGitLabDouble } from '../../doubles/gitlab/gitlab-double.js';
import type { ProviderDouble } from '../../doubles/provider-double.js';
import { makeTar, sampleApp, uploadBuild } from '../gateway-fixtures.js';
import { tarEntries } from '../../support/git-fixtures.js';
import {
  startSourceControlHarness,
  type SourceControlHarness,
} from '../../support/source-control-harness.js';

interface ProviderCase {
  name: string;
  start: () => Promise<ProviderDouble>;
  /** The token an admin saves for this provider (some want `user:token`). */
  savedToken: (double: ProviderDouble, raw: string) => string;
  adapter: (
    double: ProviderDouble,
    conn: ProviderConnection,
    options?: ProviderOptions,
  ) => ProviderAdapter;
  /** The token kind the double issues (default: the provider's personal token). */
  tokenKind?: string;
  /** Whether the provider has repository topics (Bitbucket has none). */
  topics: boolean;
}

const CASES: ProviderCase[] = [
  {
    name: 'github',
    topics: true,
    start: () => startGitHubDouble('dotcom'),
    savedToken: (_d, raw) => raw,
    adapter: (d, conn, options) =>
      createGitHubAdapter(conn, {
        ...options,
        dotComEndpoints: { api: (d as GitHubDouble).urls.api, web: d.gitOrigin },
      }),
  },
  {
    name: 'github enterprise',
    topics: true,
    start: () => startGitHubDouble('ghes'),
    savedToken: (_d, raw) => raw,
    adapter: (_d, conn, options) => createGitHubAdapter(conn, options),
  },
  {
    name: 'gitlab',
    topics: true,
    start: () => startGitLabDouble(),
    savedToken: (_d, raw) => raw,
    adapter: (_d, conn, options) => createGitLabAdapter(conn, options),
  },
  {
    name: 'bitbucket-cloud',
    topics: false,
    start: () => startBitbucketCloudDouble(),
    savedToken: (d, raw) => (d as BitbucketCloudDouble).connectionToken(raw),
    adapter: (d, conn, options) =>
      createBitbucketCloudAdapter(conn, {
        ...options,
        apiUrl: (d as BitbucketCloudDouble).apiUrl,
        webUrl: (d as BitbucketCloudDouble).webUrl,
      }),
  },
  {
    name: 'bitbucket-server',
    topics: false,
    start: () => startBitbucketServerDouble(),
    savedToken: (d, raw) => (d as BitbucketServerDouble).connectionToken(raw),
    adapter: (_d, conn, options) => createBitbucketServerAdapter(conn, options),
  },
  {
    // Project tokens are refused in Basic auth: git must send them as a Bearer header.
    name: 'bitbucket-server (project token)',
    topics: false,
    start: () => startBitbucketServerDouble(),
    savedToken: (_d, raw) => raw,
    adapter: (_d, conn, options) => createBitbucketServerAdapter(conn, options),
    tokenKind: 'project',
  },
  {
    name: 'gitea',
    topics: true,
    start: () => startGiteaDouble(),
    savedToken: (_d, raw) => raw,
    adapter: (_d, conn, options) => createGiteaAdapter(conn, options),
  },
];

const OWNER = 'acme-org';

const RAW_TOKEN = 'e2e-provider-token-0123456789abcdef';

/**
 * The adapter with the double in its outage mode for the length of each topic call, so the
 * topic requests travel to the double and get the provider's own outage answer while every
 * other call (creation, push) is served normally.
 */
function withTopicOutage(adapter: ProviderAdapter, double: ProviderDouble): ProviderAdapter {
  return {
    ...adapter,
    async addTopic(repo, topic) {
      double.setMode('down');
      try {
        return await adapter.addTopic(repo, topic);
      } finally {
        double.setMode('ok');
      }
    },
  };
}

/** Every ref of a bare repository with the object it points at, one per line. */
function refsOf(gitDir: string): string {
  return execFileSync(
    'git',
    ['--git-dir', gitDir, 'for-each-ref', '--format=%(objectname) %(refname)'],
    { encoding: 'utf8' },
  );
}

describe.each(CASES)('through the $name double', (providerCase) => {
  let double: ProviderDouble;
  let h: SourceControlHarness;
  let topicOutage = false;
  const warnings: Record<string, unknown>[] = [];

  beforeAll(async () => {
    double = await providerCase.start();
    double.addOwner(OWNER, 'org');
    double.addToken({
      value: RAW_TOKEN,
      login: 'e2e-admin',
      ...(providerCase.tokenKind ? { kind: providerCase.tokenKind, resource: OWNER } : {}),
    });
    const logSink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
          warnings.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    h = await startSourceControlHarness({
      env: { DEPLOYMENT_MODE: 'local' },
      logger: pino({ level: 'warn' }, logSink),
      module: {
        providers: (conn, options) => {
          const adapter = providerCase.adapter(double, conn, options);
          return topicOutage ? withTopicOutage(adapter, double) : adapter;
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await double?.close();
  });

  /** Saves the double's settings as an admin, as the first step of every test. */
  const connect = async () => {
    const saved = await h.gateway.request('/api/v1/source-control', {
      method: 'PUT',
      token: await h.gateway.userToken({ role: 'admin' }),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        provider: double.provider,
        baseUrl: double.baseUrl,
        owner: OWNER,
        ownerType: 'org',
        token: providerCase.savedToken(double, RAW_TOKEN),
      }),
    });
    const settings = (await saved.json()) as {
      settings: { connected: boolean; account: string | null };
    };
    expect([saved.status, settings.settings.connected]).toEqual([200, true]);
  };

  test('connect, publish v1, v2 on a change, nothing when unchanged, restore v1 with no mirror', async () => {
    await connect();

    const appId = await publishNewApp('Field Notes');
    const worker = await h.gateway.workerToken(appId);

    const read = async () =>
      (
        (await (
          await h.gateway.request(`/api/v1/apps/${appId}`, { token: await h.gateway.userToken() })
        ).json()) as {
          app: { sourceControl: Record<string, unknown> };
        }
      ).app.sourceControl;
    expect(await read()).toMatchObject({
      status: 'synced',
      version: 1,
      repo: 'second-app-field-notes',
      pushed: true,
    });
    const state = double.repoState(OWNER, 'second-app-field-notes');
    expect(state?.private).toBe(true);
    // The topic marks the repository as an app for discovery, where the provider has topics.
    if (providerCase.topics) expect(state?.topics).toEqual(['second-app']);

    await uploadBuild(
      h.gateway,
      appId,
      worker,
      await makeTar(sampleApp({ 'src/notes.ts': 'export {}\n' })),
    );
    await h.settle();
    expect(await read()).toMatchObject({ status: 'synced', version: 2, tag: 'second-app-v2' });

    const before = double.requests.length;
    await uploadBuild(
      h.gateway,
      appId,
      worker,
      await makeTar(sampleApp({ 'src/notes.ts': 'export {}\n' })),
    );
    await h.settle();
    expect(double.requests.length).toBe(before);

    const tags = execFileSync(
      'git',
      ['--git-dir', double.gitRepoPath(OWNER, 'second-app-field-notes'), 'tag', '--list'],
      {
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(tags).toEqual(['second-app-v1', 'second-app-v2']);

    // A worker whose session died gets v1 back through the provider, even with the mirror gone.
    await rm(join(h.gateway.dataDir, 'mirrors', 'acme', `${appId}.git`), { recursive: true });
    const restored = await h.gateway.request(`/internal/v1/apps/${appId}/restore`, {
      method: 'POST',
      token: worker,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 1 }),
    });
    expect(restored.status).toBe(200);
    expect(restored.headers.get('x-source-origin')).toBe('source-control');
    expect(restored.headers.get('x-source-version')).toBe('1');
    const names = await tarEntries(Buffer.from(await restored.arrayBuffer()), { filesOnly: true });
    expect(names).toContain('dist/index.html');
    expect(names).not.toContain('src/notes.ts');
    expect(names).not.toContain('second-app.json');
  });

  test('a shared app is listed in Available Apps and installs as a local copy', async () => {
    const builder = await h.gateway.userToken({ role: 'builder' });
    const post = (path: string, body: unknown = {}) =>
      h.gateway.request(path, {
        method: 'POST',
        token: builder,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await connect();
    const appId = await h.gateway.createApp('Shared Board');
    const worker = await h.gateway.workerToken(appId);
    expect((await uploadBuild(h.gateway, appId, worker, await makeTar(sampleApp()))).status).toBe(
      201,
    );
    expect((await post(`/api/v1/apps/${appId}/source-control/publish`)).status).toBe(202);
    await h.settle();
    expect(
      (await post(`/api/v1/apps/${appId}/source-control/share`, { available: true })).status,
    ).toBe(202);
    await h.settle();

    const listed = await h.gateway.request('/api/v1/catalog', { token: builder });
    expect(listed.status).toBe(200);
    const { entries } = (await listed.json()) as {
      entries: { repo: string; version: number | null; error: unknown }[];
    };
    expect(entries.find((entry) => entry.repo === 'second-app-shared-board')).toMatchObject({
      version: 1,
      error: null,
    });
    // Storage-only repositories are not offered.
    expect(entries.map((entry) => entry.repo)).not.toContain('second-app-field-notes');

    const installed = await post('/api/v1/catalog/install', { repo: 'second-app-shared-board' });
    expect(installed.status).toBe(201);
    const { app } = (await installed.json()) as {
      app: { id: string; installedFrom: Record<string, unknown> | null };
    };
    expect(app.id).not.toBe(appId);
    expect(app.installedFrom).toMatchObject({
      provider: double.provider,
      repo: 'second-app-shared-board',
      version: 1,
      tag: 'second-app-v1',
    });
  });

  /** Creates an app, uploads one build and publishes it; answers the app id once all settled. */
  const publishNewApp = async (name: string) => {
    const appId = await h.gateway.createApp(name);
    const worker = await h.gateway.workerToken(appId);
    expect((await uploadBuild(h.gateway, appId, worker, await makeTar(sampleApp()))).status).toBe(
      201,
    );
    const publish = await h.gateway.request(`/api/v1/apps/${appId}/source-control/publish`, {
      method: 'POST',
      token: await h.gateway.userToken({ role: 'builder' }),
    });
    expect(publish.status).toBe(202);
    await h.settle();
    return appId;
  };

  const sourceControlOf = async (appId: string) =>
    (
      (await (
        await h.gateway.request(`/api/v1/apps/${appId}`, { token: await h.gateway.userToken() })
      ).json()) as { app: { sourceControl: Record<string, unknown> } }
    ).app.sourceControl;

  test("a repository name taken by someone else's repository sends the app to the name with its id, leaving theirs untouched", async () => {
    await connect();
    // Not an app: a person's repository that happens to carry the name the app would get.
    await double.seedRepo(OWNER, 'second-app-ledger-book', {
      files: { 'README.md': 'kept by hand\n' },
      tags: ['v0.1'],
      topics: ['accounting'],
      description: 'the finance team ledger',
    });
    const seededState = double.repoState(OWNER, 'second-app-ledger-book');
    const seededGitDir = double.gitRepoPath(OWNER, 'second-app-ledger-book');
    const seededRefs = refsOf(seededGitDir);
    expect(seededRefs).toContain('refs/tags/v0.1');

    const appId = await publishNewApp('Ledger Book');

    const own = `second-app-ledger-book-${appId.slice(0, 8)}`;
    expect(await sourceControlOf(appId)).toMatchObject({
      status: 'synced',
      version: 1,
      repo: own,
      pushed: true,
      lastError: null,
    });
    const ownState = double.repoState(OWNER, own);
    expect(ownState?.private).toBe(true);
    if (providerCase.topics) expect(ownState?.topics).toEqual(['second-app']);
    const ownTags = execFileSync('git', ['--git-dir', double.gitRepoPath(OWNER, own), 'tag'], {
      encoding: 'utf8',
    });
    expect(ownTags.split('\n').filter(Boolean)).toEqual(['second-app-v1']);

    // Their repository: the same refs, topics and description as before the publish.
    expect(refsOf(seededGitDir)).toBe(seededRefs);
    expect(double.repoState(OWNER, 'second-app-ledger-book')).toEqual(seededState);
  });

  // Bitbucket has no topics, so there is no topic call to fail: the case is not run there, and
  // the output says so.
  if (!providerCase.topics) {
    console.info(`${providerCase.name}: no topics, so no topic-outage case to run`);
  }
  const topicTest = providerCase.topics ? test : () => undefined;
  topicTest(
    'a topic call that fails in a provider outage leaves the sync synced and is recorded in the audit and the log',
    async () => {
      await connect();

      topicOutage = true;
      let appId: string;
      try {
        appId = await publishNewApp('Topic Outage');
      } finally {
        topicOutage = false;
      }

      expect(await sourceControlOf(appId)).toMatchObject({
        status: 'synced',
        version: 1,
        repo: 'second-app-topic-outage',
        pushed: true,
        lastError: null,
      });
      // The outage reached the topic call and nothing else: the repository exists without it.
      expect(double.repoState(OWNER, 'second-app-topic-outage')?.topics).toEqual([]);

      const audit = await h.gateway.request(`/api/v1/audit?appId=${appId}`, {
        token: await h.gateway.userToken({ role: 'admin' }),
      });
      const { events } = (await audit.json()) as {
        events: { action: string; outcome: string; code: string | null }[];
      };
      expect(events).toContainEqual(
        expect.objectContaining({
          action: 'source-control.topic',
          outcome: 'failure',
          code: 'provider_unavailable',
        }),
      );
      expect(warnings).toContainEqual(
        expect.objectContaining({
          appId,
          repo: 'second-app-topic-outage',
          code: 'provider_unavailable',
        }),
      );
    },
  );
});
