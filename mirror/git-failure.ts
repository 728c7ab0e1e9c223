import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { GatewayError, type ErrorCode } from '../core/errors.js';
import type { GitExit } from './git-runner.js';

/** Removes secrets, credentials in URLs and control characters from git's text. */
export function scrubGitText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return (
    out
      .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@')
      .replace(/(authorization:\s*)\S+(\s+\S+)?/gi, '$1***')
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
  );
}

// Less room than this left on a disk counts as full: git needs a few pages for any write.
const MIN_FREE_BYTES = 64 * 1024;

interface Rule {
  code: ErrorCode;
  status: number;
  pattern: RegExp;
  message: string;
}

// Ordered: the first match wins. git's messages are read under LC_ALL=C, so they are English
// and stable across the versions these patterns were checked against (2.39 and later).
const RULES: Rule[] = [
  {
    // transfer.fsckObjects refused what the remote sent: `.git` or `..` names, broken objects.
    code: 'unsafe_path',
    status: 0,
    pattern:
      /fsck error|hasDotgit|hasDotdot|hasDot\b|badTree|fullPathname|index-pack failed|invalid object|did not send all necessary objects/i,
    message: 'the remote repository holds objects or paths the gateway refuses',
  },
  {
    code: 'auth_failed',
    status: 401,
    pattern:
      /authentication failed|could not read (username|password)|terminal prompts disabled|http (basic: )?access denied|returned error: 401|\b401\b/i,
    message: 'the git server refused the credential',
  },
  {
    code: 'auth_failed',
    status: 403,
    pattern: /returned error: 403|\b403\b|permission to .* denied/i,
    message: 'the git server refused access with this credential',
  },
  {
    code: 'remote_diverged',
    status: 0,
    pattern:
      /non-fast-forward|\[rejected\]|fetch first|stale info|already exists|tag already exists|atomic push failed/i,
    message: 'the remote has commits or tags the mirror does not',
  },
  {
    code: 'provider_error',
    status: 404,
    pattern:
      /repository .* not found|returned error: 404|\b404\b|does not appear to be a git repository/i,
    message: 'the git server has no such repository',
  },
  {
    code: 'provider_unavailable',
    status: 0,
    pattern:
      /could not resolve host|failed to connect|connection refused|connection reset|connection timed out|operation timed out|timed out|empty reply|unexpected disconnect|the remote end hung up|early eof|ssl|returned error: 5\d\d|\b50[0-9]\b/i,
    message: 'the git server did not answer',
  },
];

/**
 * Turns a failed git process talking to a remote into a normalized error. git's own text never
 * leaves here except as a scrubbed last line in the error's details, for the logs.
 */
export function remoteGitError(
  action: string,
  exit: GitExit,
  secrets: readonly string[] = [],
): GatewayError {
  if (exit.timedOut) {
    return new GatewayError(
      'provider_unavailable',
      `${action}: the git server did not answer in time`,
      {
        providerStatus: 0,
      },
    );
  }

  const text = scrubGitText(exit.stderr, secrets);
  const full = diskFullError(action, text);
  if (full) return full;
  const rule = RULES.find((candidate) => candidate.pattern.test(text));
  const detail = lastLine(text);
  if (!rule) {
    return new GatewayError('provider_error', `${action}: git failed`, {
      providerStatus: 0,
      details: { git: detail },
    });
  }
  return new GatewayError(rule.code, `${action}: ${rule.message}`, {
    providerStatus: rule.status,
    details: { git: detail },
  });
}

/**
 * `storage_full` when git says the mirror's disk (or quota) is full: the gateway's own problem,
 * not the remote's, and mended by freeing space rather than by the provider. Null otherwise.
 */
export function diskFullError(action: string, text: string): GatewayError | null {
  if (!/no space left on device|disk quota exceeded/i.test(text) && !lockWriteOnFullDisk(text))
    return null;
  return new GatewayError('storage_full', `${action}: the gateway's disk is full`, {
    details: { git: lastLine(text) },
  });
}

/**
 * git 2.39 reports a ref it could not write as "couldn't write '<path>.lock'" without saying
 * why; the disk holding that path is asked whether it has room left.
 */
function lockWriteOnFullDisk(text: string): boolean {
  const path = /couldn't write '([^'\n]+\.lock)'/.exec(text)?.[1];
  if (!path) return false;
  try {
    const disk = statfsSync(dirname(path));
    return disk.bavail * disk.bsize < MIN_FREE_BYTES;
  } catch {
    // The folder is gone or unreadable: nothing says the disk is full.
    return false;
  }
}

/** A failure of a local git command (no remote involved), as an `internal` error. */
export function localGitError(action: string, exit: GitExit): GatewayError {
  const full = diskFullError(action, scrubGitText(exit.stderr));
  if (full) return full;
  const detail = lastLine(scrubGitText(exit.stderr));
  const reason = exit.timedOut ? 'timed out' : `failed (${detail || `exit ${exit.code}`})`;
  return new GatewayError('internal', `${action} ${reason}`, { details: { git: detail } });
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return (lines.at(-1) ?? '').slice(0, 300);
}
