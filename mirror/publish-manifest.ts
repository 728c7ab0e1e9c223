import type { GitRemote } from '../adapters/providers/provider-port.js';
import { GatewayError } from '../core/errors.js';
import { fetchRemote } from './fetch-remote.js';
import { writeManifestCommit } from './manifest-commit.js';
import type { MirrorContext } from './mirror-context.js';
import { hasForeignCommits } from './plan-version.js';
import { pushRefs } from './push-refs.js';
import { isAncestor, resolveCommit } from './refs.js';

export interface PublishManifestInput {
  manifest: Buffer;
  createdAt: string;
  remote: GitRemote;
  /** Timeout of the fetch and of the push, in ms. */
  timeoutMs: number;
}

export interface PublishedManifest {
  commitSha: string;
  /** True when the remote's main had commits the gateway did not write. */
  outsideCommits: boolean;
}

/**
 * Publishes a manifest change (sharing to the catalog) end to end: fetch the remote, commit the
 * new `second-app.json` on the newer of the two `main`s, push `main`. A remote `main` that moved
 * past ours is the parent, so the commits pushed there by others stay; their files stay too,
 * since only the manifest changes. Histories that split (the remote was rewritten) answer
 * `remote_diverged`, and nothing is pushed.
 */
export async function publishManifest(
  ctx: MirrorContext,
  input: PublishManifestInput,
): Promise<PublishedManifest> {
  const remote = await fetchRemote(ctx, { remote: input.remote, timeoutMs: input.timeoutMs });
  const localMain = await resolveCommit(ctx.gitDir, 'main', ctx.gitTimeoutMs);
  if (!localMain) throw new GatewayError('no_version', 'The mirror has no version to share.');

  const parent = await parentOf(ctx, localMain, remote.main);
  const outsideCommits = parent !== localMain && (await hasForeignCommits(ctx, parent, localMain));
  const written = await writeManifestCommit(ctx, {
    manifest: input.manifest,
    createdAt: input.createdAt,
    parent,
    expectedMain: localMain,
  });

  await pushRefs(ctx, { remote: input.remote, refs: ['main'], timeoutMs: input.timeoutMs });
  ctx.logger.info({ commitSha: written.commitSha }, 'pushed the manifest change to the remote');
  return { commitSha: written.commitSha, outsideCommits };
}

/** Our `main` when the remote's is behind or equal; the remote's when it moved past ours. */
async function parentOf(
  ctx: MirrorContext,
  localMain: string,
  remoteMain: string | null,
): Promise<string> {
  if (remoteMain === null || remoteMain === localMain) return localMain;
  if (await isAncestor(ctx.gitDir, remoteMain, localMain, ctx.gitTimeoutMs)) return localMain;
  if (await isAncestor(ctx.gitDir, localMain, remoteMain, ctx.gitTimeoutMs)) return remoteMain;
  throw new GatewayError(
    'remote_diverged',
    "The remote's main and the mirror's have split: someone rewrote the remote's history.",
  );
}
