import type { ProviderId } from './api-types.js';

/** How the settings page presents each provider. */
export interface ProviderText {
  label: string;
  /** The word for an owner that is not a user: organization, group, workspace, project. */
  orgWord: string;
  /** `required`: the host must be given; `optional`: only for a self-hosted install; `none`. */
  baseUrl: 'required' | 'optional' | 'none';
  selfHostedLabel?: string;
  baseUrlHint: string;
  baseUrlExample: string;
  tokenHint: string;
}

/** Labels and hints of each provider id. */
export const PROVIDERS: Record<ProviderId, ProviderText> = {
  github: {
    label: 'GitHub',
    orgWord: 'Organization',
    baseUrl: 'optional',
    selfHostedLabel: 'GitHub Enterprise Server (self-hosted)',
    baseUrlHint: 'The API root of your server, ending in /api/v3.',
    baseUrlExample: 'https://github.example.com/api/v3',
    tokenHint:
      'A fine-grained personal access token (recommended) or a classic token with the "repo" scope.',
  },
  gitlab: {
    label: 'GitLab',
    orgWord: 'Group',
    baseUrl: 'optional',
    selfHostedLabel: 'Self-managed GitLab',
    baseUrlHint: 'The address of your GitLab server.',
    baseUrlExample: 'https://gitlab.example.com',
    tokenHint:
      'A personal, group or project access token with the "api" and "write_repository" scopes.',
  },
  'bitbucket-cloud': {
    label: 'Bitbucket Cloud',
    orgWord: 'Workspace',
    baseUrl: 'none',
    baseUrlHint: '',
    baseUrlExample: '',
    tokenHint:
      'An API token or workspace access token that can read, write and administer repositories.',
  },
  'bitbucket-server': {
    label: 'Bitbucket Data Center',
    orgWord: 'Project',
    baseUrl: 'required',
    baseUrlHint: 'The address of your Bitbucket Data Center server.',
    baseUrlExample: 'https://bitbucket.example.com',
    tokenHint: 'An HTTP access token with repository admin permission on the project.',
  },
  gitea: {
    label: 'Gitea or Forgejo',
    orgWord: 'Organization',
    baseUrl: 'required',
    baseUrlHint: 'The address of your Gitea or Forgejo server.',
    baseUrlExample: 'https://gitea.example.com',
    tokenHint:
      'An access token with the "write:repository" and "write:organization" (or "write:user") scopes.',
  },
  git: {
    label: 'Plain git over HTTPS',
    orgWord: 'Organization (folder)',
    baseUrl: 'required',
    baseUrlHint:
      'The address every repository starts with: repositories are at <base URL>/<owner>/<repo>.git. Repositories must exist already; a plain git server has no API to create them.',
    baseUrlExample: 'https://git.example.com/repos',
    tokenHint: 'A password or token the git server accepts over HTTPS.',
  },
};

/** Where to grant what the gateway needs, per provider, shown beside missing permissions. */
export function grantAdvice(provider: ProviderId, owner: string): string[] {
  switch (provider) {
    case 'github':
      return [
        `Fine-grained token: set the resource owner to ${owner || 'the owner above'}, choose "All repositories", and grant the repository permissions Administration (read and write) and Contents (read and write); Metadata (read) is added by itself.`,
        'Classic token: tick the "repo" scope.',
      ];
    case 'gitlab':
      return [
        `Give the token the "api" and "write_repository" scopes, and a Maintainer role (or higher) in ${owner || 'the group'}.`,
      ];
    case 'bitbucket-cloud':
      return ['Give the token read, write and admin permission on repositories of the workspace.'];
    case 'bitbucket-server':
      return ['Give the token the "Repository admin" or "Project admin" permission.'];
    case 'gitea':
      return [
        'Give the token the "write:repository" scope, and "write:organization" for an organization owner.',
      ];
    case 'git':
      return ['Give the account write access to the repositories under the owner folder.'];
  }
}
