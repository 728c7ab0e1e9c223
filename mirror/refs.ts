import { GatewayError } from '../core/errors.js';
import { versionOfTag } from '../core/manifest.js';
import { localGitError } from './git-failure.js';
import { runGit } from './git-runner.js';

/** A version tag as the mirror holds it. */
export interface VersionTag {
  name: string;
  version: number;
  /** The tag object (annotated) or the commit (lightweight tag). */
  tagSha: string;
  /** The commit the tag points at. */
  commitSha: string;
}

/** Refuses a revision that git could read as an option or an expression of several parts. */
export function assertRevision(rev: string): void {
  if (
    !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,250}$/.test(rev) ||
    rev.includes('..') ||
    rev.endsWith('.lock')
  ) {
    throw new GatewayError('invalid_request', 'Not a version, tag or commit the mirror knows.');
  }
}

/** The commit a revision names (`main`, a tag, a SHA), or null when there is none. */
export async function resolveCommit(
  gitDir: string,
  rev: string,
  timeoutMs: number,
): Promise<string | null> {
  assertRevision(rev);
  const exit = await runGit({
    gitDir,
    args: ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`],
    timeoutMs,
  });
  if (exit.code !== 0) return null;
  return exit.stdout.toString('utf8').trim();
}

/** The version tags under `namespace` (`refs/tags/` locally, `refs/remote-tags/` as fetched). */
export async function listVersionTags(
  gitDir: string,
  timeoutMs: number,
  namespace = 'refs/tags/',
): Promise<VersionTag[]> {
  const exit = await runGit({
    gitDir,
    args: [
      'for-each-ref',
      '--format=%(refname)%00%(objectname)%00%(*objectname)',
      `${namespace}second-app-v*`,
    ],
    timeoutMs,
  });
  if (exit.code !== 0) throw localGitError('listing the version tags', exit);

  const tags: VersionTag[] = [];
  for (const line of exit.stdout.toString('utf8').split('\n')) {
    if (!line) continue;
    const [ref, objectSha, peeled] = line.split('\0');
    const name = ref.slice(namespace.length);
    const version = versionOfTag(name);
    if (version === null) continue;
    tags.push({ name, version, tagSha: objectSha, commitSha: peeled || objectSha });
  }
  return tags.sort((a, b) => a.version - b.version);
}

/** True when `ancestor` is reachable from `descendant` (a commit counts as its own ancestor). */
export async function isAncestor(
  gitDir: string,
  ancestor: string,
  descendant: string,
  timeoutMs: number,
): Promise<boolean> {
  const exit = await runGit({
    gitDir,
    args: ['merge-base', '--is-ancestor', ancestor, descendant],
    timeoutMs,
  });
  if (exit.code === 0) return true;
  if (exit.code === 1) return false;
  throw localGitError('comparing commits', exit);
}

/** A ref as read: the object it names and, for an annotated tag, the commit it points at. */
export interface RefValue {
  sha: string;
  commitSha: string;
}

/** Several refs read with one `for-each-ref`; a missing ref is absent from the answer. */
export async function readRefs(
  gitDir: string,
  refs: readonly string[],
  timeoutMs: number,
): Promise<Map<string, RefValue>> {
  const exit = await runGit({
    gitDir,
    args: ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(*objectname)', ...refs],
    timeoutMs,
  });
  if (exit.code !== 0) throw localGitError('reading the mirror refs', exit);

  const wanted = new Set(refs);
  const found = new Map<string, RefValue>();
  for (const line of exit.stdout.toString('utf8').split('\n')) {
    const [ref, sha, peeled] = line.split('\0');
    // for-each-ref matches prefixes by path component; only the exact names are answered.
    if (wanted.has(ref)) found.set(ref, { sha, commitSha: peeled || sha });
  }
  return found;
}
