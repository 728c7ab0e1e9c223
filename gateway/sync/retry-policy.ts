import { PERMANENT_SYNC_CODES, type ErrorCode } from '../../core/errors.js';

export interface RetryPolicyOptions {
  /** SYNC_MAX_ATTEMPTS: attempts in all, the first included. */
  maxAttempts: number;
  /** SYNC_RETRY_BASE_MS: the wait after the first failure; it doubles after each. */
  baseMs: number;
  /** No wait is longer than this (one hour unless set). */
  maxMs?: number;
}

/**
 * When a failed sync runs again: never for errors a retry cannot mend, never after the last
 * attempt, at the provider's reset time for rate limits, else after an exponential backoff.
 * Answers the epoch ms of the next attempt, or null when no automatic retry will run.
 */
export function nextAttemptAt(
  policy: RetryPolicyOptions,
  failure: { code: ErrorCode; retryAt?: number },
  attemptsSoFar: number,
  now: number,
): number | null {
  if (PERMANENT_SYNC_CODES.has(failure.code)) return null;
  if (attemptsSoFar >= policy.maxAttempts) return null;

  const maxMs = policy.maxMs ?? 3_600_000;
  const backoff = Math.min(policy.baseMs * 2 ** Math.max(attemptsSoFar - 1, 0), maxMs);

  if (failure.code === 'rate_limited' && failure.retryAt !== undefined) {
    // The provider said when its window resets; waiting less would only spend another attempt.
    return Math.max(failure.retryAt, now + Math.min(policy.baseMs, maxMs));
  }
  return now + backoff;
}
