import { execFileSync } from 'node:child_process';
import { pino, type Logger } from 'pino';
import {
  createSourceControl,
  type SourceControlModule,
  type SourceControlOptions,
} from '../../gateway/source-control/source-control-module.js';
import type { GatewayDeps } from '../../gateway/create-gateway.js';
import { startGatewayHarness, type GatewayHarness } from './gateway-harness.js';
import { startGitServer, type GitServer } from './git-server.js';

/** The owner folder the plain-git test server keeps app repositories under. */
export const GIT_OWNER = 'acme-apps';

export interface SourceControlHarness {
  gateway: GatewayHarness;
  module: SourceControlModule;
  git: GitServer;
  token: string;
  /** Connects the workspace to the git server through the settings API. */
  connect(extra?: Record<string, unknown>): Promise<Response>;
  /** Waits until the sync runner has nothing queued or running (two minutes at most by default). */
  settle(timeoutMs?: number): Promise<void>;
  /** The version tags of a repository on the git server, oldest first. */
  remoteTags(repo: string): string[];
  close(): Promise<void>;
}

/**
 * A gateway with its source-control module and a real git server behind the plain-git
 * provider; the server accepts `token` as the HTTP Basic password.
 */
export async function startSourceControlHarness(
  options: {
    env?: Record<string, string>;
    token?: string;
    /** The logger of gateway and module (silent unless given). */
    logger?: Logger;
    /** Decides the git server's answer to a credential; default: the password must be `token`. */
    checkAuth?: (user: string, pass: string) => boolean;
    module?: Partial<Omit<SourceControlOptions, 'config' | 'logger' | 'store'>>;
    /** More gateway dependencies (for example lowered archive caps). */
    deps?: Partial<Omit<GatewayDeps, 'config' | 'store'>>;
  } = {},
): Promise<SourceControlHarness> {
  const token = options.token ?? 'git-test-token-0123456789';
  const git = await startGitServer({
    checkAuth: options.checkAuth ?? ((_user, pass) => pass === token),
  });
  const logger = options.logger ?? pino({ level: 'silent' });
  let module: SourceControlModule | undefined;

  const gateway = await startGatewayHarness({
    env: { SYNC_RETRY_BASE_MS: '100', REMOTE_TIMEOUT_MS: '5000', ...options.env },
    logger,
    deps: options.deps,
    depsWithStore: ({ store, config }) => {
      module = createSourceControl({
        config,
        store,
        logger,
        concurrency: 2,
        ...options.module,
      });
      return module.deps;
    },
  });
  await module!.runner.start();

  const settle = async (timeoutMs = 120_000) => {
    // A retry timer may queue work after the queue went idle; poll until jobs are quiet.
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await module!.runner.idle();
      const busy = await anyQueuedNow(gateway);
      if (!busy) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`the sync runner did not settle within ${timeoutMs} ms`);
  };

  return {
    gateway,
    module: module!,
    git,
    token,
    async connect(extra = {}) {
      return gateway.request('/api/v1/source-control', {
        method: 'PUT',
        token: await gateway.userToken({ role: 'admin', sub: 'alice' }),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          provider: 'git',
          baseUrl: git.baseUrl,
          owner: GIT_OWNER,
          ownerType: 'org',
          token,
          ...extra,
        }),
      });
    },
    settle,
    remoteTags(repo) {
      const out = execFileSync(
        'git',
        ['--git-dir', git.repoPath(GIT_OWNER, repo), 'tag', '--list', '--sort=version:refname'],
        {
          encoding: 'utf8',
        },
      );
      return out.split('\n').filter(Boolean);
    },
    async close() {
      await gateway.close();
      await git.close();
    },
  };
}

async function anyQueuedNow(gateway: GatewayHarness): Promise<boolean> {
  const jobs = await gateway.store.unfinishedJobs(1000);
  const now = Date.now();
  return jobs.some((job) => job.runAfter === null || Date.parse(job.runAfter) <= now + 50);
}
