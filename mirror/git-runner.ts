import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { GatewayError } from '../core/errors.js';

/** What an observer sees of one git process: its argv and its env. */
export interface GitSpawnRecord {
  argv: string[];
  envKeys: string[];
  /**
   * The env values too, credentials included, so a test can prove a secret is only where it
   * belongs. For tests only: a record is never to be logged.
   */
  env: Record<string, string>;
}

export type GitSpawnObserver = (record: GitSpawnRecord) => void;

const observers = new Set<GitSpawnObserver>();

/** Calls `observer` for every git process the mirror starts (a test hook); answers its stop. */
export function observeGitSpawns(observer: GitSpawnObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

export interface GitCommand {
  /** The bare repository, passed as `--git-dir`; absent for commands that need none. */
  gitDir?: string;
  args: string[];
  /** Extra env for this one process (credentials reach git only this way). */
  env?: Record<string, string>;
  /** Allows `http://` for this process; only ever set for loopback remotes. */
  allowHttp?: boolean;
  /** Extra `-c name=value` pairs placed after the hardened ones. */
  config?: string[];
  timeoutMs: number;
}

// Every git process runs with these, so nothing on the machine (system or user config, hooks,
// an fsmonitor daemon, attributes files) changes what git does with a repository or a remote.
const HARDENED_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.attributesFile=/dev/null',
  'safe.bareRepository=explicit',
  'protocol.allow=never',
  'protocol.https.allow=always',
  'transfer.fsckObjects=true',
  'fetch.fsckObjects=true',
  'receive.fsckObjects=true',
  'gc.auto=0',
  'maintenance.auto=false',
  'credential.helper=',
  'core.askPass=',
  // A redirect would carry the credential header to whatever host it names.
  'http.followRedirects=false',
];

function buildArgv(command: GitCommand): string[] {
  const argv: string[] = [];
  if (command.gitDir) argv.push(`--git-dir=${command.gitDir}`);
  for (const pair of HARDENED_CONFIG) argv.push('-c', pair);
  if (command.allowHttp) argv.push('-c', 'protocol.http.allow=always');
  for (const pair of command.config ?? []) argv.push('-c', pair);
  argv.push(...command.args);
  return argv;
}

function buildEnv(command: GitCommand): Record<string, string> {
  // No inherited env: a stray GIT_DIR, GIT_INDEX_FILE, proxy or askpass variable of the parent
  // must not reach git. HOME points at the repository (or nowhere) so no dotfile is read.
  const home = command.gitDir ?? '/nonexistent';
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: home,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    ...command.env,
  };
}

/** A running git process with its streams and the promise of its end. */
export interface GitProcess {
  stdin: Writable;
  stdout: Readable;
  /** Settles when the process ends: its exit code and the tail of its stderr. */
  done: Promise<GitExit>;
  /** Ends the process and its children at once. */
  kill(): void;
}

export interface GitExit {
  code: number | null;
  stderr: string;
  timedOut: boolean;
}

const STDERR_CAP = 64 * 1024;

/** Starts one hardened git process in its own process group, killed when `timeoutMs` passes. */
export function spawnGit(command: GitCommand): GitProcess {
  const argv = buildArgv(command);
  const env = buildEnv(command);
  for (const observer of observers) observer({ argv, envKeys: Object.keys(env), env: { ...env } });

  const child: ChildProcess = spawn('git', argv, {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own group, so a timeout also ends the helpers git starts (remote-https, pack-objects).
    detached: true,
  });
  let timedOut = false;
  const kill = () => killGroup(child);
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, command.timeoutMs);

  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < STDERR_CAP) stderr += chunk.toString('utf8');
  });
  // A process that dies while we write to it must not crash the gateway with EPIPE.
  child.stdin!.on('error', () => undefined);

  const done = new Promise<GitExit>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new GatewayError('internal', 'git could not be started.', { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: stderr.slice(0, STDERR_CAP), timedOut });
    });
  });

  return { stdin: child.stdin!, stdout: child.stdout!, done, kill };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone; the process itself may still need the signal.
    child.kill('SIGKILL');
  }
}

export interface GitResult extends GitExit {
  stdout: Buffer;
}

/** Runs one hardened git process to its end, feeding `input` and collecting stdout. */
export async function runGit(
  command: GitCommand & { input?: string | Buffer },
): Promise<GitResult> {
  const proc = spawnGit(command);
  const chunks: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  proc.stdin.end(command.input ?? '');
  const exit = await proc.done;
  return { ...exit, stdout: Buffer.concat(chunks) };
}
