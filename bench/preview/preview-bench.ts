import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { mintToken } from '../../gateway/auth/mint-token.js';
import { benchRow, type BenchRow } from '../mirror/bench-row.js';
import { previewAppFiles, writePreviewApp } from './preview-app.js';

export interface PreviewBenchOptions {
  /** Shorter runs (3 s instead of 10 s, one round instead of two) for a quick look. */
  quick?: boolean;
  /** Progress lines; standard error by default. */
  log?: (line: string) => void;
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
}

const CONNECTIONS = 200;
const here = dirname(fileURLToPath(import.meta.url));

/**
 * preview.rps and preview.p99_ms: the gateway serving a built app's `dist/` from its store,
 * against express.static serving the same files from disk. Each server runs in a process of its
 * own on 127.0.0.1; autocannon drives 200 connections over all 50 files in turn, the servers
 * taking turns, each round the same duration.
 */
export async function runPreviewBench(options: PreviewBenchOptions = {}): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const duration = options.quick ? 3 : 10;
  const rounds = options.quick ? 1 : 2;
  const root = await mkdtemp(join(tmpdir(), 'bench-preview-'));
  const children: ChildProcess[] = [];

  try {
    const { distDir, tar } = await writePreviewApp(join(root, 'app'));
    const secret = randomBytes(32).toString('hex');

    const gateway = await startChild(
      join(here, '../../gateway/main.js'),
      [],
      {
        DATA_DIR: join(root, 'data'),
        PORT: '0',
        HOST: '127.0.0.1',
        GATEWAY_JWT_SECRET: secret,
        LOG_LEVEL: 'info',
      },
      gatewayUrlOf,
    );
    children.push(gateway.child);
    const baseline = await startChild(join(here, 'static-server.js'), [distDir], {}, staticUrlOf);
    children.push(baseline.child);

    const appId = await publishApp(gateway.url, new TextEncoder().encode(secret), tar);
    const token = await mintToken({
      secret: new TextEncoder().encode(secret),
      workspaceId: 'bench',
      role: 'viewer',
    });
    const headers = { authorization: `Bearer ${token}` };

    const paths = previewAppFiles().map((file) => file.path.replace(/index\.html$/, ''));
    const targets = {
      gateway: { url: gateway.url, prefix: `/preview/${appId}/`, pid: gateway.child.pid },
      'express.static': { url: baseline.url, prefix: '/', pid: baseline.child.pid },
    };

    const load = (name: keyof typeof targets, seconds: number) =>
      autocannon({
        url: targets[name].url,
        connections: CONNECTIONS,
        duration: seconds,
        headers,
        requests: paths.map((path) => ({ method: 'GET', path: `${targets[name].prefix}${path}` })),
      });

    log(`preview: warming up both servers (${CONNECTIONS} connections)`);
    await load('express.static', options.quick ? 1 : 2);
    await load('gateway', options.quick ? 1 : 2);

    const results: Record<keyof typeof targets, Measured[]> = { gateway: [], 'express.static': [] };
    for (let round = 0; round < rounds; round += 1) {
      const order: (keyof typeof targets)[] =
        round % 2 === 0 ? ['express.static', 'gateway'] : ['gateway', 'express.static'];
      for (const name of order) {
        const cpuBefore = cpuMillis(targets[name].pid);
        const result = await load(name, duration);
        const cpuUsed = cpuMillis(targets[name].pid) - cpuBefore;
        if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
          throw new Error(
            `${name} answered ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
          );
        }
        results[name].push({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
        });
        // Server CPU per request says how much work each does, whatever else the machine runs.
        const perRequest = Number.isNaN(cpuUsed)
          ? ''
          : `, ${Math.round((cpuUsed * 1000) / result.requests.total)} µs CPU/request`;
        log(
          `preview: round ${round + 1} ${name}: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms${perRequest}`,
        );
      }
    }

    const ours = average(results.gateway);
    const theirs = average(results['express.static']);
    return [
      benchRow('preview.rps', ours.rps, 'req/s', 'express.static', theirs.rps),
      benchRow('preview.p99_ms', ours.p99, 'ms', 'express.static', theirs.p99),
      {
        ...benchRow('preview.p50_ms', ours.p50, 'ms', 'express.static', theirs.p50),
        humanOnly: true,
      },
    ];
  } finally {
    for (const child of children) await stopChild(child);
    await rm(root, { recursive: true, force: true });
  }
}

/** CPU time (user + system) a process used so far, in ms; NaN where /proc cannot tell. */
function cpuMillis(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // Linux reports clock ticks of 10 ms (USER_HZ 100) on every common configuration.
    return ticks * 10;
  } catch {
    return Number.NaN;
  }
}

function average(measures: Measured[]): Measured {
  const mean = (pick: (m: Measured) => number) =>
    measures.reduce((total, m) => total + pick(m), 0) / measures.length;
  return { rps: mean((m) => m.rps), p50: mean((m) => m.p50), p99: mean((m) => m.p99) };
}

/** The URL in the gateway's "listening" log line. */
function gatewayUrlOf(line: string): string | null {
  if (!line.startsWith('{')) return null;
  const entry = JSON.parse(line) as { url?: string; msg?: string };
  return entry.msg?.startsWith('gateway listening') && entry.url ? entry.url : null;
}

function staticUrlOf(line: string): string | null {
  const match = /^listening (\d+)$/.exec(line);
  return match ? `http://127.0.0.1:${match[1]}` : null;
}

/** Starts a Node script and waits for the line that gives its URL. */
async function startChild(
  script: string,
  args: string[],
  env: Record<string, string>,
  urlOf: (line: string) => string | null,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 20 s`)), 20_000);
    child.once('exit', (code) =>
      reject(new Error(`${script} exited with ${code} before listening`)),
    );
    lines.on('line', (line) => {
      const found = urlOf(line);
      if (found === null) return;
      clearTimeout(timer);
      resolve(found);
    });
  });
  // Keep draining its output so a chatty child never blocks on a full pipe.
  child.stdout!.resume();
  return { child, url };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Creates the benchmark app through the API and uploads its build as a worker would. */
async function publishApp(url: string, secret: Uint8Array, tar: Buffer): Promise<string> {
  const owner = await mintToken({ secret, workspaceId: 'bench', role: 'owner' });
  const created = await fetch(`${url}/api/v1/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Preview benchmark' }),
  });
  if (created.status !== 201) throw new Error(`creating the app answered ${created.status}`);
  const appId = ((await created.json()) as { app: { id: string } }).app.id;

  const worker = await mintToken({ secret, workspaceId: 'bench', role: 'worker', appId });
  const form = new FormData();
  form.append('summary', 'benchmark build');
  form.append('snapshot', new Blob([new Uint8Array(tar)]), 'snapshot.tar');
  const built = await fetch(`${url}/internal/v1/apps/${appId}/builds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${worker}` },
    body: form,
  });
  if (built.status !== 201)
    throw new Error(`uploading the build answered ${built.status}: ${await built.text()}`);
  return appId;
}
