import type { IncomingHttpHeaders } from 'node:http';

/** The cookie holding the web session: the signed user token itself (httpOnly, never readable by scripts). */
export const SESSION_COOKIE = 'second_session';

/** Where a request's credential came from; cookie-borne credentials need the CSRF header. */
export type CredentialSource = 'bearer' | 'cookie';

export interface Credential {
  token: string;
  source: CredentialSource;
}

/**
 * The header a cookie-authenticated request that changes something must carry. Browsers send a
 * custom header cross-site only after a CORS preflight, which the gateway never grants, so a page
 * on another site cannot forge such a request with the user's cookie.
 */
export const CSRF_HEADER = 'x-second-request';

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;
const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The credential of a request: the bearer token when there is an Authorization header (a
 * malformed one counts as a bad credential, never as "none"), else the session cookie.
 * Tokens are never read from the URL.
 */
export function credentialOf(headers: IncomingHttpHeaders): Credential | null | 'malformed' {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization);
    return match === null ? 'malformed' : { token: match[1]!, source: 'bearer' };
  }

  const cookie = headers.cookie;
  if (cookie === undefined) return null;
  const token = sessionCookieValue(cookie);
  return token === null ? null : { token, source: 'cookie' };
}

/** The value of the session cookie in a Cookie header, or null. */
export function sessionCookieValue(cookieHeader: string): string | null {
  for (const pair of cookieHeader.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0) continue;
    if (pair.slice(0, equals).trim() !== SESSION_COOKIE) continue;
    const value = pair.slice(equals + 1).trim();
    return value === '' ? null : value;
  }
  return null;
}

/** True when a cookie-authenticated request must prove it came from the gateway's own pages. */
export function needsCsrfProof(method: string, source: CredentialSource): boolean {
  return source === 'cookie' && MUTATING_METHODS.has(method);
}

/** True when the request carries the header only same-origin scripts can add: `X-Second-Request: 1`. */
export function hasCsrfProof(headers: IncomingHttpHeaders): boolean {
  return headers[CSRF_HEADER] === '1';
}
