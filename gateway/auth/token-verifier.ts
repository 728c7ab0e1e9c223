import { errors as joseErrors, jwtVerify } from 'jose';
import { GatewayError } from '../../core/errors.js';
import { isSafeId } from '../../core/ids.js';
import { isUserRole, type Principal } from './principal.js';

/** Clock skew allowed on `exp` (and `nbf`, `iat` when present). */
export const CLOCK_SKEW_SECONDS = 60;

export interface TokenVerifierOptions {
  secret: Uint8Array;
  /** Verified tokens remembered at once; the cache is emptied when it fills. */
  cacheEntries?: number;
  /** The clock, in epoch milliseconds; for tests. */
  now?: () => number;
}

/** Turns a bearer token into a principal, or throws `unauthenticated`. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
  /** The principal of a token verified earlier and still inside its lifetime, else undefined. */
  cached(token: string): Principal | undefined;
}

interface CacheEntry {
  principal: Principal;
  /** Epoch ms after which the token must be verified again (and then refused). */
  until: number;
}

const MAX_TOKEN_LENGTH = 4096;
/** How long a verified token is trusted before its signature is checked again. */
const CACHE_TTL_MS = 5 * 60_000;
const SUB_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * A verifier of the gateway's HS256 tokens. Verification costs a MAC and a JSON parse, so a
 * verified token is remembered by its exact string for a few minutes, never past its `exp` (plus
 * the skew): the preview path answers thousands of requests a second with the same token. A
 * token cannot be revoked before its `exp` anyway, so remembering it changes nothing a caller
 * can observe.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const now = options.now ?? Date.now;
  const capacity = options.cacheEntries ?? 10_000;
  const cache = new Map<string, CacheEntry>();

  const cached = (token: string): Principal | undefined => {
    const entry = cache.get(token);
    if (entry === undefined) return undefined;
    if (now() <= entry.until) return entry.principal;
    cache.delete(token);
    return undefined;
  };

  const verify = async (token: string): Promise<Principal> => {
    const hit = cached(token);
    if (hit !== undefined) return hit;

    const principal = await verifyUncached(token, options.secret, now);

    if (cache.size >= capacity) cache.clear();
    const until = Math.min((principal.exp + CLOCK_SKEW_SECONDS) * 1000, now() + CACHE_TTL_MS);
    cache.set(token, { principal, until });
    return principal;
  };

  return { verify, cached };
}

function unauthenticated(reason: string, cause?: unknown): GatewayError {
  return new GatewayError('unauthenticated', `The token is not valid: ${reason}.`, { cause });
}

async function verifyUncached(
  token: string,
  secret: Uint8Array,
  now: () => number,
): Promise<Principal> {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw unauthenticated('malformed');

  let payload: Record<string, unknown>;
  try {
    const result = await jwtVerify(token, secret, {
      algorithms: ['HS256'],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(now()),
      requiredClaims: ['sub', 'ws', 'role', 'exp'],
    });
    payload = result.payload;
  } catch (cause) {
    if (cause instanceof joseErrors.JWTExpired) throw unauthenticated('expired', cause);
    if (cause instanceof joseErrors.JWTClaimValidationFailed) {
      throw unauthenticated(`claim ${cause.claim} is missing or wrong`, cause);
    }
    throw unauthenticated('bad signature or format', cause);
  }

  const { sub, ws, role, exp, app } = payload;
  if (typeof sub !== 'string' || !SUB_PATTERN.test(sub))
    throw unauthenticated('claim sub is not valid');
  if (!isSafeId(ws)) throw unauthenticated('claim ws is not a workspace id');
  if (typeof exp !== 'number') throw unauthenticated('claim exp is not a number');

  if (role === 'worker') {
    if (!isSafeId(app)) throw unauthenticated('a worker token needs an app claim');
    return Object.freeze({ kind: 'worker', sub, workspaceId: ws, role, appId: app, exp });
  }

  if (!isUserRole(role)) throw unauthenticated('claim role is not a known role');
  return Object.freeze({ kind: 'user', sub, workspaceId: ws, role, exp });
}
