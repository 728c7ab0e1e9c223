import type { Role, SessionView } from './api-types.js';

const RANK: Record<Role, number> = { viewer: 0, builder: 1, admin: 2, owner: 3 };

/** True when the signed-in person's role is `role` or above (owner > admin > builder > viewer). */
export function can(session: SessionView, role: Role): boolean {
  return RANK[session.role] >= RANK[role];
}

/** Role names as the pages show them. */
export const ROLE_NAMES: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  builder: 'Builder',
  viewer: 'Viewer',
};
