import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import type { SyncJobRecord } from '../../../core/model.js';
import { listLimit } from '../list-limits.js';
import { readerView } from '../reader-view.js';
import type { Store, WorkspaceReader, WorkspaceStore } from '../store-port.js';
import { assertWorkspaceId, GuardedWorkspace } from '../workspace-guard.js';
import { SqliteConnection } from './sqlite-connection.js';
import { jobFromRow, type JobRow } from './sqlite-rows.js';
import { migrate, SCHEMA_VERSION } from './sqlite-schema.js';
import { SqliteWorkspace } from './sqlite-workspace.js';

/** The database file's name inside the data directory. */
export const SQLITE_FILE_NAME = 'gateway.sqlite';

/**
 * How long a statement waits for another connection's write lock before it fails with
 * SQLITE_BUSY. Writes here are short (the longest is one 4 MiB chunk after another of a large
 * blob), so two gateway processes on one file queue behind each other instead of failing.
 */
const BUSY_TIMEOUT_MS = 10_000;

/** The write-ahead log is truncated back to this size after a checkpoint (a 100 MiB blob grows it). */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Where the SQLite store keeps its file. */
export interface SqliteStoreOptions {
  /** The gateway's data directory; the database is `<dataDir>/gateway.sqlite`. */
  dataDir: string;
  logger?: Logger;
}

/**
 * The embedded store: one SQLite file in the data directory, in WAL mode so readers never wait
 * for the writer and several processes can share it.
 *
 * Durability: synchronous=NORMAL, and FULL for the commit of `saveBuild`. In WAL mode NORMAL
 * never corrupts the file; what it gives up is that the last commits before a power cut (not a
 * process crash) may be rolled back. FULL on every commit would cost one fsync per `putBlob`, one
 * per file of a snapshot. Instead the build's own commit syncs the log, and with it every blob
 * written before, so a build the worker was told is saved is on disk together with its content.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  /** The database file. */
  readonly path: string;
  private readonly conn: SqliteConnection;
  private writes = 0;

  private constructor(conn: SqliteConnection, path: string) {
    this.conn = conn;
    this.path = path;
  }

  /** Opens (creating when missing) the data directory and database, and migrates the schema. */
  static open(options: SqliteStoreOptions): SqliteStore {
    const logger = options.logger ?? pino({ level: 'silent' });
    mkdirSync(options.dataDir, { recursive: true });
    const path = join(options.dataDir, SQLITE_FILE_NAME);

    const db = new Database(path);
    try {
      // busy_timeout first: switching a new file to WAL takes a lock another process may hold.
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      migrate(db, logger, path);
    } catch (error) {
      db.close();
      throw error;
    }

    logger.info({ path, schemaVersion: SCHEMA_VERSION }, `store: SQLite database ${path} open`);
    return new SqliteStore(new SqliteConnection(db), path);
  }

  get writeCount(): number {
    return this.writes;
  }

  workspace(workspaceId: string): WorkspaceStore {
    assertWorkspaceId(workspaceId);
    return new GuardedWorkspace(new SqliteWorkspace(this.conn, workspaceId), () => {
      this.writes += 1;
    });
  }

  reader(workspaceId: string): WorkspaceReader {
    return readerView(this.workspace(workspaceId));
  }

  /** Crosses workspaces on purpose: start-up resumes every workspace's outbox. */
  async unfinishedJobs(limit: number): Promise<SyncJobRecord[]> {
    const rows = this.conn
      .sql(
        `SELECT * FROM sync_jobs WHERE state IN ('queued', 'running')
         ORDER BY created_at, rowid LIMIT ?`,
      )
      .all(listLimit(limit)) as JobRow[];
    return rows.map(jobFromRow);
  }

  async ping(): Promise<void> {
    // Reads the file's first page, so a deleted or unreadable file fails here, not at the next write.
    this.conn.sql('SELECT count(*) FROM sqlite_schema').get();
  }

  async close(): Promise<void> {
    if (this.conn.db.open) this.conn.db.close();
  }
}
