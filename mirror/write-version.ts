import { GatewayError } from '../core/errors.js';
import { faultPoint } from '../core/fault-point.js';
import { tagOf } from '../core/manifest.js';
import { MANIFEST_PATH } from '../core/source-hash.js';
import { writeCommitObjects, type VersionFile } from './fast-import-commit.js';
import type { MirrorContext } from './mirror-context.js';
import { prepareWrite } from './prepare-write.js';
import { applyRefTransaction, RefConflictError } from './ref-transaction.js';
import { readRefs } from './refs.js';
import { commitSubjectOf } from './tag-message.js';
import { assertSafeTreePath } from './tree-path.js';
import { writeTagObject } from './version-tag.js';

export interface WriteVersionInput {
  /** The sanitized app files, without `second-app.json`. */
  files: readonly VersionFile[];
  readBlob: (sha256: string) => Promise<Buffer>;
  /** The bytes of `second-app.json` for this version. */
  manifest: Buffer;
  summary: string;
  /** ISO date: the commit's author and committer date and the tag's date. */
  createdAt: string;
  version: number;
  /** The commit the version follows; null for the first commit of the repository. */
  parent: string | null;
}

export interface WriteVersionResult {
  commitSha: string;
  tag: string;
  /** False when the tag was already there at this very commit (a retry after a crash). */
  created: boolean;
}

/** The version's tag already names another commit; the caller moves on to the next number. */
export class TagTakenError extends GatewayError {
  readonly tag: string;
  readonly existingCommit: string;

  constructor(tag: string, existingCommit: string) {
    super('remote_diverged', `Tag ${tag} already exists at another commit.`, {
      details: { tag, existingCommit },
    });
    this.name = 'TagTakenError';
    this.tag = tag;
    this.existingCommit = existingCommit;
  }
}

/**
 * Writes one version: blobs, trees and a commit in one `fast-import`, the annotated tag with
 * `mktag`, then `main` and the tag in one ref transaction. Deterministic, so a retry after a
 * crash at any point converges on the same commit and tag.
 */
export async function writeVersion(
  ctx: MirrorContext,
  input: WriteVersionInput,
): Promise<WriteVersionResult> {
  checkVersionInput(input);
  const tag = tagOf(input.version);

  await prepareWrite(ctx);
  const before = await readRefs(
    ctx.gitDir,
    ['refs/heads/main', `refs/tags/${tag}`],
    ctx.gitTimeoutMs,
  );
  const mainBefore = before.get('refs/heads/main')?.commitSha ?? null;

  const commitSha = await writeCommitObjects({
    gitDir: ctx.gitDir,
    files: input.files,
    inline: [{ path: MANIFEST_PATH, content: input.manifest }],
    readBlob: input.readBlob,
    parent: input.parent,
    message: `${commitSubjectOf(input.summary, input.version)}\n\nSecond app version ${input.version}\n`,
    createdAt: input.createdAt,
    replaceTree: true,
    timeoutMs: ctx.gitTimeoutMs,
  });

  const existing = before.get(`refs/tags/${tag}`);
  if (existing) return settleExisting(tag, existing, commitSha);

  const tagSha = await writeTagObject({
    gitDir: ctx.gitDir,
    commitSha,
    tag,
    summary: input.summary,
    createdAt: input.createdAt,
    timeoutMs: ctx.gitTimeoutMs,
  });

  faultPoint('objects-written'); // Crash-test hook: objects stored, no ref names them yet.

  try {
    await applyRefTransaction(
      ctx.gitDir,
      [
        { op: 'update', ref: 'refs/heads/main', newSha: commitSha, oldSha: mainBefore },
        { op: 'create', ref: `refs/tags/${tag}`, newSha: tagSha },
      ],
      ctx.gitTimeoutMs,
    );
  } catch (err) {
    // Another writer of the same version may have won the race; equal work is not a failure.
    if (!(err instanceof RefConflictError)) throw err;
    const raced = await findTag(ctx, tag);
    if (raced) return settleExisting(tag, raced, commitSha);
    throw err;
  }

  ctx.logger.info({ tag, commitSha }, `wrote ${tag} to the mirror`);
  return { commitSha, tag, created: true };
}

async function findTag(ctx: MirrorContext, tag: string) {
  const refs = await readRefs(ctx.gitDir, [`refs/tags/${tag}`], ctx.gitTimeoutMs);
  return refs.get(`refs/tags/${tag}`) ?? null;
}

function settleExisting(
  tag: string,
  existing: { commitSha: string },
  commitSha: string,
): WriteVersionResult {
  if (existing.commitSha !== commitSha) throw new TagTakenError(tag, existing.commitSha);
  return { commitSha, tag, created: false };
}

/** The files were sanitized upstream; the tree's names are checked again because git trusts us. */
export function checkVersionInput(input: WriteVersionInput): void {
  if (!Number.isInteger(input.version) || input.version < 1 || input.version > 999_999_999) {
    throw new GatewayError('invalid_request', 'The version number is not valid.');
  }
  if (input.parent !== null && !/^[0-9a-f]{40}$/.test(input.parent)) {
    throw new GatewayError('invalid_request', 'The parent commit is not a full SHA.');
  }

  const paths = new Set<string>();
  for (const file of input.files) {
    assertSafeTreePath(file.path);
    if (file.path === MANIFEST_PATH) {
      throw new GatewayError(
        'invalid_request',
        'second-app.json is written by the mirror, not passed as a file.',
      );
    }
    if (paths.has(file.path)) {
      throw new GatewayError('unsafe_path', 'The same path appears twice.', {
        details: { path: file.path },
      });
    }
    if (!/^[0-9a-f]{64}$/.test(file.sha256) || !Number.isSafeInteger(file.size) || file.size < 0) {
      throw new GatewayError('invalid_request', 'A file has no valid sha256 or size.');
    }
    paths.add(file.path);
  }

  // A file and a folder of the same name cannot both stand in a tree.
  for (const path of paths) {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      if (paths.has(path.slice(0, slash)) || path.slice(0, slash) === MANIFEST_PATH) {
        throw new GatewayError('unsafe_path', 'A path is both a file and a folder.', {
          details: { path: path.slice(0, slash) },
        });
      }
    }
  }
}
