import type { GitRemote } from '../adapters/providers/provider-port.js';
import { remoteGitError } from './git-failure.js';
import { runGit } from './git-runner.js';
import { remoteAccess } from './remote-access.js';

/** The refs a remote advertises: ref name → object, and tag name → peeled commit. */
export interface RemoteRefs {
  refs: Map<string, string>;
  /** For annotated tags, the commit they point at (`refs/tags/x^{}`). */
  peeled: Map<string, string>;
  /** The commit of `refs/heads/main`, or null when the remote has none. */
  main: string | null;
}

/** Lists a remote's refs with one hardened `git ls-remote`; no repository is needed. */
export async function lsRemote(remote: GitRemote, timeoutMs: number): Promise<RemoteRefs> {
  const access = remoteAccess(remote, timeoutMs);
  const exit = await runGit({
    args: ['ls-remote', '--', access.url],
    env: access.env,
    allowHttp: access.allowHttp,
    timeoutMs,
  });
  if (exit.code !== 0) throw remoteGitError('listing the remote refs', exit, access.secrets);

  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of exit.stdout.toString('utf8').split('\n')) {
    const match = /^([0-9a-f]{40})\t(\S+)$/.exec(line);
    if (!match) continue;
    const [, sha, name] = match;
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), sha);
    else refs.set(name, sha);
  }
  return { refs, peeled, main: refs.get('refs/heads/main') ?? null };
}
