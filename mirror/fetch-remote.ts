import type { GitRemote } from '../adapters/providers/provider-port.js';
import { remoteGitError } from './git-failure.js';
import { runGit, type GitExit } from './git-runner.js';
import type { MirrorContext } from './mirror-context.js';
import { prepareWrite } from './prepare-write.js';
import { listVersionTags, resolveCommit, type VersionTag } from './refs.js';
import { remoteAccess, type RemoteAccess } from './remote-access.js';

/** Where the remote's `main` is kept; local `main` and local tags are never overwritten. */
export const REMOTE_MAIN_REF = 'refs/remotes/origin/main';
/** Where the remote's version tags are kept, beside (not over) the local ones. */
export const REMOTE_TAGS_PREFIX = 'refs/remote-tags/';

/** The remote as last fetched. */
export interface RemoteState {
  main: string | null;
  tags: VersionTag[];
}

const MAIN_SPEC = `+refs/heads/main:${REMOTE_MAIN_REF}`;
const TAGS_SPEC = `+refs/tags/second-app-v*:${REMOTE_TAGS_PREFIX}second-app-v*`;

/**
 * Fetches the remote's `main` and version tags into their own namespaces, with every object
 * checked by fsck on the way in. An empty remote (no `main`) is a normal state.
 */
export async function fetchRemote(
  ctx: MirrorContext,
  input: { remote: GitRemote; timeoutMs: number },
): Promise<RemoteState> {
  const access = remoteAccess(input.remote, input.timeoutMs);
  await prepareWrite(ctx);

  let exit = await fetchSpecs(ctx, access, [MAIN_SPEC, TAGS_SPEC], input.timeoutMs);
  if (exit.code !== 0 && /couldn't find remote ref refs\/heads\/main/i.test(exit.stderr)) {
    exit = await fetchSpecs(ctx, access, [TAGS_SPEC], input.timeoutMs);
    if (exit.code === 0) await dropRemoteMain(ctx);
  }
  if (exit.code !== 0) throw remoteGitError('fetching from the remote', exit, access.secrets);

  return {
    main: await resolveCommit(ctx.gitDir, REMOTE_MAIN_REF, ctx.gitTimeoutMs),
    tags: await listVersionTags(ctx.gitDir, ctx.gitTimeoutMs, REMOTE_TAGS_PREFIX),
  };
}

function fetchSpecs(
  ctx: MirrorContext,
  access: RemoteAccess,
  specs: string[],
  timeoutMs: number,
): Promise<GitExit> {
  return runGit({
    gitDir: ctx.gitDir,
    // --prune drops remote tags that were deleted there, so a freed number is seen as free.
    args: [
      'fetch',
      '--quiet',
      '--no-tags',
      '--prune',
      '--no-write-fetch-head',
      '--',
      access.url,
      ...specs,
    ],
    env: access.env,
    allowHttp: access.allowHttp,
    timeoutMs,
  });
}

async function dropRemoteMain(ctx: MirrorContext): Promise<void> {
  await runGit({
    gitDir: ctx.gitDir,
    args: ['update-ref', '-d', REMOTE_MAIN_REF],
    timeoutMs: ctx.gitTimeoutMs,
  });
}
