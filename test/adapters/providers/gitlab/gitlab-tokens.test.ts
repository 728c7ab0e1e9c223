import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createGitLabAdapter } from '../../../../adapters/providers/gitlab/gitlab-adapter.js';
import type { ProviderConnection } from '../../../../adapters/providers/provider-port.js';
import { startGitLabDouble, type GitLabDouble } from '../../../doubles/gitlab/gitlab-double.js';
import { CANARY, expectSafeError, failure, gitWithCredential } from '../provider-contract.js';

const run = promisify(execFile);

const PERSONAL = `glpat-${CANARY}personal0001`;
const GROUP = `glpat-${CANARY}group00000002`;
const OTHER_GROUP = `glpat-${CANARY}othergroup003`;
const PROJECT = `glpat-${CANARY}project000004`;
const PUSH_ONLY = `glpat-${CANARY}pushonly00005`;
const DEVELOPER = `glpat-${CANARY}developer0006`;

describe('GitLab token kinds and credential conventions', () => {
  let double: GitLabDouble;

  const adapter = (token: string, overrides: Partial<ProviderConnection> = {}) =>
    createGitLabAdapter(
      {
        provider: 'gitlab',
        baseUrl: double.baseUrl,
        owner: 'acme',
        ownerType: 'org',
        token,
        ...overrides,
      },
      { maxRateLimitWaitMs: 0 },
    );

  beforeEach(async () => {
    double = await startGitLabDouble();
    double.addOwner('acme', 'org');
    double.addOwner('beta', 'org');
    double.addToken({ value: PERSONAL, login: 'alice' });
    double.addToken({ value: GROUP, login: 'group_7_bot_3f2a', kind: 'group', resource: 'acme' });
    double.addToken({
      value: OTHER_GROUP,
      login: 'group_8_bot_9c1d',
      kind: 'group',
      resource: 'beta',
    });
    double.addToken({
      value: PROJECT,
      login: 'project_42_bot_77aa',
      kind: 'project',
      resource: 'acme/second-app-proj',
    });
    double.addToken({ value: PUSH_ONLY, login: 'bob', scopes: ['read_api', 'write_repository'] });
    double.addToken({ value: DEVELOPER, login: 'dev' });
    double.addMember('acme', 'dev', 30);
  });

  afterEach(async () => {
    await double.close();
  });

  it('accepts a personal token with the api scope and names nothing missing', async () => {
    expect(await adapter(PERSONAL).validate()).toEqual({
      account: 'alice',
      missingPermissions: [],
    });
  });

  it('accepts a group access token of the owner group, acting as its bot user', async () => {
    const report = await adapter(GROUP).validate();
    expect(report).toEqual({ account: 'group_7_bot_3f2a', missingPermissions: [] });

    const repo = await adapter(GROUP).createRepo({ name: 'second-app-g', visibility: 'private' });
    expect(repo).toMatchObject({ owner: 'acme', name: 'second-app-g', private: true });
  });

  it('names the missing role when a group token belongs to another group', async () => {
    const report = await adapter(OTHER_GROUP).validate();

    expect(report.missingPermissions).toEqual([
      expect.stringContaining('Role in group acme: creating projects there needs Maintainer'),
    ]);
    const error = await failure(
      adapter(OTHER_GROUP).createRepo({ name: 'x', visibility: 'private' }),
    );
    expectSafeError(error, 'insufficient_permissions');
  });

  it('says a project access token cannot create projects', async () => {
    const report = await adapter(PROJECT).validate();

    expect(report.account).toBe('project_42_bot_77aa');
    expect(report.missingPermissions).toEqual([
      expect.stringContaining('Project access tokens cannot create projects'),
    ]);
  });

  it('says a group or project token has no personal namespace for a user owner', async () => {
    const report = await adapter(GROUP, {
      owner: 'group_7_bot_3f2a',
      ownerType: 'user',
    }).validate();

    expect(report.missingPermissions.join(' ')).toContain('no personal namespace');
  });

  it('names only the api scope when read_api and write_repository can still push', async () => {
    const report = await adapter(PUSH_ONLY).validate();

    expect(report.missingPermissions).toEqual([expect.stringContaining('Scope "api"')]);
    const error = await failure(
      adapter(PUSH_ONLY).createRepo({ name: 'x', visibility: 'private' }),
    );
    expectSafeError(error, 'insufficient_permissions');
    expect(error.providerStatus).toBe(403);
  });

  it('names the Maintainer role for a Developer where the group keeps creation to maintainers', async () => {
    const report = await adapter(DEVELOPER).validate();

    expect(report.missingPermissions).toEqual([
      expect.stringContaining("the token's account has Developer"),
    ]);
  });

  it('pushes with a project token as oauth2 to its own project only', async () => {
    await double.seedRepo('acme', 'second-app-proj');
    await double.seedRepo('acme', 'second-app-other');
    const work = await mkdtemp(join(tmpdir(), 'gitlab-tokens-'));
    try {
      const git = (args: string[]) =>
        run('git', args, {
          env: {
            PATH: process.env.PATH,
            HOME: '/nonexistent',
            GIT_CONFIG_NOSYSTEM: '1',
            GIT_CONFIG_GLOBAL: '/dev/null',
            GIT_AUTHOR_NAME: 'T',
            GIT_AUTHOR_EMAIL: 't@example.test',
            GIT_COMMITTER_NAME: 'T',
            GIT_COMMITTER_EMAIL: 't@example.test',
          },
        });
      await git(['init', '-q', '-b', 'main', join(work, 'src')]);
      await writeFile(join(work, 'src', 'a.txt'), 'a');
      await git(['-C', join(work, 'src'), 'add', 'a.txt']);
      await git(['-C', join(work, 'src'), 'commit', '-qm', 'one']);

      const own = adapter(PROJECT).gitRemote('second-app-proj');
      expect(own.username).toBe('oauth2');
      await gitWithCredential(own, work, ['-C', join(work, 'src'), 'push', '-q', own.url, 'main']);

      const other = adapter(PROJECT).gitRemote('second-app-other');
      await expect(
        gitWithCredential(other, work, ['-C', join(work, 'src'), 'push', '-q', other.url, 'main']),
      ).rejects.toThrow();

      const users = double.requests.filter((r) => r.kind === 'git').map((r) => r.gitUser);
      expect(new Set(users.filter(Boolean))).toEqual(new Set(['oauth2']));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('builds the remote on the host with nested group paths kept as folders', () => {
    const remote = adapter(PERSONAL, { owner: 'acme/platform' }).gitRemote('second-app-x');

    expect(remote.url).toBe(`${double.baseUrl}/acme/platform/second-app-x.git`);
  });
});
