import { GatewayError, type ErrorCode } from '../../core/errors.js';

/** Response headers in either shape the adapters meet: a fetch `Headers` or a plain record. */
export type HeaderSource = Headers | Record<string, string | string[] | number | undefined>;

/** What a provider call was doing, for a message a person can act on. */
export interface ProviderCallContext {
  /** The provider's display name, e.g. `GitHub`. */
  provider: string;
  /** What the gateway was doing, e.g. `creating repository acme/app`. */
  action: string;
}

/** Codes an adapter may pick for a status instead of the default mapping. */
export type StatusOverrides = Partial<Record<number, ErrorCode>>;

/** Reads one header from either header shape, case-insensitively. */
export function headerValue(headers: HeaderSource | undefined, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);

  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }
  return null;
}

// Below this a reset value is a number of seconds from now (the IETF RateLimit draft, GitLab's
// `RateLimit-Reset` on some paths); above it, a Unix time in seconds (GitHub, GitLab.com).
const EPOCH_SECONDS_FLOOR = 1_000_000_000;

/**
 * When a rate-limited call may be tried again (epoch ms), from `retry-after` (seconds or an HTTP
 * date), `x-ratelimit-reset` or `ratelimit-reset`; null when the response names no time.
 */
export function retryAtFromHeaders(
  headers: HeaderSource | undefined,
  now = Date.now(),
): number | null {
  const retryAfter = headerValue(headers, 'retry-after');
  if (retryAfter !== null) {
    const seconds = Number(retryAfter.trim());
    if (Number.isFinite(seconds) && seconds >= 0) return now + Math.ceil(seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(date, now);
  }

  const reset =
    headerValue(headers, 'x-ratelimit-reset') ?? headerValue(headers, 'ratelimit-reset');
  if (reset === null) return null;
  const value = Number(reset.trim());
  if (!Number.isFinite(value) || value < 0) return null;
  return value >= EPOCH_SECONDS_FLOOR ? Math.max(value * 1000, now) : now + value * 1000;
}

/**
 * Whether a response is a rate-limit refusal: any 429, and a 403 that carries GitHub's primary
 * (`x-ratelimit-remaining: 0`) or secondary (`retry-after`) limit signals. A plain 403 is a
 * permission refusal.
 */
export function isRateLimitResponse(status: number, headers: HeaderSource | undefined): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  return (
    headerValue(headers, 'x-ratelimit-remaining') === '0' ||
    headerValue(headers, 'retry-after') !== null
  );
}

/** The code a status maps to when the adapter has no more specific reading of it. */
export function codeForStatus(status: number, headers?: HeaderSource): ErrorCode {
  if (status === 0 || status >= 500) return 'provider_unavailable';
  if (isRateLimitResponse(status, headers)) return 'rate_limited';
  if (status === 401) return 'auth_failed';
  if (status === 403) return 'insufficient_permissions';
  return 'provider_error';
}

const WHAT_HAPPENED: Partial<Record<ErrorCode, string>> = {
  auth_failed: 'refused the token',
  insufficient_permissions: 'answered that the token lacks a permission for this',
  owner_not_found: 'has no such owner',
  repo_name_taken: 'already has a repository with that name',
  rate_limited: 'rate limit was reached',
  provider_unavailable: 'did not answer',
  provider_error: 'answered with an error',
  remote_diverged: 'holds history the mirror does not have',
};

/**
 * Builds the normalized error for a provider's HTTP answer. The message is made only of the
 * context and fixed words; the provider's body, the request and its headers are never read into
 * it, and nothing of them is kept as a cause.
 */
export function providerHttpError(
  context: ProviderCallContext,
  status: number,
  headers?: HeaderSource,
  options: { code?: ErrorCode; detail?: string; now?: number } = {},
): GatewayError {
  const code = options.code ?? codeForStatus(status, headers);
  const retryAt =
    code === 'rate_limited' ? (retryAtFromHeaders(headers, options.now) ?? undefined) : undefined;
  const what = WHAT_HAPPENED[code] ?? 'answered with an error';
  const where = status === 0 ? 'no answer' : `HTTP ${status}`;
  const detail = options.detail ? ` ${options.detail}` : '';
  const message = scrubSecrets(
    `${context.provider} ${what} while ${context.action} (${where}).${detail}`,
  );
  return new GatewayError(code, message, { providerStatus: status, retryAt });
}

/**
 * Builds the normalized error for a call that got no answer: refused or reset connections,
 * DNS failures, timeouts. Only the system error code (e.g. `ECONNREFUSED`) is kept.
 */
export function providerNetworkError(context: ProviderCallContext, error: unknown): GatewayError {
  const reason = networkReason(error);
  const message = `${context.provider} did not answer while ${context.action} (${reason}).`;
  return new GatewayError('provider_unavailable', scrubSecrets(message), { providerStatus: 0 });
}

function networkReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth += 1) {
    const { name, code } = current as { name?: unknown; code?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
    if (typeof code === 'string' && /^[A-Z_]{3,40}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return 'connection failed';
}

// Token shapes the providers document, so that a secret the caller did not name is still caught:
// GitHub (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), GitLab (glpat-, gldt-, glrt-, ...), and
// long opaque runs that look like credentials after a keyword.
const TOKEN_PATTERNS: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bgl[a-z]{1,4}-[A-Za-z0-9_-]{16,}/g,
  /\b(authorization|private-token|job-token|x-api-key|cookie)[ \t]*[:=][ \t]*[^\s,;'"}]+([ \t]+[^\s,;'"}]+)?/gi,
  /\b(bearer|basic|token)[ \t]+[A-Za-z0-9._~+/=-]{12,}/gi,
];

const SECRET_QUERY = /([?&](?:access_token|private_token|token|key|signature|sig)=)[^&\s'"]+/gi;

/**
 * Removes secrets from text before it is stored, logged or shown: the given secrets, the
 * userinfo of any URL (`https://user:pass@host` becomes `https://***@host`), authorization-like
 * header values, token-bearing query parameters and known token shapes.
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  out = out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]+@/gi, '$1***@');
  out = out.replace(SECRET_QUERY, '$1***');
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, '***');
  return out;
}
