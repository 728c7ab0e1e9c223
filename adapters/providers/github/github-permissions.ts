/**
 * What a GitHub token lacks for the gateway's work (create repositories, push, set topics), in
 * words an admin can act on.
 *
 * Classic tokens list their scopes in the `X-OAuth-Scopes` header of every answer; `repo`
 * covers private repositories, `public_repo` only public ones. Fine-grained tokens send no such
 * header, and GitHub has no endpoint that lists a fine-grained token's permissions (the
 * `X-Accepted-GitHub-Permissions` header names what an endpoint needs, not what the token has;
 * docs.github.com, "Permissions required for fine-grained personal access tokens"). The
 * gateway then says what it needs and that the first repository creation will prove it, rather
 * than claim a check it cannot make.
 */
export function missingGitHubPermissions(input: {
  /** The `X-OAuth-Scopes` header of GET /user; null when absent (a fine-grained token). */
  scopesHeader: string | null;
  owner: string;
}): string[] {
  if (input.scopesHeader === null) {
    return [
      `Fine-grained token: GitHub does not show which permissions it holds. The gateway needs ` +
        `repository permissions Administration (read and write), Contents (read and write) and ` +
        `Metadata (read) on all repositories of ${input.owner}; the first repository it creates ` +
        `confirms them.`,
    ];
  }

  const scopes = new Set(
    input.scopesHeader
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  if (scopes.has('repo')) return [];
  if (scopes.has('public_repo')) {
    return [
      'Classic token scope "repo": the token has only "public_repo", so it cannot create, push ' +
        'to or set topics on private repositories.',
    ];
  }
  return [
    'Classic token scope "repo" (full control of private repositories): needed to create ' +
      'repositories, push versions and set topics.',
  ];
}
