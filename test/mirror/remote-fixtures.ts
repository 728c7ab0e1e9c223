import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitRemote } from '../../adapters/providers/provider-port.js';
import type { GitServer } from '../support/git-server.js';
import { git } from './mirror-fixtures.js';

/** A token no real system would hold, to search for in everything the mirror leaves behind. */
export const CANARY_TOKEN = 'canary-TOKEN-7f3a9c51e2d84b06';

/** The remote of `acme/<name>` on the test server, with the canary as password. */
export function remoteOf(server: GitServer, name: string, password = CANARY_TOKEN): GitRemote {
  return { url: `${server.baseUrl}/acme/${name}.git`, username: 'git', password };
}

/**
 * Pushes a commit by someone else onto the remote's main, the way a person with a clone
 * would, and answers its SHA.
 */
export async function pushOutsideCommit(
  server: GitServer,
  name: string,
  file: string,
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'outside-'));
  try {
    const url = new URL(`${server.baseUrl}/acme/${name}.git`);
    url.username = 'someone';
    url.password = CANARY_TOKEN;
    await git(null, ['clone', '-q', url.toString(), work]);
    await writeFile(join(work, file), 'written by a person\n');
    await git(null, ['-C', work, 'add', file]);
    await git(null, [
      '-C',
      work,
      '-c',
      'user.name=Person',
      '-c',
      'user.email=p@example.com',
      'commit',
      '-qm',
      'hand edit',
    ]);
    await git(null, ['-C', work, 'push', '-q', 'origin', 'main']);
    return await git(null, ['-C', work, 'rev-parse', 'HEAD']);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
