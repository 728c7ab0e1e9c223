import { localGitError } from './git-failure.js';
import { runGit } from './git-runner.js';
import type { MirrorContext } from './mirror-context.js';
import { mirrorExists } from './create-mirror.js';

/**
 * Repacks the mirror when git thinks it is due (`gc --auto`). Automatic gc is off on every
 * other command so that a write never pauses on it; a scheduler calls this instead.
 */
export async function maintainMirror(ctx: MirrorContext, timeoutMs: number): Promise<void> {
  if (!(await mirrorExists(ctx.gitDir))) return;
  const exit = await runGit({
    gitDir: ctx.gitDir,
    args: ['gc', '--auto', '--quiet'],
    // Later -c pairs win, so these undo the write-time `gc.auto=0` for this one command.
    config: ['gc.auto=6700', 'gc.autoPackLimit=50'],
    timeoutMs,
  });
  if (exit.code !== 0) throw localGitError('maintaining the mirror', exit);
}
