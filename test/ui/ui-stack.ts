import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import {
  createSourceControl,
  type SourceControlModule,
} from '../../gateway/source-control/source-control-module.js';
import { makeTar, sampleApp, uploadBuild, type FileTree } from '../gateway/gateway-fixtures.js';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness.js';
import { startGitServer, type GitServer } from '../support/git-server.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/** The owner folder the plain-git server keeps app repositories under. */
export const GIT_OWNER = 'acme-apps';

/** Builds the admin UI with the project's own build script into a new temporary folder. */
export async function buildUiIntoTemp(): Promise<{ dir: string; remove(): Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'admin-ui-'));
  const dir = join(parent, 'ui');
  await run(process.execPath, [join(ROOT, 'scripts', 'build-ui.mjs'), dir], { cwd: ROOT });
  return { dir, remove: () => rm(parent, { recursive: true, force: true }) };
}

/** A gateway serving the built UI, with source control wired and a real git server beside it. */
export interface UiStack {
  gateway: GatewayHarness;
  module: SourceControlModule;
  git: GitServer;
  /** The password the git server accepts. */
  gitToken: string;
  /** Waits until the sync runner has nothing queued or due. */
  settle(): Promise<void>;
  /** Uploads a build of `files` as the app's worker would. */
  build(appId: string, summary: string, files?: FileTree): Promise<void>;
  /** Connects the workspace to the git server through the API, as an admin. */
  connect(extra?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

/** Starts the stack on ephemeral loopback ports; always `close()` it. */
export async function startUiStack(options: {
  uiDir: string;
  env?: Record<string, string>;
}): Promise<UiStack> {
  const gitToken = 'git-ui-token-0123456789';
  const git = await startGitServer({ checkAuth: (_user, pass) => pass === gitToken });
  let module: SourceControlModule | undefined;

  const gateway = await startGatewayHarness({
    env: { SYNC_RETRY_BASE_MS: '100', REMOTE_TIMEOUT_MS: '3000', ...options.env },
    deps: { uiDir: options.uiDir },
    depsWithStore: ({ store, config }) => {
      module = createSourceControl({ config, store, logger: pino({ level: 'silent' }) });
      return module.deps;
    },
  });
  const sourceControl = module!;
  await sourceControl.runner.start();

  const settle = async () => {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      await sourceControl.runner.idle();
      const jobs = await gateway.store.unfinishedJobs(1000);
      const now = Date.now();
      const due = jobs.some((job) => job.runAfter === null || Date.parse(job.runAfter) <= now + 50);
      if (!due) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the sync runner did not settle');
  };

  return {
    gateway,
    module: sourceControl,
    git,
    gitToken,
    settle,
    async build(appId, summary, files = sampleApp()) {
      const token = await gateway.workerToken(appId);
      const response = await uploadBuild(gateway, appId, token, await makeTar(files), { summary });
      if (response.status !== 201) throw new Error(`the build upload answered ${response.status}`);
    },
    async connect(extra = {}) {
      const response = await gateway.request('/api/v1/source-control', {
        method: 'PUT',
        token: await gateway.userToken({ role: 'admin', sub: 'alice' }),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          provider: 'git',
          baseUrl: git.baseUrl,
          owner: GIT_OWNER,
          ownerType: 'org',
          token: gitToken,
          ...extra,
        }),
      });
      if (response.status !== 200) throw new Error(`connecting answered ${response.status}`);
    },
    async close() {
      await gateway.close();
      await git.close();
    },
  };
}
