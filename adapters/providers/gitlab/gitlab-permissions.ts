/**
 * What a GitLab token lacks for the gateway's work, in words an admin can act on.
 *
 * Scopes (docs.gitlab.com, "Personal access token scopes"): `api` covers the REST API and git
 * over HTTPS, so it is all the gateway needs. `read_api` with `write_repository` can read the API
 * and push, but creating projects and setting topics are API writes that only `api` allows.
 *
 * Roles (docs.gitlab.com, "Permissions and roles"; a group's `project_creation_level`): creating
 * a project in a group needs the Maintainer role by default, Developer where the group allows
 * developers to, and nobody where it is set to `noone`. Group and project access tokens act as a
 * bot user whose role is the token's; a project token's bot belongs to one project only.
 */

/** The kind of token, told by its bot user's name (`group_<id>_bot…`, `project_<id>_bot…`). */
export type GitLabTokenKind = 'personal' | 'group' | 'project';

/** Tells the token kind from the account GET /user reports. */
export function gitLabTokenKind(user: { username: string; bot?: boolean }): GitLabTokenKind {
  if (/^group_\d+_bot/.test(user.username)) return 'group';
  if (/^project_\d+_bot/.test(user.username)) return 'project';
  return 'personal';
}

/** What the scopes leave out; null scopes mean GitLab did not say (older than 15.5). */
export function missingScopes(scopes: string[] | null): string[] {
  if (scopes === null) {
    return [
      'GitLab did not report the token scopes (GET /personal_access_tokens/self needs GitLab ' +
        '15.5 or later); the gateway needs the "api" scope.',
    ];
  }
  if (scopes.includes('api')) return [];

  const missing = [
    'Scope "api": needed to create projects and set topics (read_api and write_repository ' +
      'alone can only read and push).',
  ];
  if (!scopes.includes('write_repository')) {
    missing.push('Scope "write_repository" (or "api"): needed to push versions over HTTPS.');
  }
  return missing;
}

const ROLE_NAMES: Record<number, string> = {
  0: 'no role',
  5: 'Minimal Access',
  10: 'Guest',
  15: 'Planner',
  20: 'Reporter',
  30: 'Developer',
  40: 'Maintainer',
  50: 'Owner',
};

/** The role a group's `project_creation_level` asks for, as an access level. */
export function creationAccessLevel(level: string | undefined): number {
  if (level === 'developer') return 30;
  if (level === 'noone') return Number.POSITIVE_INFINITY;
  return 40;
}

/** What keeps the token's account from creating projects in `group`, if anything. */
export function missingGroupRole(input: {
  group: string;
  kind: GitLabTokenKind;
  accessLevel: number;
  projectCreationLevel: string | undefined;
}): string[] {
  if (input.kind === 'project') {
    return [
      `Project access tokens cannot create projects: use a group access token of ${input.group} ` +
        `or a personal access token of a member with the Maintainer role.`,
    ];
  }

  const needed = creationAccessLevel(input.projectCreationLevel);
  if (input.accessLevel >= needed) return [];
  if (needed === Number.POSITIVE_INFINITY) {
    return [
      `Group ${input.group} allows no one to create projects (project creation level "noone"); ` +
        `an Owner must change it.`,
    ];
  }
  const has = ROLE_NAMES[input.accessLevel] ?? `access level ${input.accessLevel}`;
  return [
    `Role in group ${input.group}: creating projects there needs ${ROLE_NAMES[needed]} or ` +
      `higher; the token's account has ${has}.`,
  ];
}
