import { GatewayError } from '../core/errors.js';
import { diskFullError, scrubGitText } from './git-failure.js';
import { runGit } from './git-runner.js';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

/** One ref change: `create` fails if the ref exists, `update` if it is not at `oldSha`. */
export type RefChange =
  | { op: 'create'; ref: string; newSha: string }
  | { op: 'update'; ref: string; newSha: string; oldSha: string | null }
  | { op: 'delete'; ref: string; oldSha: string };

/**
 * Applies every change or none with one `git update-ref --stdin` transaction. A ref that moved
 * since it was read, or a tag that already exists, fails the whole of it with `RefConflictError`.
 */
export async function applyRefTransaction(
  gitDir: string,
  changes: readonly RefChange[],
  timeoutMs: number,
): Promise<void> {
  const lines = ['start'];
  for (const change of changes) {
    assertRefName(change.ref);
    if (change.op === 'create') lines.push(`create ${change.ref} ${change.newSha}`);
    if (change.op === 'update')
      lines.push(`update ${change.ref} ${change.newSha} ${change.oldSha ?? ZERO_SHA}`);
    if (change.op === 'delete') lines.push(`delete ${change.ref} ${change.oldSha}`);
  }
  lines.push('prepare', 'commit', '');

  const exit = await runGit({
    gitDir,
    args: ['update-ref', '--stdin'],
    input: lines.join('\n'),
    timeoutMs,
  });
  if (exit.code === 0) return;

  const text = scrubGitText(exit.stderr);
  const full = diskFullError("moving the mirror's refs", text);
  if (full) throw full;
  if (/unable to create .*lock|File exists/i.test(text)) {
    throw new GatewayError(
      'internal',
      'The mirror is locked by another writer; try again shortly.',
      {
        details: { git: lastLine(text) },
      },
    );
  }
  if (
    /reference already exists|is at .* but expected|cannot lock ref|unable to resolve reference/i.test(
      text,
    )
  ) {
    throw new RefConflictError(lastLine(text));
  }
  throw new GatewayError('internal', `Moving the mirror's refs failed (${lastLine(text)}).`);
}

/** A ref was not where the transaction expected it: another writer got there first. */
export class RefConflictError extends GatewayError {
  constructor(detail: string) {
    super('internal', 'A mirror ref moved while a version was being written.', {
      details: { git: detail },
    });
    this.name = 'RefConflictError';
  }
}

/** Refuses a ref name that could be read as an option or a revision expression. */
export function assertRefName(ref: string): void {
  if (
    !/^refs\/[A-Za-z0-9._/-]+$/.test(ref) ||
    ref.includes('..') ||
    ref.includes('//') ||
    ref.endsWith('.lock')
  ) {
    throw new GatewayError('internal', `Not a ref name the mirror writes: ${ref.slice(0, 100)}`);
  }
}

function lastLine(text: string): string {
  return (text.trim().split('\n').at(-1) ?? '').slice(0, 300);
}
