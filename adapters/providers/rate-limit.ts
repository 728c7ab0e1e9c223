import type { Logger } from 'pino';
import { GatewayError, isGatewayError, type ErrorCode } from '../../core/errors.js';

/** How an adapter retries one provider call, written as data beside the provider's docs. */
export interface RetryPolicy {
  /** Where the provider documents its rate limits. */
  docs: string;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Backoff after an outage: base × 2^(attempt − 1), capped at `backoffMaxMs`, plus jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** The wait when a rate-limit answer names no time. */
  rateLimitFallbackMs: number;
  /** Added to a reset time, which providers give in whole seconds. */
  resetMarginMs: number;
  /** Codes worth another attempt for a call that only reads. */
  retryReadsOn: readonly ErrorCode[];
  /**
   * Codes worth another attempt for a call that changes something: only answers where the
   * provider refused before acting, so a retry cannot do the change twice.
   */
  retryWritesOn: readonly ErrorCode[];
}

/** Options of one call under a policy. */
export interface RetryCallOptions {
  /** What the call does, for log lines: `listing repositories of acme`. */
  action: string;
  /** True for reads; writes retry only on `retryWritesOn`. */
  idempotent: boolean;
  /** The longest the call may wait on rate limits in all, in ms. */
  maxRateLimitWaitMs: number;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The bound on rate-limit waits within one call when the caller sets none. */
export const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 10_000;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call`, retrying under `policy`: rate limits are waited out while the wait stays within
 * the bound (otherwise `rate_limited` is thrown with its `retryAt`), outages are retried with
 * capped exponential backoff, and every other failure is thrown at once.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  options: RetryCallOptions,
  call: () => Promise<T>,
): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  let waitedOnLimits = 0;

  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isGatewayError(error)) throw error;

      const retryable = options.idempotent ? policy.retryReadsOn : policy.retryWritesOn;
      const lastAttempt = attempt >= policy.maxAttempts;

      if (error.code === 'rate_limited') {
        const retryAt = error.retryAt ?? now() + policy.rateLimitFallbackMs;
        const wait = Math.max(0, retryAt - now()) + policy.resetMarginMs;
        const withinBound = waitedOnLimits + wait <= options.maxRateLimitWaitMs;
        if (lastAttempt || !withinBound || !retryable.includes('rate_limited')) {
          throw withRetryAt(error, retryAt);
        }

        options.logger.warn(
          { code: error.code, providerStatus: error.providerStatus, waitMs: wait },
          `${options.action}: rate limited, retrying in ${Math.ceil(wait / 1000)} s`,
        );
        waitedOnLimits += wait;
        await sleep(wait);
        continue;
      }

      if (lastAttempt || !retryable.includes(error.code)) throw error;

      const backoff = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));
      const wait = backoff + Math.floor(Math.random() * (backoff / 4));
      options.logger.warn(
        { code: error.code, providerStatus: error.providerStatus, waitMs: wait },
        `${options.action}: ${error.code}, retrying in ${wait} ms (attempt ${attempt + 1} of ${policy.maxAttempts})`,
      );
      await sleep(wait);
    }
  }
}

function withRetryAt(error: GatewayError, retryAt: number): GatewayError {
  if (error.retryAt !== undefined) return error;
  return new GatewayError(error.code, error.message, {
    providerStatus: error.providerStatus,
    retryAt,
    details: error.details,
  });
}
