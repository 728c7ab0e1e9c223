import { SignJWT } from 'jose';
import type { Role } from '../../core/model.js';

/** Default lifetimes: a working day for people, one build's worth for workers. */
export const USER_TOKEN_TTL_SECONDS = 12 * 3600;
export const WORKER_TOKEN_TTL_SECONDS = 3600;

export interface MintTokenOptions {
  secret: Uint8Array;
  workspaceId: string;
  role: Role | 'worker';
  /** Who the token stands for; defaults to the role's name. */
  sub?: string;
  /** Required for, and only for, worker tokens. */
  appId?: string;
  /** Lifetime; defaults by role (12 h for users, 1 h for workers). */
  ttlSeconds?: number;
  /** Epoch seconds the token is issued at; for tests. */
  issuedAt?: number;
}

/** Signs a gateway token (HS256) with the claims the gateway checks: sub, ws, role, exp[, app]. */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const isWorker = options.role === 'worker';
  if (isWorker && options.appId === undefined) throw new Error('a worker token needs an app id');
  if (!isWorker && options.appId !== undefined)
    throw new Error('only worker tokens carry an app id');

  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const ttl = options.ttlSeconds ?? (isWorker ? WORKER_TOKEN_TTL_SECONDS : USER_TOKEN_TTL_SECONDS);
  const claims: Record<string, string> = { ws: options.workspaceId, role: options.role };
  if (options.appId !== undefined) claims.app = options.appId;

  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? (isWorker ? `worker:${options.appId}` : options.role))
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(options.secret);
}

/** Parses a lifetime such as `90s`, `15m`, `12h` or `7d` (a bare number is seconds). */
export function parseTtl(text: string): number | null {
  const match = /^([1-9][0-9]{0,6})([smhd]?)$/.exec(text.trim());
  if (match === null) return null;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
