import { PassThrough, type Readable } from 'node:stream';
import { MANIFEST_PATH } from '../core/source-hash.js';
import { localGitError } from './git-failure.js';
import { spawnGit } from './git-runner.js';
import { assertPlainTree, listTreeFiles } from './list-files.js';

export interface ArchiveOptions {
  /** Include the root `second-app.json` (restores to workers leave it out). */
  includeManifest: boolean;
  /** Timeout of the whole stream, in ms: a reader that stalls longer ends it. */
  timeoutMs: number;
}

// Two zero blocks: what a tar of no files is.
const EMPTY_TAR = Buffer.alloc(1024);

/**
 * A tar of a commit's files, streamed from `git archive`. The tree is checked first, so a
 * repository holding `.git`-like names, links or submodules is refused, never streamed.
 */
export async function archiveTree(
  gitDir: string,
  commit: string,
  options: ArchiveOptions,
): Promise<Readable> {
  const args = ['archive', '--format=tar', commit];
  if (!options.includeManifest) args.push('--', `:(exclude)${MANIFEST_PATH}`);

  // git archive starts while the tree is checked, its output held in `out` (and then in the
  // pipe) until the check passes: the check costs no time on top of the archive itself. It is
  // piped at once because Node drains a child's unread stdout when the child exits.
  const proc = spawnGit({ gitDir, args, timeoutMs: options.timeoutMs });
  const out = new PassThrough();
  proc.stdout.pipe(out, { end: false });
  const stdoutDone = new Promise<void>((resolve) => proc.stdout.on('end', () => resolve()));
  proc.stdin.end();
  // A failure to start is read below; this keeps it from counting as unhandled meanwhile.
  proc.done.catch(() => undefined);
  const stop = async () => {
    proc.kill();
    await proc.done.catch(() => undefined);
  };

  let wanted: number;
  try {
    const entries = await listTreeFiles(gitDir, commit, {
      sizes: false,
      timeoutMs: options.timeoutMs,
    });
    assertPlainTree(entries);
    wanted = entries.filter(
      (entry) => options.includeManifest || entry.path !== MANIFEST_PATH,
    ).length;
  } catch (err) {
    out.destroy();
    await stop();
    throw err;
  }

  if (wanted === 0) {
    // git refuses a pathspec that leaves nothing; the answer is simply an empty tar.
    proc.stdout.unpipe(out);
    await stop();
    const empty = new PassThrough();
    empty.end(EMPTY_TAR);
    return empty;
  }

  // The tar is complete only when git says so: a failure mid-way must reach the reader as an
  // error, not as a short archive that looks whole.
  void proc.done.then(
    async (exit) => {
      if (exit.code === 0) {
        await stdoutDone;
        out.end();
        return;
      }
      out.destroy(localGitError('archiving the version', exit));
    },
    (err: unknown) => out.destroy(err as Error),
  );
  out.on('close', () => proc.kill());
  return out;
}
