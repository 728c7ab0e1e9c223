import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../adapters/store/store-port.js';
import { scrubSecrets } from './log-scrubber.js';

export type CheckName = 'store' | 'dataDir' | 'git';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<CheckName, { ok: boolean; error?: string }>;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
}

export interface ReadinessOptions {
  store: Store;
  dataDir: string;
  /** How long a `git --version` outcome is trusted (default 60 s); git rarely comes or goes. */
  gitCheckTtlMs?: number;
  /** The git executable; for tests. */
  gitBinary?: string;
  now?: () => number;
}

const CHECK_TIMEOUT_MS = 5000;

/**
 * The readiness checks: the store answers a ping, DATA_DIR takes a write (mirrors, staging and
 * key files live there), and git runs. Each failure is reported by name with a short reason,
 * never a stack.
 */
export function createReadiness(options: ReadinessOptions): Readiness {
  const now = options.now ?? Date.now;
  const gitTtl = options.gitCheckTtlMs ?? 60_000;
  const gitBinary = options.gitBinary ?? 'git';
  let gitOutcome: { at: number; result: Promise<string | null> } | null = null;

  const gitCheck = (): Promise<string | null> => {
    if (gitOutcome === null || now() - gitOutcome.at > gitTtl) {
      gitOutcome = { at: now(), result: runGitVersion(gitBinary) };
    }
    return gitOutcome.result;
  };

  return {
    async check() {
      const [store, dataDir, git] = await Promise.all([
        withTimeout(
          options.store.ping().then(() => null),
          'store ping',
        ),
        withTimeout(probeWrite(options.dataDir), 'data dir write'),
        gitCheck(),
      ]);
      const checks = { store: outcome(store), dataDir: outcome(dataDir), git: outcome(git) };
      return { ready: store === null && dataDir === null && git === null, checks };
    },
  };
}

function outcome(error: string | null): { ok: boolean; error?: string } {
  return error === null ? { ok: true } : { ok: false, error };
}

async function withTimeout(work: Promise<string | null>, what: string): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`${what} did not finish in ${CHECK_TIMEOUT_MS} ms`),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work.catch((error: unknown) => reasonOf(error)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeWrite(dataDir: string): Promise<string | null> {
  const probe = join(dataDir, `.ready-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, 'ok', { mode: 0o600 });
  } catch (error) {
    return `cannot write in the data dir: ${reasonOf(error)}`;
  }
  await rm(probe, { force: true });
  return null;
}

function runGitVersion(gitBinary: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(gitBinary, ['--version'], { timeout: CHECK_TIMEOUT_MS }, (error, stdout) => {
      if (error) resolve(`git --version failed: ${reasonOf(error)}`);
      else if (!stdout.startsWith('git version'))
        resolve('git --version printed something unexpected');
      else resolve(null);
    });
  });
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  // The report is public: a driver's message may quote a connection string.
  const text = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  return scrubSecrets(text).slice(0, 200);
}
