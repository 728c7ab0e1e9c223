import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';

/**
 * The schema, one entry per version: entry i takes `user_version` from i to i + 1. Entries are
 * never edited once released; a change is a new entry. Every table leads with `workspace_id` so
 * every key and index starts with the workspace. Fields that queries filter or sort on are
 * columns; the rest of a record is JSON.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE apps (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    draft TEXT,
    source_control TEXT NOT NULL,
    installed_from TEXT,
    PRIMARY KEY (workspace_id, id)
  );
  CREATE INDEX apps_by_age ON apps (workspace_id, created_at);

  CREATE TABLE snapshots (
    workspace_id TEXT NOT NULL,
    hash TEXT NOT NULL,
    file_count INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    files TEXT NOT NULL,
    PRIMARY KEY (workspace_id, hash)
  );

  CREATE TABLE blobs (
    workspace_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, sha256)
  );

  CREATE TABLE blob_chunks (
    workspace_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (workspace_id, sha256, seq),
    FOREIGN KEY (workspace_id, sha256) REFERENCES blobs (workspace_id, sha256)
  );

  CREATE TABLE builds (
    workspace_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    id TEXT NOT NULL,
    snapshot_hash TEXT NOT NULL,
    summary TEXT NOT NULL,
    file_count INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    skipped TEXT NOT NULL,
    sync TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, app_id) REFERENCES apps (workspace_id, id),
    FOREIGN KEY (workspace_id, snapshot_hash) REFERENCES snapshots (workspace_id, hash)
  );
  CREATE INDEX builds_by_app ON builds (workspace_id, app_id, created_at);

  CREATE TABLE versions (
    workspace_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    tag TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    summary TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    file_count INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    pushed INTEGER NOT NULL,
    build_id TEXT,
    PRIMARY KEY (workspace_id, app_id, version),
    FOREIGN KEY (workspace_id, app_id) REFERENCES apps (workspace_id, id)
  );

  CREATE TABLE settings (
    workspace_id TEXT NOT NULL PRIMARY KEY,
    record TEXT NOT NULL
  );

  CREATE TABLE sync_jobs (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    build_id TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    run_after TEXT,
    last_error TEXT,
    params TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, app_id) REFERENCES apps (workspace_id, id)
  );
  CREATE INDEX sync_jobs_unfinished ON sync_jobs (state, created_at);
  CREATE INDEX sync_jobs_by_app ON sync_jobs (workspace_id, app_id, state, created_at);

  CREATE TABLE audit_events (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    app_id TEXT,
    outcome TEXT NOT NULL,
    code TEXT,
    PRIMARY KEY (workspace_id, id)
  );
  CREATE INDEX audit_by_time ON audit_events (workspace_id, at);
  CREATE INDEX audit_by_app ON audit_events (workspace_id, app_id, at);

  CREATE TABLE secrets (
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, name)
  );

  CREATE TABLE leases (
    workspace_id TEXT NOT NULL,
    key TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, key)
  );
  `,
  // A workspace's jobs that are not done, found without reading the done ones (one per build, so
  // the most of them) that `sync_jobs_by_app` would walk through when no app is named.
  `
  CREATE INDEX sync_jobs_not_done ON sync_jobs (workspace_id, state, created_at);
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to `SCHEMA_VERSION`. Each step runs in an immediate transaction that reads
 * `user_version` again first, so two processes opening a new file at once apply it only once.
 * A database newer than this code is refused: reading it could misread columns it does not know.
 */
export function migrate(db: Database, logger: Logger, path: string): void {
  for (;;) {
    const applied = db
      .transaction(() => {
        const current = db.pragma('user_version', { simple: true }) as number;
        if (current > SCHEMA_VERSION) {
          throw new Error(
            `${path} is at schema version ${current}, newer than this gateway knows ` +
              `(${SCHEMA_VERSION}): run the newer gateway, or restore a backup.`,
          );
        }
        if (current === SCHEMA_VERSION) return null;

        db.exec(MIGRATIONS[current]);
        db.pragma(`user_version = ${current + 1}`);
        return current + 1;
      })
      .immediate();

    if (applied === null) return;
    logger.info(
      { path, schemaVersion: applied },
      `store: SQLite schema migrated to version ${applied}`,
    );
  }
}
