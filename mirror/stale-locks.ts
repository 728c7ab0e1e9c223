import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** How old a lock file must be before a writer takes it for a crashed process's leftover. */
export const DEFAULT_LOCK_GRACE_MS = 10 * 60 * 1000;

// Where git keeps lock files in a bare repository: beside HEAD, config and packed-refs, and
// beside every loose ref.
const ROOT_LOCKS = [
  'HEAD.lock',
  'config.lock',
  'packed-refs.lock',
  'shallow.lock',
  'FETCH_HEAD.lock',
];

/**
 * Removes `*.lock` files older than `graceMs` (left by a killed git) and answers the fresh ones,
 * which belong to a live writer and are left alone.
 */
export async function clearStaleLocks(
  gitDir: string,
  graceMs: number,
  logger: Logger,
): Promise<string[]> {
  const candidates = ROOT_LOCKS.map((name) => join(gitDir, name));
  candidates.push(...(await findLocks(join(gitDir, 'refs'))));
  const fresh: string[] = [];
  const now = Date.now();

  for (const path of candidates) {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      continue;
    }
    if (now - mtimeMs < graceMs) {
      fresh.push(path);
      continue;
    }
    await rm(path, { force: true });
    logger.warn(
      { lock: path.slice(gitDir.length + 1) },
      'removed a stale git lock left by a crashed writer',
    );
  }
  return fresh;
}

async function findLocks(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findLocks(path)));
    else if (entry.name.endsWith('.lock')) found.push(path);
  }
  return found;
}
