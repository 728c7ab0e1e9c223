import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The production entry point (gateway/main.ts) compiled for a child `node` process. */
export interface GatewayBuild {
  /** The compiled `main.js`. */
  mainJs: string;
  /** Removes the compiled files. */
  remove(): Promise<void>;
}

/**
 * Bundles gateway/main.ts with esbuild into a temporary folder. Packages stay outside the bundle
 * and load from the project's node_modules (linked into the folder), so native modules and
 * pino's workers behave as they do in production; the folder's package.json makes the bundle
 * an ES module and is where the gateway looks for its (absent) built UI.
 */
export async function buildGateway(): Promise<GatewayBuild> {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-build-'));
  try {
    await writeFile(join(dir, 'package.json'), '{"type":"module","private":true}\n');
    await symlink(join(projectRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const mainJs = join(dir, 'gateway', 'main.js');
    await mkdir(dirname(mainJs), { recursive: true });
    await build({
      entryPoints: [join(projectRoot, 'gateway', 'main.ts')],
      outfile: mainJs,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
    });
    return { mainJs, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface GatewayProcessOptions {
  build: GatewayBuild;
  dataDir: string;
  /** Variables on top of PORT=0, HOST, DATA_DIR and LOG_LEVEL=info; nothing is inherited but PATH. */
  env: Record<string, string>;
  /** How long to wait for the process to listen and answer /healthz. */
  startTimeoutMs?: number;
}

/** How a child gateway ended. */
export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A gateway running as its own process, in its own process group. */
export interface GatewayProcess {
  pid: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Settles when the process has ended. */
  exited: Promise<GatewayExit>;
  /** The last lines the process printed (its pino log), for failure messages. */
  logTail(lines?: number): string;
  /** SIGKILL to the gateway's process group, as a crash would end it; waits for the end. */
  kill9(): Promise<GatewayExit>;
  /** SIGTERM and a clean shutdown; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<GatewayExit>;
}

const running = new Set<number>();

/**
 * Starts `node <main.js>` with the given environment and waits until it logs its address and
 * answers /healthz. A start that fails rejects with the process's last log lines.
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [options.build.mainJs], {
    cwd: dirname(options.build.mainJs),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: options.dataDir,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    // Its own group, so that a kill takes whatever shares it. The git processes the gateway runs
    // are in groups of their own (the mirror's runner detaches them) and, as after a real crash,
    // end by themselves: on their input closing, or on the remote timeout.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the gateway process did not start');
  running.add(pid);

  const log: string[] = [];
  const exited = new Promise<GatewayExit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      running.delete(pid);
      // Anything left in the group of a gateway that died by its own hand ends with it.
      killGroup(pid);
      resolveExit({ code, signal });
    });
  });
  const listening = watchOutput(child, log);

  try {
    const url = await withTimeout(
      Promise.race([
        listening,
        exited.then((exit) => {
          throw new Error(`the gateway exited while starting (${describeExit(exit)})`);
        }),
      ]),
      options.startTimeoutMs ?? 20_000,
      'the gateway did not start listening',
    );
    await waitForHealth(url);

    const kill9 = async () => {
      killGroup(pid, 'SIGKILL');
      return exited;
    };
    return {
      pid,
      url,
      exited,
      logTail: (lines = 40) => log.slice(-lines).join('\n'),
      kill9,
      async stop(timeoutMs = 10_000) {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), timeoutMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      },
    };
  } catch (error) {
    killGroup(pid, 'SIGKILL');
    await exited;
    throw new Error(
      `${(error as Error).message}\n--- gateway log ---\n${log.slice(-40).join('\n')}`,
    );
  }
}

/** Kills, by process group, every gateway this module started that is still running. */
export function killAllGatewayProcesses(): void {
  for (const pid of running) killGroup(pid, 'SIGKILL');
}

/** A readable form of an exit, for assertion messages. */
export function describeExit(exit: GatewayExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: the group is gone already, which is what was wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function watchOutput(child: ChildProcess, log: string[]): Promise<string> {
  return new Promise((resolveUrl) => {
    const keep = (line: string) => {
      log.push(line);
      if (log.length > 400) log.splice(0, log.length - 400);
    };
    createInterface({ input: child.stderr! }).on('line', keep);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      const url = listeningUrl(line);
      if (url) resolveUrl(url);
    });
  });
}

function listeningUrl(line: string): string | null {
  if (!line.startsWith('{')) return null;
  try {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    return entry.msg?.startsWith('gateway listening on') && entry.url ? entry.url : null;
  } catch {
    // Not a log line of ours (a stray print): it cannot hold the address.
    return null;
  }
}

async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not answering yet; the loop tries again.
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  throw new Error(`${url}/healthz never answered 200`);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
