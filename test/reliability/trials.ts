/**
 * Trials per crash step: RELIABILITY_TRIALS when set, else 20 under CI (CI=true) and 3 on a
 * developer's machine, where the suite should stay quick.
 */
export function trialCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.RELIABILITY_TRIALS;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new Error('RELIABILITY_TRIALS must be a whole number ≥ 1');
    return n;
  }
  return env.CI === 'true' ? 20 : 3;
}
