import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mirrorPath, observeGitSpawns, type GitSpawnRecord } from '../../mirror/index.js';
import { makeTar, sampleApp, uploadBuild } from '../gateway/gateway-fixtures.js';
import { appFiles, manifestFor } from '../gateway/catalog/catalog-support.js';
import { pushAsOutsider } from '../gateway/restore/restore-support.js';
import { startGitHubDouble, type GitHubDouble } from '../doubles/github/github-double.js';
import { OTHER_WORKSPACE, WORKSPACE } from '../support/gateway-harness.js';
import {
  GIT_OWNER,
  startSourceControlHarness,
  type SourceControlHarness,
} from '../support/source-control-harness.js';
import {
  capturedLogger,
  leakFinder,
  readEventStream,
  storedRowsOutsideSecrets,
  treeOf,
} from './security-support.js';

/**
 * The provider token of both workspaces. It is shaped like no provider's token, so the log
 * scrubber (which masks token-shaped strings) cannot hide a leak: it must reach no output at all.
 */
const CANARY = 'CANARY-plain-4e1b7d0c9a8f6e5d4c3b2a19f8e7d6c5';
const findCanary = leakFinder(CANARY);

/** The GitHub organization globex is connected to, and its catalog repository. */
const GH_OWNER = 'acme';
const GH_REPO = 'second-app-alpha';

