/** How many builds or audit events a listing answers when the caller names no limit. */
export const DEFAULT_LIST_LIMIT = 100;

/** A caller's limit as a positive integer; the default when absent or not a number. */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIST_LIMIT;
  return Math.max(1, Math.floor(limit));
}
