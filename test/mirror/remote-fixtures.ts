import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitRemote } from '../../adapters/providers/provider-port.js';
import { openMirror, type AppMirror } from '../../mirror/index.js';
import { startGitServer, type GitServer } from '../support/git-server.js';
import { git, tempDir } from './mirror-fixtures.js';

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

/** A fresh app mirror with `acme/console` on a real git server that takes only the canary. */
export interface MirrorWithRemote {
  server: GitServer;
  /** The bare repository behind `acme/console` on the server. */
  remotePath: string;
  /** The data folder the mirror lives in. */
  dataDir: string;
  mirror: AppMirror;
  close(): Promise<void>;
}

/** Starts the git server, creates `acme/console`, and opens the mirror of `ws1/app1`. */
export async function openMirrorWithRemote(prefix: string): Promise<MirrorWithRemote> {
  const server = await startGitServer({ checkAuth: (_user, pass) => pass === CANARY_TOKEN });
  const remotePath = await server.createRepo('acme', 'console');
  const dir = await tempDir(prefix);
  const mirror = openMirror({ dataDir: dir.path, workspaceId: 'ws1', appId: 'app1' });
  const close = async () => {
    await server.close();
    await dir.remove();
  };
  return { server, remotePath, dataDir: dir.path, mirror, close };
}
