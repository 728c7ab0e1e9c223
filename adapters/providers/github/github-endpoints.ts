/** The two hosts of a GitHub installation: the REST API root and the web (and git) host. */
export interface GitHubEndpoints {
  /** e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`, no trailing slash. */
  api: string;
  /** e.g. `https://github.com` or `https://ghe.example.com`, no trailing slash. */
  web: string;
}

/** github.com's hosts, used when the connection has no `baseUrl`. */
export const GITHUB_DOT_COM: GitHubEndpoints = {
  api: 'https://api.github.com',
  web: 'https://github.com',
};

/**
 * The hosts for a connection's `baseUrl` (DESIGN §7: unset for github.com, the API root
 * `https://host/api/v3` for Enterprise Server). A bare Enterprise host is accepted too, since
 * admins type it often, and an `api.` host (GHE.com) maps to its web host without the prefix.
 */
export function resolveGitHubEndpoints(
  baseUrl: string | null,
  dotCom: GitHubEndpoints = GITHUB_DOT_COM,
): GitHubEndpoints {
  if (!baseUrl) return dotCom;

  const trimmed = baseUrl.replace(/\/+$/, '');
  if (/\/api\/v3$/i.test(trimmed)) {
    return { api: trimmed, web: trimmed.replace(/\/api\/v3$/i, '') };
  }

  const url = new URL(trimmed);
  if (url.hostname.startsWith('api.') && url.pathname === '/') {
    return { api: trimmed, web: `${url.protocol}//${url.host.slice('api.'.length)}` };
  }
  return { api: `${trimmed}/api/v3`, web: trimmed };
}
