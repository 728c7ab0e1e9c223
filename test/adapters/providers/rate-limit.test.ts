import { pino } from 'pino';
import { withRetries, type RetryPolicy } from '../../../adapters/providers/rate-limit.js';
import { GatewayError } from '../../../core/errors.js';

const POLICY: RetryPolicy = {
  docs: 'https://example.test/limits',
  maxAttempts: 3,
  backoffBaseMs: 100,
  backoffMaxMs: 1_000,
  rateLimitFallbackMs: 60_000,
  resetMarginMs: 250,
  retryReadsOn: ['rate_limited', 'provider_unavailable'],
  retryWritesOn: ['rate_limited'],
};

// A clock the test owns: sleeping moves it, so the waits are checked without real time passing.
function clock() {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  };
}

function failingThen<T>(errors: GatewayError[], value: T) {
  let calls = 0;
  const fn = async () => {
    calls += 1;
    const next = errors.shift();
    if (next) throw next;
    return value;
  };
  return { fn, calls: () => calls };
}

describe('withRetries', () => {
  const logger = pino({ level: 'silent' });

  it('waits until the reset the provider names, then succeeds', async () => {
    const c = clock();
    const op = failingThen(
      [
        new GatewayError('rate_limited', 'limited', {
          providerStatus: 429,
          retryAt: c.now() + 2_000,
        }),
      ],
      'done',
    );

    const result = await withRetries(
      POLICY,
      { action: 'reading', idempotent: true, maxRateLimitWaitMs: 5_000, logger, ...c },
      op.fn,
    );

    expect(result).toBe('done');
    expect(c.slept).toEqual([2_250]);
  });

  it('throws rate_limited with retryAt when the wait would pass the bound', async () => {
    const c = clock();
    const retryAt = c.now() + 30_000;
    const op = failingThen(
      [new GatewayError('rate_limited', 'limited', { providerStatus: 403, retryAt })],
      'done',
    );

    await expect(
      withRetries(
        POLICY,
        { action: 'reading', idempotent: true, maxRateLimitWaitMs: 5_000, logger, ...c },
        op.fn,
      ),
    ).rejects.toMatchObject({ code: 'rate_limited', retryAt });
    expect(c.slept).toEqual([]);
    expect(op.calls()).toBe(1);
  });

  it('gives a rate limit without a named time the documented fallback wait as retryAt', async () => {
    const c = clock();
    const op = failingThen(
      [new GatewayError('rate_limited', 'limited', { providerStatus: 403 })],
      1,
    );

    await expect(
      withRetries(
        POLICY,
        { action: 'reading', idempotent: true, maxRateLimitWaitMs: 0, logger, ...c },
        op.fn,
      ),
    ).rejects.toMatchObject({ code: 'rate_limited', retryAt: c.now() + 60_000 });
  });

  it('retries a read through an outage with growing backoff, bounded by maxAttempts', async () => {
    const c = clock();
    const outage = () => new GatewayError('provider_unavailable', 'down', { providerStatus: 503 });
    const op = failingThen([outage(), outage(), outage()], 'never');

    await expect(
      withRetries(
        POLICY,
        { action: 'reading', idempotent: true, maxRateLimitWaitMs: 0, logger, ...c },
        op.fn,
      ),
    ).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(op.calls()).toBe(3);
    expect(c.slept).toHaveLength(2);
    expect(c.slept[0]).toBeGreaterThanOrEqual(100);
    expect(c.slept[1]).toBeGreaterThanOrEqual(200);
  });

  it('never repeats a write after an outage, which may have done the change', async () => {
    const c = clock();
    const op = failingThen(
      [new GatewayError('provider_unavailable', 'down', { providerStatus: 502 })],
      'created twice',
    );

    await expect(
      withRetries(
        POLICY,
        { action: 'creating', idempotent: false, maxRateLimitWaitMs: 5_000, logger, ...c },
        op.fn,
      ),
    ).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(op.calls()).toBe(1);
  });

  it('throws other failures at once', async () => {
    const c = clock();
    const op = failingThen([new GatewayError('auth_failed', 'no', { providerStatus: 401 })], 1);

    await expect(
      withRetries(
        POLICY,
        { action: 'reading', idempotent: true, maxRateLimitWaitMs: 5_000, logger, ...c },
        op.fn,
      ),
    ).rejects.toMatchObject({ code: 'auth_failed' });
    expect(op.calls()).toBe(1);
  });
});
