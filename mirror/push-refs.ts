import type { GitRemote } from '../adapters/providers/provider-port.js';
import { GatewayError } from '../core/errors.js';
import { versionOfTag } from '../core/manifest.js';
import { remoteGitError } from './git-failure.js';
import { runGit } from './git-runner.js';
import type { MirrorContext } from './mirror-context.js';
import { remoteAccess } from './remote-access.js';

export interface PushInput {
  remote: GitRemote;
  /** `main` and version tag names, e.g. `['main', 'second-app-v3']`. */
  refs: readonly string[];
  timeoutMs: number;
}

/**
 * Pushes branch and tags together with `--atomic`: all land or none do. Never forced, so a
 * remote that moved answers `remote_diverged` and nothing of ours replaces theirs.
 */
export async function pushRefs(ctx: MirrorContext, input: PushInput): Promise<void> {
  const specs = input.refs.map(refspecOf);
  if (specs.length === 0) return;
  const access = remoteAccess(input.remote, input.timeoutMs);

  const exit = await runGit({
    gitDir: ctx.gitDir,
    args: ['push', '--atomic', '--porcelain', '--quiet', '--no-verify', '--', access.url, ...specs],
    env: access.env,
    allowHttp: access.allowHttp,
    timeoutMs: input.timeoutMs,
  });
  if (exit.code === 0) return;

  // --porcelain reports rejections on stdout; read both so the cause is classified rightly.
  const text = `${exit.stdout.toString('utf8')}\n${exit.stderr}`;
  throw remoteGitError('pushing to the remote', { ...exit, stderr: text }, access.secrets);
}

function refspecOf(name: string): string {
  if (name === 'main') return 'refs/heads/main:refs/heads/main';
  if (versionOfTag(name) !== null) return `refs/tags/${name}:refs/tags/${name}`;
  throw new GatewayError('invalid_request', 'Only main and version tags are pushed.');
}
