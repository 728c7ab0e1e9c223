import { GatewayError } from '../core/errors.js';
import { ensureMirror } from './create-mirror.js';
import type { MirrorContext } from './mirror-context.js';
import { clearStaleLocks } from './stale-locks.js';

/**
 * Makes the mirror ready for a write: created on first use, stale locks of a crashed writer
 * removed. A fresh lock means another writer is at work, so the write stops here, clearly.
 */
export async function prepareWrite(ctx: MirrorContext): Promise<void> {
  const created = await ensureMirror(ctx.gitDir);
  if (created) {
    ctx.logger.info('created the app mirror');
    return;
  }

  const fresh = await clearStaleLocks(ctx.gitDir, ctx.lockGraceMs, ctx.logger);
  if (fresh.length > 0) {
    throw new GatewayError(
      'internal',
      'The mirror is locked by another writer; try again shortly.',
      {
        details: { locks: fresh.map((path) => path.slice(ctx.gitDir.length + 1)) },
      },
    );
  }
}
