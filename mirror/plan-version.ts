import { tagOf } from '../core/manifest.js';
import { localGitError } from './git-failure.js';
import { runGit } from './git-runner.js';
import type { MirrorContext } from './mirror-context.js';
import { readManifestAt } from './read-file.js';
import type { RemoteState } from './fetch-remote.js';
import { isAncestor, listVersionTags, resolveCommit } from './refs.js';
import { GIT_IDENTITY } from './identity.js';

/** What to do for a new version, given the mirror and the remote as just fetched. */
export type VersionPlan =
  /** A version of this very source is already in the mirror (a retry): push it, write nothing. */
  | { action: 'adopt'; version: number; tag: string; commitSha: string; push: string[] }
  /** Write version `version` on `parent`; `outsideCommits` when the parent came from elsewhere. */
  | {
      action: 'write';
      version: number;
      tag: string;
      parent: string | null;
      outsideCommits: boolean;
    };

export interface PlanInput {
  /** The number the caller expects (last version + 1). */
  version: number;
  /** The source hash of the files about to be written. */
  sourceHash: string;
  remote: RemoteState;
}

// How far past a taken number the plan looks before it gives up; far more than any real
// collision run, small enough to stop a remote that holds every number.
const MAX_SKIPPED_NUMBERS = 1000;

/**
 * Chooses the version number and the parent commit. Tags are never moved: a number whose tag
 * exists elsewhere is skipped. A remote `main` that moved past ours becomes the parent, so the
 * commits pushed there by others stay in history.
 */
export async function planVersion(ctx: MirrorContext, input: PlanInput): Promise<VersionPlan> {
  const localMain = await resolveCommit(ctx.gitDir, 'main', ctx.gitTimeoutMs);
  const remoteMain = input.remote.main;
  const remoteContained =
    remoteMain === null ||
    (localMain !== null && (await isAncestor(ctx.gitDir, remoteMain, localMain, ctx.gitTimeoutMs)));

  const localTags = new Map(
    (await listVersionTags(ctx.gitDir, ctx.gitTimeoutMs)).map((tag) => [tag.version, tag]),
  );
  const remoteTags = new Map(input.remote.tags.map((tag) => [tag.version, tag]));

  for (let version = input.version; version < input.version + MAX_SKIPPED_NUMBERS; version += 1) {
    const local = localTags.get(version);
    const remote = remoteTags.get(version);
    if (!local && !remote) {
      const parent = remoteContained ? localMain : remoteMain;
      const outsideCommits = remoteContained
        ? false
        : await hasForeignCommits(ctx, remoteMain!, localMain);
      return { action: 'write', version, tag: tagOf(version), parent, outsideCommits };
    }
    if (local && (await isOurRetry(ctx, local, remote, input, localMain, remoteContained))) {
      // The remote may already hold the tag (only the record was lost); push what it lacks.
      const push = remote ? (remoteContained ? ['main'] : []) : ['main', local.name];
      return { action: 'adopt', version, tag: local.name, commitSha: local.commitSha, push };
    }
    ctx.logger.info({ tag: tagOf(version) }, `skipping ${tagOf(version)}: the tag is taken`);
  }
  throw localGitError('choosing a version number', {
    code: 1,
    stderr: `no free version tag within ${MAX_SKIPPED_NUMBERS} numbers`,
    timedOut: false,
  });
}

/**
 * True when the local tag was written for this same source by an earlier attempt and can still
 * be pushed as it is: either the remote already has that very tag, or the remote's main is
 * behind ours and the tag lies on our main.
 */
async function isOurRetry(
  ctx: MirrorContext,
  local: { tagSha: string; commitSha: string },
  remote: { tagSha: string } | undefined,
  input: PlanInput,
  localMain: string | null,
  remoteContained: boolean,
): Promise<boolean> {
  if (remote && remote.tagSha !== local.tagSha) return false;
  if (!remote && (!remoteContained || localMain === null)) return false;
  if (!remote && !(await isAncestor(ctx.gitDir, local.commitSha, localMain!, ctx.gitTimeoutMs)))
    return false;

  const manifest = await readManifestAt(ctx.gitDir, local.commitSha, ctx.gitTimeoutMs);
  return manifest?.source.hash === input.sourceHash;
}

/** True when the remote's main holds a commit, not in ours, that the gateway did not write. */
export async function hasForeignCommits(
  ctx: MirrorContext,
  remoteMain: string,
  localMain: string | null,
): Promise<boolean> {
  const args = ['log', '--format=%an <%ae>', remoteMain];
  if (localMain) args.push('--not', localMain);
  const exit = await runGit({ gitDir: ctx.gitDir, args, timeoutMs: ctx.gitTimeoutMs });
  if (exit.code !== 0) throw localGitError('reading the remote history', exit);
  return exit.stdout
    .toString('utf8')
    .split('\n')
    .some((line) => line !== '' && line !== GIT_IDENTITY);
}
