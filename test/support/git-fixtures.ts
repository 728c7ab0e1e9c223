import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Parser } from 'tar';

const run = promisify(execFile);

/**
 * Makes `dir` a new git repository with one commit on `main` holding an empty manifest, with a
 * fixed identity and no config of the machine; answers the commit.
 */
export async function commitIn(dir: string): Promise<string> {
  const env = {
    ...process.env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.test',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.test',
  };
  await run('git', ['init', '-q', '-b', 'main', dir], { env });
  await writeFile(join(dir, 'second-app.json'), '{}');
  await run('git', ['add', '.'], { cwd: dir, env });
  await run('git', ['commit', '-q', '-m', 'v1'], { cwd: dir, env });
  return (await run('git', ['rev-parse', 'HEAD'], { cwd: dir, env })).stdout.trim();
}

/** The paths of every entry of a tar (or tar.gz) stream or buffer, git's pax header left out. */
export function tarEntries(
  input: Readable | Buffer,
  options: { filesOnly?: boolean } = {},
): Promise<string[]> {
  const stream = Buffer.isBuffer(input) ? Readable.from(input) : input;
  return new Promise((resolve, reject) => {
    const paths: string[] = [];
    const parser = new Parser({
      onReadEntry: (entry) => {
        const wanted = options.filesOnly
          ? entry.type === 'File'
          : entry.type !== 'GlobalExtendedHeader';
        if (wanted) paths.push(entry.path);
        entry.resume();
      },
    });
    parser.on('end', () => resolve(paths));
    parser.on('error', reject);
    stream.on('error', reject);
    stream.pipe(parser);
  });
}
