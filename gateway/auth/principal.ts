import type { Role } from '../../core/model.js';

/** A person (or the admin UI acting for one) signed in with a user token. */
export interface UserPrincipal {
  readonly kind: 'user';
  readonly sub: string;
  readonly workspaceId: string;
  readonly role: Role;
  /** Epoch seconds after which the token is no longer accepted (before the clock skew). */
  readonly exp: number;
}

/** A build worker, allowed to touch one app only. */
export interface WorkerPrincipal {
  readonly kind: 'worker';
  readonly sub: string;
  readonly workspaceId: string;
  readonly role: 'worker';
  readonly appId: string;
  readonly exp: number;
}

/** Whoever a verified token names. The workspace comes from here and nowhere else. */
export type Principal = UserPrincipal | WorkerPrincipal;

export const USER_ROLES: readonly Role[] = ['viewer', 'builder', 'admin', 'owner'];

const RANK: Readonly<Record<Role, number>> = { viewer: 0, builder: 1, admin: 2, owner: 3 };

/** True when `role` is `atLeast` or above it (owner > admin > builder > viewer). */
export function roleAtLeast(role: Role, atLeast: Role): boolean {
  return RANK[role] >= RANK[atLeast];
}

export function isUserRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}
