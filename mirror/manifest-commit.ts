import { GatewayError } from '../core/errors.js';
import { MANIFEST_PATH } from '../core/source-hash.js';
import { writeCommitObjects } from './fast-import-commit.js';
import type { MirrorContext } from './mirror-context.js';
import { prepareWrite } from './prepare-write.js';
import { readTreeFile } from './read-file.js';
import { applyRefTransaction } from './ref-transaction.js';
import { resolveCommit } from './refs.js';

export interface ManifestCommitInput {
  manifest: Buffer;
  createdAt: string;
  /** The commit to change. */
  parent: string;
  /**
   * Where `main` must be for the change to land; default `parent`. Differs from it when the
   * remote's main moved past ours and the change goes on top of the remote's tip.
   */
  expectedMain?: string;
}

export interface ManifestCommitResult {
  commitSha: string;
  /** False when the parent already had these exact manifest bytes, or the commit was made. */
  created: boolean;
}

/**
 * A commit on `main` that changes only `second-app.json` (sharing to the catalog): the same
 * tree otherwise, no new tag. Deterministic like a version, so a retry finds its own commit.
 */
export async function writeManifestCommit(
  ctx: MirrorContext,
  input: ManifestCommitInput,
): Promise<ManifestCommitResult> {
  const expectedMain = input.expectedMain ?? input.parent;
  if (!/^[0-9a-f]{40}$/.test(input.parent) || !/^[0-9a-f]{40}$/.test(expectedMain)) {
    throw new GatewayError('invalid_request', 'The parent commit is not a full SHA.');
  }
  await prepareWrite(ctx);

  // A parent that already holds these bytes needs no commit; `main` may still have to move to it
  // (the remote's tip, where someone else made the same change).
  const current = await readTreeFile(ctx.gitDir, input.parent, MANIFEST_PATH, ctx.gitTimeoutMs);
  const unchanged = current?.equals(input.manifest) === true;
  if (unchanged && input.parent === expectedMain)
    return { commitSha: input.parent, created: false };

  const commitSha = unchanged
    ? input.parent
    : await writeCommitObjects({
        gitDir: ctx.gitDir,
        files: [],
        inline: [{ path: MANIFEST_PATH, content: input.manifest }],
        readBlob: () => Promise.reject(new Error('a manifest commit reads no blobs')),
        parent: input.parent,
        message: 'Update second-app.json\n',
        createdAt: input.createdAt,
        replaceTree: false,
        timeoutMs: ctx.gitTimeoutMs,
      });

  const main = await resolveCommit(ctx.gitDir, 'main', ctx.gitTimeoutMs);
  if (main === commitSha) return { commitSha, created: false };
  if (main !== expectedMain) {
    throw new GatewayError(
      'remote_diverged',
      'The mirror main moved since the manifest change was planned.',
    );
  }

  await applyRefTransaction(
    ctx.gitDir,
    [{ op: 'update', ref: 'refs/heads/main', newSha: commitSha, oldSha: expectedMain }],
    ctx.gitTimeoutMs,
  );
  ctx.logger.info({ commitSha }, 'wrote a manifest change to the mirror');
  return { commitSha, created: !unchanged };
}
