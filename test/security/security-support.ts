import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { createLogger } from '../../gateway/logger.js';
import type { DoubleRequest } from '../doubles/provider-double.js';
import type { GitServerRequest } from '../support/git-server.js';

/**
 * Every path under `root`, relative and sorted, folders marked with a trailing `/`. With
 * `stats`, files carry their size and modification time, to see that nothing was rewritten.
 * A root that does not exist answers an empty list.
 */
export async function treeOf(root: string, options: { stats?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const name = relative(root, full);
      if (entry.isDirectory()) {
        out.push(`${name}/`);
        await walk(full);
        continue;
      }
      if (!options.stats) {
        out.push(name);
        continue;
      }
      const info = await stat(full);
      out.push(`${name} ${info.size} ${info.mtimeMs}`);
    }
  };
  await walk(root);
  return out.sort();
}

/**
 * The paths of DATA_DIR that are not the store's own files: SQLite keeps its journal files
 * beside the database and may create or drop them at any read, so they say nothing about a
 * request's side effects (the store's write counter does).
 */
export async function dataDirPaths(dataDir: string): Promise<string[]> {
  return (await treeOf(dataDir)).filter(
    (path) => !/^gateway\.sqlite(-wal|-shm|-journal)?$/.test(path),
  );
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The requests of a provider double that change something: REST calls with a mutating method,
 * and git pushes (`git-receive-pack`). A fetch is a POST to `git-upload-pack`, which reads.
 */
export function providerMutations(requests: readonly DoubleRequest[]): DoubleRequest[] {
  return requests.filter((request) => {
    if (request.kind === 'git') return request.path.includes('receive-pack');
    return MUTATING.has(request.method);
  });
}

/** The pushes a plain git server received (both the advertisement and the pack). */
export function gitPushes(requests: readonly GitServerRequest[]): GitServerRequest[] {
  return requests.filter((request) => request.path.includes('receive-pack'));
}

/** A pino logger at trace level whose lines are kept in memory, for leak searches. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'trace',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  return { logger, lines };
}

/**
 * A search for a secret in text as it is, URL-encoded, and inside any base64 run (the Basic
 * credential git sends is base64 of `user:secret`, whichever user name the adapter picked).
 * Answers the form found, or null.
 */
export function leakFinder(secret: string): (text: string) => string | null {
  const plain = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
  return (text) => {
    const direct = plain.find((form) => text.includes(form));
    if (direct !== undefined) return direct;

    for (const run of text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []) {
      // A run may start anywhere inside the base64 of `user:secret`; try every alignment.
      for (let shift = 0; shift < 4; shift += 1) {
        const decoded = Buffer.from(run.slice(shift), 'base64').toString('latin1');
        if (decoded.includes(secret)) return `base64 ${run}`;
      }
    }
    return null;
  };
}

/** Every row of every SQLite table but `secrets`, as text by table, read from the file. */
export function storedRowsOutsideSecrets(dataDir: string): Record<string, string> {
  const db = new Database(join(dataDir, 'gateway.sqlite'), { readonly: true });
  try {
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    )
      .map((table) => table.name)
      .filter((name) => name !== 'secrets');
    const rows: Record<string, string> = {};
    for (const table of tables) {
      rows[table] = JSON.stringify(db.prepare(`SELECT * FROM "${table}"`).all(), (_key, value) =>
        Buffer.isBuffer(value) ? value.toString('latin1') : (value as unknown),
      );
    }
    return rows;
  } finally {
    db.close();
  }
}

/** Reads an event stream until `done` says so or `ms` passes, then cancels it; answers the text. */
export async function readEventStream(
  response: Response,
  done: (text: string) => boolean,
  ms: number,
): Promise<string> {
  const reader = response.body!.getReader();
  let text = '';
  const reading = (async () => {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      text += Buffer.from(next.value).toString('utf8');
      if (done(text)) return;
    }
  })();
  await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, ms))]);
  await reader.cancel().catch(() => undefined);
  return text;
}

/** The error code of an error answer, or null when the body is not one. */
export async function errorCodeOf(response: Response): Promise<string | null> {
  const text = await response.text();
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    return null;
  }
}

/**
 * Where the hostile corpus's names would land if the gateway ever took an entry name as a path:
 * the absolute targets, and the relative ones resolved from every folder the gateway writes in
 * or runs from. Answers each with its content hash, or `absent`.
 */
export async function escapeTargets(dataDir: string): Promise<Record<string, string>> {
  const bases = [dataDir, join(dataDir, 'tmp'), join(dataDir, 'tmp', 'build'), process.cwd()];
  const relativeNames = ['../escape.txt', '../../escape.txt', '../../evil', '../../etc/passwd'];
  const paths = [
    '/etc/passwd',
    '/etc/cron.d/evil',
    '/tmp/evil.js',
    '/tmp/evil',
    ...bases.flatMap((base) => relativeNames.map((name) => resolve(base, name))),
  ];
  const seen: Record<string, string> = {};
  for (const path of paths) {
    const content = await readFile(path).catch(() => null);
    seen[path] = content === null ? 'absent' : createHash('sha256').update(content).digest('hex');
  }
  return seen;
}
