import { parseManifest, type AppManifest } from '../core/manifest.js';
import { MANIFEST_PATH } from '../core/source-hash.js';
import { GatewayError } from '../core/errors.js';
import { runGit } from './git-runner.js';
import { assertRevision } from './refs.js';
import { assertSafeTreePath } from './tree-path.js';

/** The largest file `readFile` answers; larger ones are read through `archive`. */
export const READ_FILE_MAX_BYTES = 100 * 1024 * 1024;

/** One file's bytes at a revision, or null when the revision or the file does not exist. */
export async function readTreeFile(
  gitDir: string,
  rev: string,
  path: string,
  timeoutMs: number,
): Promise<Buffer | null> {
  assertRevision(rev);
  assertSafeTreePath(path);

  const size = await runGit({ gitDir, args: ['cat-file', '-s', `${rev}:${path}`], timeoutMs });
  if (size.code !== 0) return null;
  if (Number(size.stdout.toString('utf8').trim()) > READ_FILE_MAX_BYTES) {
    throw new GatewayError('too_large', 'The file is larger than the mirror reads at once.');
  }

  const exit = await runGit({ gitDir, args: ['cat-file', 'blob', `${rev}:${path}`], timeoutMs });
  return exit.code === 0 ? exit.stdout : null;
}

/** The parsed `second-app.json` at a revision, or null when missing or not valid. */
export async function readManifestAt(
  gitDir: string,
  rev: string,
  timeoutMs: number,
): Promise<AppManifest | null> {
  const content = await readTreeFile(gitDir, rev, MANIFEST_PATH, timeoutMs);
  return content ? parseManifest(content) : null;
}
