/**
 * Reads the scopes a Gitea (1.19+) or Forgejo token lacks from a 403 answer, whose message
 * names them: "token does not have at least one of required scope(s): [write:user]". Gitea has
 * no header or endpoint that lists a token's scopes, so this refusal is the only place they
 * show.
 */
export function missingScopesFrom(body: Buffer, purpose: string): string[] {
  const message = readMessage(body);
  const listed = /required scope\(s\):\s*\[([^\]]*)\]/i.exec(message);
  if (!listed) {
    // A 403 without a scope list is a permission the account lacks, not a scope.
    return [`A permission Gitea did not name, ${purpose} (ask an administrator of the instance)`];
  }

  const scopes = listed[1]
    .split(/[\s,]+/)
    .map((scope) => scope.trim())
    .filter((scope) => /^(read|write):[a-z_]+$/.test(scope));
  if (scopes.length === 0) return [`A token scope Gitea did not name, ${purpose}`];
  return scopes.map((scope) => `Token scope ${scope}, ${purpose}`);
}

function readMessage(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : '';
  } catch {
    return '';
  }
}
