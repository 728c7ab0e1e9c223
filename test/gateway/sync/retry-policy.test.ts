import { nextAttemptAt } from '../../../gateway/sync/retry-policy.js';

const policy = { maxAttempts: 4, baseMs: 1000 };
const now = 1_700_000_000_000;

describe('sync retry policy', () => {
  test('backs off exponentially from the base', () => {
    expect(nextAttemptAt(policy, { code: 'provider_unavailable' }, 1, now)).toBe(now + 1000);
    expect(nextAttemptAt(policy, { code: 'provider_unavailable' }, 2, now)).toBe(now + 2000);
    expect(nextAttemptAt(policy, { code: 'remote_diverged' }, 3, now)).toBe(now + 4000);
  });

  test('stops after the last attempt', () => {
    expect(nextAttemptAt(policy, { code: 'provider_unavailable' }, 4, now)).toBeNull();
  });

  test.each([
    'auth_failed',
    'insufficient_permissions',
    'owner_not_found',
    'invalid_remote',
    'hash_mismatch',
  ] as const)('never retries %s on its own', (code) => {
    expect(nextAttemptAt(policy, { code }, 1, now)).toBeNull();
  });

  test("waits for the provider's reset time on a rate limit", () => {
    const retryAt = now + 90_000;
    expect(nextAttemptAt(policy, { code: 'rate_limited', retryAt }, 1, now)).toBe(retryAt);
    // A reset time already past still leaves a short pause.
    expect(nextAttemptAt(policy, { code: 'rate_limited', retryAt: now - 5 }, 1, now)).toBe(
      now + 1000,
    );
  });

  test('caps the wait', () => {
    expect(
      nextAttemptAt(
        { maxAttempts: 50, baseMs: 1000, maxMs: 10_000 },
        { code: 'provider_error' },
        30,
        now,
      ),
    ).toBe(now + 10_000);
  });
});
