import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { newId } from '../../../core/ids.js';
import { SQLITE_FILE_NAME, SqliteStore } from '../../../adapters/store/sqlite/sqlite-store.js';
import { auditRecord, sha256Of } from './store-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '../../..');

/** A child gateway process talking the line protocol of sqlite-child-writer.ts. */
class ChildWriter {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly pending: string[] = [];
  private waiting: ((line: string) => void) | null = null;

  constructor(script: string, dataDir: string, workspaceId: string) {
    this.child = spawn(process.execPath, [script, dataDir, workspaceId], {
      env: { ...process.env, NODE_PATH: join(projectRoot, 'node_modules') },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.lines = createInterface({ input: this.child.stdout! });
    this.lines.on('line', (line) => {
      if (this.waiting === null) this.pending.push(line);
      else {
        const deliver = this.waiting;
        this.waiting = null;
        deliver(line);
      }
    });
  }

  /** The next line the child prints. */
  next(): Promise<string> {
    const line = this.pending.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolveLine, reject) => {
      this.waiting = resolveLine;
      this.child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
  }

  async ask(command: string): Promise<string> {
    this.child.stdin!.write(`${command}\n`);
    return this.next();
  }

  /** Sends a command without waiting for its answer. */
  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  async exit(): Promise<number | null> {
    const exited = new Promise<number | null>((resolveExit) =>
      this.child.once('exit', resolveExit),
    );
    this.child.stdin!.write('exit\n');
    return exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

describe('SQLite store shared with a child process', () => {
  let workDir: string;
  let script: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'store-sqlite-child-'));
    script = join(workDir, 'child-writer.cjs');
    // Node 20 cannot run TypeScript, so the child's source is bundled; native and logging
    // packages stay outside and load from the project's node_modules.
    await build({
      entryPoints: [join(here, 'sqlite-child-writer.ts')],
      outfile: script,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['better-sqlite3', 'pino'],
      logLevel: 'error',
    });
  });

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  test('each process sees the other’s commits, and concurrent writes leave a sound file', async () => {
    const dataDir = join(workDir, 'data');
    const workspaceId = newId();
    const parent = SqliteStore.open({ dataDir });
    const ws = parent.workspace(workspaceId);
    const child = new ChildWriter(script, dataDir, workspaceId);
    let parentWrites = 0;

    try {
      expect(await child.next()).toBe('ready');

      // Step by step: a commit of one process is visible to the other's next read.
      expect(await child.ask('write 25 child-step')).toBe('wrote 25');
      const seen = await ws.listAudit({ limit: 1000 });
      expect(seen.filter((event) => event.action === 'child-step')).toHaveLength(25);

      for (let i = 0; i < 10; i += 1) {
        await ws.appendAudit(auditRecord(workspaceId, { action: 'parent-step' }));
      }
      expect(await child.ask('count parent-step')).toBe('count 10');

      // Free running: the child writes while the parent reads and writes.
      child.send('write 300 child-burst');
      const observed: number[] = [];
      const answer = child.next();
      let done = false;
      void answer.then(() => {
        done = true;
      });
      while (!done) {
        const events = await ws.listAudit({ limit: 1000 });
        observed.push(events.filter((event) => event.action === 'child-burst').length);
        await ws.appendAudit(auditRecord(workspaceId, { action: 'parent-burst' }));
        const blob = Buffer.from(`parent ${parentWrites}`);
        await ws.putBlob(sha256Of(blob), blob);
        parentWrites += 1;
        await new Promise((resolveTick) => setImmediate(resolveTick));
      }
      expect(await answer).toBe('wrote 300');

      // What the parent saw only ever grew: it never read a half-written state back.
      expect(observed).toEqual([...observed].sort((x, y) => x - y));
      const events = await ws.listAudit({ limit: 10_000 });
      expect(events.filter((event) => event.action === 'child-burst')).toHaveLength(300);
      expect(events.filter((event) => event.action === 'parent-burst')).toHaveLength(parentWrites);
      expect(await child.ask('count parent-burst')).toBe(`count ${parentWrites}`);

      expect(await child.exit()).toBe(0);
    } finally {
      child.kill();
      await parent.close();
    }

    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const blobs = db
        .prepare('SELECT count(*) FROM blobs WHERE workspace_id = ?')
        .pluck()
        .get(workspaceId);
      expect(blobs).toBe(25 + 300 + parentWrites);
    } finally {
      db.close();
    }
  });
});
