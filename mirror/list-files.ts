import { createHash } from 'node:crypto';
import { GatewayError } from '../core/errors.js';
import { localGitError } from './git-failure.js';
import { runGit, spawnGit } from './git-runner.js';
import { unsafeTreePathReason } from './tree-path.js';

/** One entry of a version's tree. */
export interface TreeEntry {
  path: string;
  /** `100644`, `100755`; anything else (links, submodules) is reported so callers can refuse. */
  mode: string;
  size: number;
  /** The git blob id (SHA-1). */
  gitSha: string;
  /** The sha256 of the content, when asked for. */
  sha256?: string;
}

/** Every file of a commit's tree, with one `git ls-tree`; sha256 via one `cat-file --batch`. */
export async function listTreeFiles(
  gitDir: string,
  commit: string,
  options: { sha256?: boolean; sizes?: boolean; timeoutMs: number },
): Promise<TreeEntry[]> {
  // Sizes cost git a look at every object's header; a check of names and modes needs none.
  const long = options.sizes ?? true;
  const exit = await runGit({
    gitDir,
    args: ['ls-tree', '-r', '-z', ...(long ? ['--long'] : []), '--full-tree', commit],
    timeoutMs: options.timeoutMs,
  });
  if (exit.code !== 0) throw localGitError('listing the version files', exit);

  const entries: TreeEntry[] = [];
  for (const record of exit.stdout.toString('utf8').split('\0')) {
    if (!record) continue;
    const match = /^(\d{6}) (\w+) ([0-9a-f]{40})(?: +(\d+|-))?\t([\s\S]*)$/.exec(record);
    if (!match)
      throw new GatewayError('internal', 'git ls-tree printed a line the mirror cannot read.');
    const [, mode, , gitSha, size, path] = match;
    entries.push({
      path,
      mode,
      size: size === undefined || size === '-' ? 0 : Number(size),
      gitSha,
    });
  }

  if (options.sha256) await addSha256(gitDir, entries, options.timeoutMs);
  return entries;
}

/** Refuses a tree the gateway would not have written: unsafe names, links, submodules. */
export function assertPlainTree(entries: readonly TreeEntry[]): void {
  for (const entry of entries) {
    const reason = unsafeTreePathReason(entry.path);
    if (reason) throw new GatewayError('unsafe_path', `A path in the repository ${reason}.`);
    if (entry.mode !== '100644' && entry.mode !== '100755') {
      throw new GatewayError('unsupported_entry', 'The repository holds a link or a submodule.', {
        details: { path: entry.path, mode: entry.mode },
      });
    }
  }
}

/** Streams every blob once through `cat-file --batch`, hashing it without keeping it. */
async function addSha256(gitDir: string, entries: TreeEntry[], timeoutMs: number): Promise<void> {
  const blobs = entries.filter((entry) => entry.mode.startsWith('100'));
  const proc = spawnGit({ gitDir, args: ['cat-file', '--batch'], timeoutMs });
  proc.stdin.end(blobs.map((entry) => `${entry.gitSha}\n`).join(''));

  let index = 0;
  let remaining = -1;
  let hash = createHash('sha256');
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length > 0) {
      if (remaining < 0) {
        const newline = pending.indexOf(10);
        if (newline < 0) break;
        const header = pending.subarray(0, newline).toString('utf8');
        pending = pending.subarray(newline + 1);
        const size = /^[0-9a-f]{40} blob (\d+)$/.exec(header);
        if (!size)
          throw new GatewayError('internal', 'git cat-file answered an unexpected object.');
        remaining = Number(size[1]) + 1;
        hash = createHash('sha256');
      }
      const take = Math.min(remaining, pending.length);
      // The last byte of each object is the newline cat-file adds after it.
      hash.update(pending.subarray(0, Math.min(take, remaining - 1)));
      remaining -= take;
      pending = pending.subarray(take);
      if (remaining === 0) {
        blobs[index++].sha256 = hash.digest('hex');
        remaining = -1;
      }
    }
  }

  const exit = await proc.done;
  if (exit.code !== 0 || index !== blobs.length)
    throw localGitError('reading the version files', exit);
}
