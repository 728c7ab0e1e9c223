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
  const entries = await listTreeFiles(gitDir, commit, {
    sizes: false,
    timeoutMs: options.timeoutMs,
  });
  assertPlainTree(entries);

  const out = new PassThrough();
  const wanted = options.includeManifest
    ? entries
    : entries.filter((entry) => entry.path !== MANIFEST_PATH);
  if (wanted.length === 0) {
    out.end(EMPTY_TAR);
    return out;
  }

  const args = ['archive', '--format=tar', commit];
  if (!options.includeManifest) args.push('--', `:(exclude)${MANIFEST_PATH}`);
  const proc = spawnGit({ gitDir, args, timeoutMs: options.timeoutMs });
  proc.stdin.end();
  proc.stdout.pipe(out, { end: false });

  // The tar is complete only when git says so: a failure mid-way must reach the reader as an
  // error, not as a short archive that looks whole.
  let stdoutEnded = false;
  const stdoutDone = new Promise<void>((resolve) => proc.stdout.on('end', () => resolve()));
  proc.stdout.on('end', () => (stdoutEnded = true));
  void proc.done.then(
    async (exit) => {
      if (exit.code === 0) {
        if (!stdoutEnded) await stdoutDone;
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