test('the provider token reaches no response, log line, event, audit record, stored row, git argument or mirror file on any path', async () => {
  const { logger, lines } = capturedLogger();
  let accept = true;
  const h: SourceControlHarness = await startSourceControlHarness({
    env: { DEPLOYMENT_MODE: 'local', SYNC_MAX_ATTEMPTS: '2', REMOTE_TIMEOUT_MS: '2000' },
    token: CANARY,
    logger,
    checkAuth: (_user, pass) => accept && pass === CANARY,
  });
  const double: GitHubDouble = await startGitHubDouble('ghes');
  const spawns: GitSpawnRecord[] = [];
  const stopObserving = observeGitSpawns((record) => spawns.push(record));
  const answers: string[] = [];

  /** Keeps the whole answer (status, headers, body) for the search, and answers the body. */
  const remember = async (response: Response): Promise<string> => {
    const body = await response.text();
    answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${body}`);
    return body;
  };
  const call = async (
    path: string,
    options: { method?: string; body?: unknown; workspaceId?: string; role?: 'admin' } = {},
  ) =>
    remember(
      await h.gateway.request(path, {
        method: options.method ?? 'GET',
        token: await h.gateway.userToken({
          role: options.role ?? 'owner',
          workspaceId: options.workspaceId,
        }),
        ...(options.body === undefined
          ? {}
          : {
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(options.body),
            }),
      }),
    );
  const build = async (appId: string, extra: Record<string, string>, workspaceId = WORKSPACE) => {
    const token = await h.gateway.workerToken(appId, { workspaceId });
    return remember(await uploadBuild(h.gateway, appId, token, await makeTar(sampleApp(extra))));
  };
  const restore = async (appId: string, version?: number) =>
    remember(
      await h.gateway.request(`/internal/v1/apps/${appId}/restore`, {
        method: 'POST',
        token: await h.gateway.workerToken(appId),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(version === undefined ? {} : { version }),
      }),
    );
  const appOf = async (appId: string, workspaceId = WORKSPACE) =>
    (await h.gateway.store.reader(workspaceId).getApp(appId))!;

  try {
    const ourEvents = await h.gateway.request('/api/v1/events', {
      token: await h.gateway.userToken({ role: 'viewer' }),
    });
    const theirEvents = await h.gateway.request('/api/v1/events', {
      token: await h.gateway.userToken({ role: 'viewer', workspaceId: OTHER_WORKSPACE }),
    });

    // Plain git (acme): settings refused, then saved, then read.
    await h.git.createRepo(GIT_OWNER, 'second-app-canary-app');
    await remember(await h.connect({ token: `${CANARY}-wrong` }));
    await remember(await h.connect());
    await call('/api/v1/source-control');

    // Publish, a synced version, a failure with the remote down and one with the token refused,
    // then retries.
    const appId = await h.gateway.createApp('Canary App');
    await build(appId, {});
    await call(`/api/v1/apps/${appId}/source-control/publish`, { method: 'POST', body: {} });
    await h.settle();
    expect((await appOf(appId)).sourceControl).toMatchObject({ status: 'synced', version: 1 });

    h.git.setMode('unavailable');
    await build(appId, { 'src/a.ts': 'a' });
    await h.settle();
    expect((await appOf(appId)).sourceControl.lastError?.code).toBe('provider_unavailable');
    h.git.setMode('ok');
    accept = false;
    await call(`/api/v1/apps/${appId}/source-control/retry`, { method: 'POST', body: {} });
    await h.settle();
    expect((await appOf(appId)).sourceControl.lastError?.code).toBe('auth_failed');
    accept = true;
    await call(`/api/v1/apps/${appId}/source-control/retry`, { method: 'POST', body: {} });
    await h.settle();
    expect((await appOf(appId)).sourceControl).toMatchObject({ status: 'synced', version: 2 });

    // Share: a manifest-only commit pushed with the token.
    await call(`/api/v1/apps/${appId}/source-control/share`, {
      method: 'POST',
      body: { available: true },
    });
    await h.settle();
    expect((await appOf(appId)).sourceControl.availableInCatalog).toBe(true);

    // Worker restore: warm, with the mirror deleted, and with the mirror deleted while the
    // remote refuses the token and while it is down.
    const mirror = mirrorPath(h.gateway.dataDir, WORKSPACE, appId);
    await restore(appId);
    await rm(mirror, { recursive: true, force: true });
    await restore(appId, 1);
    expect(spawns.some((spawn) => spawn.argv.includes('fetch'))).toBe(true);
    await rm(mirror, { recursive: true, force: true });
    accept = false;
    await restore(appId, 2);
    accept = true;
    await rm(mirror, { recursive: true, force: true });
    h.git.setMode('unavailable');
    await restore(appId, 1);
    h.git.setMode('ok');
    await restore(appId);

    // GitHub (globex): settings, Available Apps listing, install and update, publish, and the
    // same with the provider down.
    double.addToken({ value: CANARY, login: 'canary-bot' });
    double.addOwner(GH_OWNER, 'org');
    const v1 = appFiles(1);
    await double.seedRepo(GH_OWNER, GH_REPO, {
      topics: ['second-app'],
      files: { ...v1, 'second-app.json': manifestFor(GH_REPO, v1) },
      tags: ['second-app-v1'],
    });
    const github = {
      provider: 'github',
      baseUrl: `${double.apiOrigin}/api/v3`,
      owner: GH_OWNER,
      ownerType: 'org',
    };
    const globex = { workspaceId: OTHER_WORKSPACE };
    await call('/api/v1/source-control', {
      ...globex,
      method: 'PUT',
      body: { ...github, token: `${CANARY}-wrong` },
    });
    await call('/api/v1/source-control', {
      ...globex,
      method: 'PUT',
      body: { ...github, token: CANARY },
    });
    await call('/api/v1/catalog', globex);
    const installed = JSON.parse(
      await call('/api/v1/catalog/install', { ...globex, method: 'POST', body: { repo: GH_REPO } }),
    ) as { app: { id: string } };
    const v2 = appFiles(2);
    await pushAsOutsider(double.gitRepoPath(GH_OWNER, GH_REPO), {
      write: { ...v2, 'second-app.json': manifestFor(GH_REPO, v2, { version: 2 }) },
      tag: 'second-app-v2',
    });
    await call('/api/v1/catalog', globex);
    await call('/api/v1/catalog/update', {
      ...globex,
      method: 'POST',
      body: { appId: installed.app.id },
    });
    expect((await appOf(installed.app.id, OTHER_WORKSPACE)).installedFrom?.version).toBe(2);

    const theirApp = await h.gateway.createApp('Globex Canary', globex);
    await build(theirApp, {}, OTHER_WORKSPACE);
    await call(`/api/v1/apps/${theirApp}/source-control/publish`, {
      ...globex,
      method: 'POST',
      body: {},
    });
    await h.settle();
    expect((await appOf(theirApp, OTHER_WORKSPACE)).sourceControl.status).toBe('synced');

    double.setMode('down');
    await call('/api/v1/catalog', globex);
    await call('/api/v1/catalog/install', { ...globex, method: 'POST', body: { repo: GH_REPO } });
    await build(theirApp, { 'src/down.ts': 'down' }, OTHER_WORKSPACE);
    await h.settle();
    double.setMode('ok');

    // Everything a person or another system can read back.
    for (const workspaceId of [WORKSPACE, OTHER_WORKSPACE]) {
      for (const path of ['/api/v1/apps', '/api/v1/audit', '/api/v1/source-control']) {
        await call(path, { workspaceId });
      }
    }
    for (const path of [
      `/api/v1/apps/${appId}`,
      `/api/v1/apps/${appId}/builds`,
      `/api/v1/apps/${appId}/versions`,
    ]) {
      await call(path);
    }
    const eventText =
      (await readEventStream(ourEvents, () => false, 500)) +
      (await readEventStream(theirEvents, () => false, 500));

    // The controls: each path ran, and the search finds the token where it legitimately is.
    expect(eventText).toContain('"status":"synced"');
    expect(eventText).toContain('catalog.updated');
    expect(lines.join('')).toContain('sync');
    expect(spawns.some((spawn) => findCanary(JSON.stringify(spawn.env)) !== null)).toBe(true);
    expect(double.requests.some((request) => request.kind === 'git')).toBe(true);

    // Where the token could have gone.
    for (const spawn of spawns) expect(findCanary(spawn.argv.join('\n'))).toBeNull();
    for (const answer of answers) expect([answer, findCanary(answer)]).toEqual([answer, null]);
    expect(findCanary(lines.join(''))).toBeNull();
    expect(findCanary(eventText)).toBeNull();
    for (const workspaceId of [WORKSPACE, OTHER_WORKSPACE]) {
      const audit = await h.gateway.store.reader(workspaceId).listAudit({ limit: 1000 });
      expect(audit.length).toBeGreaterThan(0);
      expect(findCanary(JSON.stringify(audit))).toBeNull();
    }
    for (const [table, rows] of Object.entries(storedRowsOutsideSecrets(h.gateway.dataDir))) {
      expect([table, findCanary(rows)]).toEqual([table, null]);
    }

    const mirrors = join(h.gateway.dataDir, 'mirrors');
    const mirrorFiles = (await treeOf(mirrors)).filter(
      (path) => !path.endsWith('/') && !path.includes('/objects/'),
    );
    // The two published apps have mirrors; the installed copy is not backed and has none.
    expect(mirrorFiles.filter((path) => path.endsWith('.git/config')).length).toBe(2);
    for (const path of mirrorFiles) {
      const text = (await readFile(join(mirrors, path))).toString('latin1');
      expect([path, findCanary(text)]).toEqual([path, null]);
    }
    expect((await readdir(mirrors)).sort()).toEqual([WORKSPACE, OTHER_WORKSPACE].sort());
  } finally {
    stopObserving();
    await h.close();
    await double.close();
  }
});

test('the search finds the token in each credential form git and the adapters use', () => {
  for (const user of ['git', 'x-access-token', 'canary-bot', 'x-token-auth', 'oauth2']) {
    const basic = Buffer.from(`${user}:${CANARY}`).toString('base64');
    expect(findCanary(`authorization: Basic ${basic}`)).not.toBeNull();
    expect(findCanary(`http.extraHeader=Authorization: Basic ${basic}\n`)).not.toBeNull();
  }
  expect(findCanary(`https://git:${encodeURIComponent(CANARY)}@host/x.git`)).not.toBeNull();
  expect(findCanary(`Bearer ${CANARY}`)).not.toBeNull();
  expect(findCanary(Buffer.from(CANARY).toString('base64'))).not.toBeNull();
  expect(findCanary(`Basic ${Buffer.from('git:another-secret').toString('base64')}`)).toBeNull();
});
