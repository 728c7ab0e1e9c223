import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

// The baselines run git as a person would, but with no machine or user config, so the numbers
// do not depend on whoever runs the benchmark.
const BASELINE_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};

/** Runs a baseline command to its end; `feed` writes its stdin; stdout is counted, not kept. */
export function runBaseline(
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    feed?: (stdin: NodeJS.WritableStream) => Promise<void>;
  } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...BASELINE_ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(bytes)
        : reject(new Error(`${command} ${args[0]} failed: ${stderr.trim()}`)),
    );
    if (options.feed) options.feed(child.stdin).then(() => child.stdin.end(), reject);
    else child.stdin.end();
  });
}

/** Reads a stream to its end and answers how many bytes passed. */
export function drain(stream: Readable): Promise<number> {
  // 'data' events, as the baselines are read, so both sides pay the same per-chunk cost.
  return new Promise((resolve, reject) => {
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.on('error', reject);
    stream.on('end', () => resolve(bytes));
  });
}

/**
 * Writes every dirty page of the machine to disk (`sync`), outside any timing. Each measured
 * write starts on an idle disk, instead of paying for the writeback of the run before it, which
 * made the file-heavy baseline swing by 2 to 3 times between runs.
 */
export async function settleDisk(): Promise<void> {
  await runBaseline('sync', []);
}
