import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { newId } from '../../../core/ids.js';
import { SCHEMA_VERSION } from '../../../adapters/store/sqlite/sqlite-schema.js';
import { SQLITE_FILE_NAME, SqliteStore } from '../../../adapters/store/sqlite/sqlite-store.js';
import { UNFINISHED_JOBS_OF_WORKSPACE } from '../../../adapters/store/sqlite/sqlite-workspace.js';
import type { Store } from '../../../adapters/store/store-port.js';
import { describeStoreContract, type StoreHarness } from './store-contract.js';
import { appRecord, auditRecord, jobRecord, sha256Of, versionRecord } from './store-fixtures.js';

/** Fresh temporary data directories, each with its own database file. */
function sqliteHarness(): StoreHarness {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];

  return {
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'store-sqlite-'));
      dirs.push(dir);
      const store = SqliteStore.open({ dataDir: dir });
      stores.push(store);
      return store;
    },
    async storedChunkCount(store: Store, workspaceId: string, sha256: string) {
      const peek = new Database((store as SqliteStore).path, { readonly: true });
      try {
        return peek
          .prepare('SELECT count(*) FROM blob_chunks WHERE workspace_id = ? AND sha256 = ?')
          .pluck()
          .get(workspaceId, sha256) as number;
      } finally {
        peek.close();
      }
    },
    async dispose() {
      for (const store of stores) await store.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('SQLite', sqliteHarness());

describe('SQLite store file', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'store-sqlite-file-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('lives at <dataDir>/gateway.sqlite in WAL mode at the current schema version', async () => {
    const nested = join(dataDir, 'not', 'yet', 'there');
    const store = SqliteStore.open({ dataDir: nested });
    await store.close();

    const db = new Database(join(nested, SQLITE_FILE_NAME), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  test('every table has a workspace_id column that leads its primary key', () => {
    SqliteStore.open({ dataDir }).close();
    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      const tables = db
        .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
        .pluck()
        .all() as string[];
      expect(tables.sort()).toEqual(
        [
          'apps',
          'audit_events',
          'blob_chunks',
          'blobs',
          'builds',
          'leases',
          'secrets',
          'settings',
          'snapshots',
          'sync_jobs',
          'versions',
        ].sort(),
      );
      for (const table of tables) {
        const columns = db.pragma(`table_info(${table})`) as { name: string; pk: number }[];
        expect(columns.find((column) => column.pk === 1)?.name).toBe('workspace_id');
      }
    } finally {
      db.close();
    }
  });

  test('reopening keeps the data and applies no migration twice', async () => {
    const first = SqliteStore.open({ dataDir });
    const ws = first.workspace(newId());
    const app = appRecord(ws.workspaceId);
    await ws.createApp(app);
    await first.close();

    const second = SqliteStore.open({ dataDir });
    try {
      expect(await second.reader(ws.workspaceId).getApp(app.id)).toEqual(app);
    } finally {
      await second.close();
    }
  });

  test('a database of schema version 1 gains the index of unfinished jobs and keeps its jobs', async () => {
    const first = SqliteStore.open({ dataDir });
    const ws = first.workspace(newId());
    const app = appRecord(ws.workspaceId);
    await ws.createApp(app);
    const job = jobRecord(ws.workspaceId, app.id, { state: 'failed' });
    await ws.putJob(job);
    await first.close();

    // Version 1 is today's schema without that index: take the file back to it.
    const old = new Database(join(dataDir, SQLITE_FILE_NAME));
    old.exec('DROP INDEX sync_jobs_not_done');
    old.pragma('user_version = 1');
    old.close();

    const second = SqliteStore.open({ dataDir });
    try {
      expect(await second.reader(ws.workspaceId).unfinishedJobsOfWorkspace()).toEqual([job]);
    } finally {
      await second.close();
    }

    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const columns = db.pragma('index_info(sync_jobs_not_done)') as { name: string }[];
      expect(columns.map((column) => column.name)).toEqual(['workspace_id', 'state', 'created_at']);
    } finally {
      db.close();
    }
  });

  test("a workspace's unfinished jobs are read through their index, not every job it ever had", () => {
    SqliteStore.open({ dataDir }).close();
    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${UNFINISHED_JOBS_OF_WORKSPACE}`)
        .all(newId()) as { detail: string }[];
      expect(plan.map((step) => step.detail).join('\n')).toMatch(
        /SEARCH sync_jobs USING INDEX sync_jobs_not_done \(workspace_id=\? AND state=\?\)/,
      );
    } finally {
      db.close();
    }
  });

  test('a database written by a newer gateway is refused with a message that says so', async () => {
    SqliteStore.open({ dataDir }).close();
    const db = new Database(join(dataDir, SQLITE_FILE_NAME));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();

    expect(() => SqliteStore.open({ dataDir })).toThrow(/newer than this gateway knows/);
  });

  test('foreign keys tie builds, versions and jobs to their app, and are enforced', async () => {
    const store = SqliteStore.open({ dataDir });
    try {
      // No adapter code checks the app before this insert: the refusal comes from SQLite.
      const ws = store.workspace(newId());
      await expect(
        ws.insertVersion(versionRecord(ws.workspaceId, newId(), 1)),
      ).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await store.close();
    }

    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      for (const table of ['builds', 'versions', 'sync_jobs']) {
        const keys = db.pragma(`foreign_key_list(${table})`) as { table: string; from: string }[];
        expect(
          keys
            .filter((key) => key.table === 'apps')
            .map((key) => key.from)
            .sort(),
        ).toEqual(['app_id', 'workspace_id']);
      }
    } finally {
      db.close();
    }
  });

  test('two stores on one file see each other’s writes, and interleaved writes all land', async () => {
    const one = SqliteStore.open({ dataDir });
    const two = SqliteStore.open({ dataDir });
    try {
      const workspaceId = newId();
      const a = one.workspace(workspaceId);
      const b = two.workspace(workspaceId);
      const app = appRecord(workspaceId);
      await a.createApp(app);

      expect(await b.getApp(app.id)).toEqual(app);

      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i += 1) {
        const view = i % 2 === 0 ? a : b;
        writes.push(view.appendAudit(auditRecord(workspaceId, { action: `step-${i}` })));
        writes.push(view.patchApp(app.id, { sourceControl: { version: i } }));
        const blob = Buffer.from(`blob ${i}`);
        writes.push(view.putBlob(sha256Of(blob), blob));
      }
      await Promise.all(writes);

      expect(await a.listAudit({ limit: 1000 })).toHaveLength(200);
      expect(await b.listAudit({ limit: 1000 })).toHaveLength(200);
      expect((await b.getApp(app.id))?.sourceControl.version).toBe(199);

      // Only the holder of a lease may renew it, whichever process asks.
      expect(await a.acquireLease('sync', 'process-one', 60_000)).toBe(true);
      expect(await b.acquireLease('sync', 'process-two', 60_000)).toBe(false);
    } finally {
      await one.close();
      await two.close();
    }

    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });
});
