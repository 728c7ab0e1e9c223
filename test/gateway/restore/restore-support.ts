import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';

// Git run by the tests reads no config of the machine or the user.
const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Someone Else',
  GIT_AUTHOR_EMAIL: 'someone@example.test',
  GIT_COMMITTER_NAME: 'Someone Else',
  GIT_COMMITTER_EMAIL: 'someone@example.test',
};

/** Runs git with a clean environment (and extra variables) and answers its trimmed stdout. */
export function git(args: string[], env: Record<string, string> = {}, input?: Buffer): string {
  return execFileSync('git', args, { env: { ...GIT_ENV, ...env }, input })
    .toString('utf8')
    .trim();
}

/** The regular files of a tar, by path, as text; directories and global headers are left out. */
export async function untar(body: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => {
        if (entry.type === 'File') files.set(entry.path, Buffer.concat(chunks).toString('utf8'));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
    parser.end(body);
  });
  return files;
}

/**
 * Pushes a commit to a bare repository on disk as someone outside the gateway would: a clone,
 * the files changed, a commit on main, an annotated tag, a push.
 */
export async function pushAsOutsider(
  bareRepo: string,
  change: { write: Record<string, string>; tag: string },
): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'outsider-'));
  try {
    git(['clone', '--quiet', bareRepo, work]);
    for (const [path, content] of Object.entries(change.write)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    git(['-C', work, 'add', '-A']);
    git(['-C', work, 'commit', '--quiet', '-m', 'outside change']);
    git(['-C', work, 'tag', '-a', change.tag, '-m', change.tag]);
    git(['-C', work, 'push', '--quiet', 'origin', 'main', change.tag]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
