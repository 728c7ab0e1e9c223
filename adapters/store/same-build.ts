import type { BuildRecord } from '../../core/model.js';

/**
 * True when `stored` is the build `incoming` describes. Saving a build whose id is already held is
 * then a retry of the same write (a lost answer, a crash half-way through a non-transactional
 * write) and completes; any other build under that id is a conflict.
 */
export function isSameBuild(stored: BuildRecord, incoming: BuildRecord): boolean {
  return (
    stored.appId === incoming.appId &&
    stored.snapshotHash === incoming.snapshotHash &&
    stored.createdAt === incoming.createdAt
  );
}
