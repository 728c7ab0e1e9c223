import { GatewayError } from '../../../core/errors.js';
import type {
  AppRecord,
  AuditRecord,
  BuildRecord,
  BuildSync,
  SettingsRecord,
  SnapshotRecord,
  SyncJobRecord,
  VersionRecord,
} from '../../../core/model.js';
import { applyAppPatch } from '../app-patch.js';
import { chunkCountOf, splitIntoChunks } from '../blob-chunks.js';
import { listLimit } from '../list-limits.js';
import { isSameBuild } from '../same-build.js';
import type { AppPatch, AuditQuery, BuildWrite, WorkspaceStore } from '../store-port.js';
import { atMoment, buildMoment } from '../build-moment.js';
import { isForeignKeyFailure, type SqliteConnection } from './sqlite-connection.js';
import {
  appFromRow,
  appParams,
  auditFromRow,
  auditParams,
  buildFromRow,
  buildParams,
  jobFromRow,
  jobParams,
  snapshotFromRow,
  snapshotParams,
  versionFromRow,
  versionParams,
  type AppRow,
  type AuditRow,
  type BuildRow,
  type JobRow,
  type SnapshotRow,
  type VersionRow,
} from './sqlite-rows.js';

const NOT_DONE = `state IN ('queued', 'running', 'failed')`;

/** Every job of one workspace that is not done; the index `sync_jobs_not_done` serves it. */
export const UNFINISHED_JOBS_OF_WORKSPACE = `SELECT * FROM sync_jobs WHERE workspace_id = ?
  AND ${NOT_DONE} ORDER BY created_at, rowid`;

const INSERT_APP = `INSERT INTO apps (workspace_id, id, name, created_at, updated_at, draft,
  source_control, installed_from) VALUES (@workspace_id, @id, @name, @created_at, @updated_at,
  @draft, @source_control, @installed_from) ON CONFLICT DO NOTHING`;
const UPDATE_APP = `UPDATE apps SET name = @name, updated_at = @updated_at, draft = @draft,
  source_control = @source_control, installed_from = @installed_from
  WHERE workspace_id = @workspace_id AND id = @id`;
const INSERT_SNAPSHOT = `INSERT INTO snapshots (workspace_id, hash, file_count, total_bytes,
  created_at, files) VALUES (@workspace_id, @hash, @file_count, @total_bytes, @created_at, @files)
  ON CONFLICT DO NOTHING`;
const INSERT_BUILD = `INSERT INTO builds (workspace_id, app_id, id, snapshot_hash, summary,
  file_count, total_bytes, skipped, sync, created_at) VALUES (@workspace_id, @app_id, @id,
  @snapshot_hash, @summary, @file_count, @total_bytes, @skipped, @sync, @created_at)
  ON CONFLICT DO NOTHING`;
const UPSERT_JOB = `INSERT INTO sync_jobs (workspace_id, id, app_id, kind, build_id, state, attempts,
  run_after, last_error, params, created_at, updated_at) VALUES (@workspace_id, @id, @app_id, @kind,
  @build_id, @state, @attempts, @run_after, @last_error, @params, @created_at, @updated_at)
  ON CONFLICT (workspace_id, id) DO UPDATE SET kind = excluded.kind, build_id = excluded.build_id,
  state = excluded.state, attempts = excluded.attempts, run_after = excluded.run_after,
  last_error = excluded.last_error, params = excluded.params, updated_at = excluded.updated_at
  WHERE sync_jobs.app_id = excluded.app_id`;
const INSERT_VERSION = `INSERT INTO versions (workspace_id, app_id, version, tag, commit_sha,
  summary, source_hash, file_count, total_bytes, created_at, pushed, build_id) VALUES
  (@workspace_id, @app_id, @version, @tag, @commit_sha, @summary, @source_hash, @file_count,
  @total_bytes, @created_at, @pushed, @build_id)
  ON CONFLICT (workspace_id, app_id, version) DO NOTHING`;
const INSERT_AUDIT = `INSERT INTO audit_events (workspace_id, id, at, actor, action, app_id,
  outcome, code) VALUES (@workspace_id, @id, @at, @actor, @action, @app_id, @outcome, @code)
  ON CONFLICT DO NOTHING`;
const ACQUIRE_LEASE = `INSERT INTO leases (workspace_id, key, holder, expires_at)
  VALUES (@workspace_id, @key, @holder, @expires_at)
  ON CONFLICT (workspace_id, key) DO UPDATE SET holder = excluded.holder,
  expires_at = excluded.expires_at
  WHERE leases.holder = excluded.holder OR leases.expires_at <= @now`;

function noSuchApp(): GatewayError {
  return new GatewayError('not_found', 'The app does not exist in this workspace.');
}

/**
 * One workspace of the SQLite store. Every statement names `workspace_id` in its WHERE clause or
 * its inserted row; the guard in front has already checked the input. better-sqlite3 is
 * synchronous, so each method does its few statements and returns a settled promise.
 */
export class SqliteWorkspace implements WorkspaceStore {
  readonly workspaceId: string;
  private readonly conn: SqliteConnection;

  constructor(conn: SqliteConnection, workspaceId: string) {
    this.conn = conn;
    this.workspaceId = workspaceId;
  }

  async getApp(appId: string): Promise<AppRecord | null> {
    return this.readApp(appId);
  }

  async listApps(): Promise<AppRecord[]> {
    const rows = this.conn
      .sql('SELECT * FROM apps WHERE workspace_id = ? ORDER BY created_at, rowid')
      .all(this.workspaceId) as AppRow[];
    return rows.map(appFromRow);
  }

  async getSnapshot(hash: string): Promise<SnapshotRecord | null> {
    const row = this.conn
      .sql('SELECT * FROM snapshots WHERE workspace_id = ? AND hash = ?')
      .get(this.workspaceId, hash) as SnapshotRow | undefined;
    return row === undefined ? null : snapshotFromRow(row);
  }

  async getBlob(sha256: string): Promise<Buffer | null> {
    const blob = this.conn
      .sql('SELECT size, chunk_count FROM blobs WHERE workspace_id = ? AND sha256 = ?')
      .get(this.workspaceId, sha256) as { size: number; chunk_count: number } | undefined;
    if (blob === undefined) return null;

    const chunks = this.conn
      .sql('SELECT data FROM blob_chunks WHERE workspace_id = ? AND sha256 = ? ORDER BY seq')
      .pluck()
      .all(this.workspaceId, sha256) as Buffer[];
    const content = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);

    // Chunks and their header are written in one transaction, so this only fails on a damaged
    // file; better to say so than to serve a truncated file as if it were whole.
    if (chunks.length !== blob.chunk_count || content.length !== blob.size) {
      throw new GatewayError('internal', `Blob ${sha256} is incomplete in the database.`);
    }
    return content;
  }

  async hasBlobs(sha256s: readonly string[]): Promise<Set<string>> {
    if (sha256s.length === 0) return new Set();

    // One statement for any number of keys: the list travels as one JSON parameter.
    const held = this.conn
      .sql(
        `SELECT sha256 FROM blobs WHERE workspace_id = ?
         AND sha256 IN (SELECT value FROM json_each(?))`,
      )
      .pluck()
      .all(this.workspaceId, JSON.stringify(sha256s)) as string[];
    return new Set(held);
  }

  async getBuild(appId: string, buildId: string): Promise<BuildRecord | null> {
    const row = this.conn
      .sql('SELECT * FROM builds WHERE workspace_id = ? AND app_id = ? AND id = ?')
      .get(this.workspaceId, appId, buildId) as BuildRow | undefined;
    return row === undefined ? null : buildFromRow(row);
  }

  async listBuilds(appId: string, limit?: number): Promise<BuildRecord[]> {
    const rows = this.conn
      .sql(
        `SELECT * FROM builds WHERE workspace_id = ? AND app_id = ?
         ORDER BY created_at DESC, rowid DESC LIMIT ?`,
      )
      .all(this.workspaceId, appId, listLimit(limit)) as BuildRow[];
    return rows.map(buildFromRow);
  }

  async getVersion(appId: string, version: number): Promise<VersionRecord | null> {
    const row = this.conn
      .sql('SELECT * FROM versions WHERE workspace_id = ? AND app_id = ? AND version = ?')
      .get(this.workspaceId, appId, version) as VersionRow | undefined;
    return row === undefined ? null : versionFromRow(row);
  }

  async listVersions(appId: string): Promise<VersionRecord[]> {
    const rows = this.conn
      .sql('SELECT * FROM versions WHERE workspace_id = ? AND app_id = ? ORDER BY version DESC')
      .all(this.workspaceId, appId) as VersionRow[];
    return rows.map(versionFromRow);
  }

  async getSettings(): Promise<SettingsRecord | null> {
    const record = this.conn
      .sql('SELECT record FROM settings WHERE workspace_id = ?')
      .pluck()
      .get(this.workspaceId) as string | undefined;
    if (record === undefined) return null;
    return { ...JSON.parse(record), workspaceId: this.workspaceId };
  }

  async getJob(jobId: string): Promise<SyncJobRecord | null> {
    const row = this.conn
      .sql('SELECT * FROM sync_jobs WHERE workspace_id = ? AND id = ?')
      .get(this.workspaceId, jobId) as JobRow | undefined;
    return row === undefined ? null : jobFromRow(row);
  }

  async unfinishedJobsOfApp(appId: string): Promise<SyncJobRecord[]> {
    const rows = this.conn
      .sql(
        `SELECT * FROM sync_jobs WHERE workspace_id = ? AND app_id = ? AND ${NOT_DONE}
         ORDER BY created_at, rowid`,
      )
      .all(this.workspaceId, appId) as JobRow[];
    return rows.map(jobFromRow);
  }

  async unfinishedJobsOfWorkspace(): Promise<SyncJobRecord[]> {
    const rows = this.conn.sql(UNFINISHED_JOBS_OF_WORKSPACE).all(this.workspaceId) as JobRow[];
    return rows.map(jobFromRow);
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const limit = listLimit(query.limit);
    const rows = (
      query.appId === undefined
        ? this.conn
            .sql(
              `SELECT * FROM audit_events WHERE workspace_id = ?
               ORDER BY at DESC, rowid DESC LIMIT ?`,
            )
            .all(this.workspaceId, limit)
        : this.conn
            .sql(
              `SELECT * FROM audit_events WHERE workspace_id = ? AND app_id = ?
               ORDER BY at DESC, rowid DESC LIMIT ?`,
            )
            .all(this.workspaceId, query.appId, limit)
    ) as AuditRow[];
    return rows.map(auditFromRow);
  }

  async getSecret(name: string): Promise<string | null> {
    const value = this.conn
      .sql('SELECT value FROM secrets WHERE workspace_id = ? AND name = ?')
      .pluck()
      .get(this.workspaceId, name) as string | undefined;
    return value ?? null;
  }

  async createApp(app: AppRecord): Promise<void> {
    this.insertApp(app);
  }

  async patchApp(appId: string, patch: AppPatch): Promise<AppRecord | null> {
    return this.conn.write(() => {
      const app = this.readApp(appId);
      if (app === null) return null;

      const next = applyAppPatch(app, patch, new Date().toISOString());
      this.conn.sql(UPDATE_APP).run(appParams(next));
      return next;
    });
  }

  async putBlob(sha256: string, content: Buffer): Promise<void> {
    const chunks = splitIntoChunks(content);
    this.conn.write(() => {
      const { changes } = this.conn
        .sql(
          `INSERT INTO blobs (workspace_id, sha256, size, chunk_count, created_at)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(this.workspaceId, sha256, content.length, chunkCountOf(content.length), now());
      if (changes === 0) return;

      const insertChunk = this.conn.sql(
        'INSERT INTO blob_chunks (workspace_id, sha256, seq, data) VALUES (?, ?, ?, ?)',
      );
      chunks.forEach((chunk, seq) => insertChunk.run(this.workspaceId, sha256, seq, chunk));
    });
  }

  async putSnapshot(snapshot: SnapshotRecord): Promise<void> {
    this.conn.sql(INSERT_SNAPSHOT).run(snapshotParams(snapshot));
  }

  async saveBuild(incoming: BuildWrite): Promise<AppRecord> {
    return this.conn.durableWrite(() => {
      // Inside the write transaction, so the moment follows the order writers commit in.
      const write = atMoment(incoming, this.buildMomentOf(incoming.build));
      const { snapshot, build, draft, sourceControl, job, installedFrom } = write;

      // A new app goes in first: the build and job rows name it (foreign keys), and a later
      // step that fails rolls it back with them, so no app is ever left without its draft.
      if (write.createApp !== undefined) this.insertApp(write.createApp);

      const app = this.readApp(build.appId);
      if (app === null) throw noSuchApp();

      this.conn.sql(INSERT_SNAPSHOT).run(snapshotParams(snapshot));

      const { changes } = this.conn.sql(INSERT_BUILD).run(buildParams(build));
      if (changes === 0) this.requireRetryOf(build);

      if (job !== undefined) this.upsertJob(job);

      const patch = { draft, sourceControl, installedFrom };
      const next = applyAppPatch(app, patch, new Date().toISOString());
      this.conn.sql(UPDATE_APP).run(appParams(next));
      return next;
    });
  }

  async updateBuildSync(appId: string, buildId: string, sync: BuildSync): Promise<void> {
    const { changes } = this.conn
      .sql('UPDATE builds SET sync = ? WHERE workspace_id = ? AND app_id = ? AND id = ?')
      .run(JSON.stringify(sync), this.workspaceId, appId, buildId);
    if (changes === 0) throw new GatewayError('not_found', 'The build does not exist.');
  }

  async insertVersion(version: VersionRecord): Promise<boolean> {
    try {
      const { changes } = this.conn.sql(INSERT_VERSION).run(versionParams(version));
      return changes === 1;
    } catch (error) {
      if (isForeignKeyFailure(error)) throw noSuchApp();
      throw error;
    }
  }

  async markVersionPushed(appId: string, version: number): Promise<void> {
    const { changes } = this.conn
      .sql('UPDATE versions SET pushed = 1 WHERE workspace_id = ? AND app_id = ? AND version = ?')
      .run(this.workspaceId, appId, version);
    if (changes === 0) throw new GatewayError('not_found', 'The version does not exist.');
  }

  async putSettings(settings: SettingsRecord): Promise<void> {
    this.conn
      .sql(
        `INSERT INTO settings (workspace_id, record) VALUES (?, ?)
         ON CONFLICT (workspace_id) DO UPDATE SET record = excluded.record`,
      )
      .run(this.workspaceId, JSON.stringify(settings));
  }

  async deleteSettings(): Promise<void> {
    this.conn.sql('DELETE FROM settings WHERE workspace_id = ?').run(this.workspaceId);
  }

  async putJob(job: SyncJobRecord): Promise<void> {
    this.upsertJob(job);
  }

  async appendAudit(event: AuditRecord): Promise<void> {
    this.conn.sql(INSERT_AUDIT).run(auditParams(event));
  }

  async putSecret(name: string, value: string): Promise<void> {
    this.conn
      .sql(
        `INSERT INTO secrets (workspace_id, name, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (workspace_id, name) DO UPDATE SET value = excluded.value,
         updated_at = excluded.updated_at`,
      )
      .run(this.workspaceId, name, value, now());
  }

  async deleteSecret(name: string): Promise<void> {
    this.conn
      .sql('DELETE FROM secrets WHERE workspace_id = ? AND name = ?')
      .run(this.workspaceId, name);
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const nowMs = Date.now();
    const { changes } = this.conn.sql(ACQUIRE_LEASE).run({
      workspace_id: this.workspaceId,
      key,
      holder,
      expires_at: nowMs + ttlMs,
      now: nowMs,
    });
    return changes === 1;
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    this.conn
      .sql('DELETE FROM leases WHERE workspace_id = ? AND key = ? AND holder = ?')
      .run(this.workspaceId, key, holder);
  }

  private readApp(appId: string): AppRecord | null {
    const row = this.conn
      .sql('SELECT * FROM apps WHERE workspace_id = ? AND id = ?')
      .get(this.workspaceId, appId) as AppRow | undefined;
    return row === undefined ? null : appFromRow(row);
  }

  private insertApp(app: AppRecord): void {
    const { changes } = this.conn.sql(INSERT_APP).run(appParams(app));
    if (changes === 0) throw new GatewayError('invalid_request', 'An app with this id exists.');
  }

  private upsertJob(job: SyncJobRecord): void {
    let changes: number;
    try {
      changes = this.conn.sql(UPSERT_JOB).run(jobParams(job)).changes;
    } catch (error) {
      if (isForeignKeyFailure(error)) throw noSuchApp();
      throw error;
    }
    // The upsert leaves a stored job alone when the new one names another app.
    if (changes === 0) throw new GatewayError('invalid_request', 'A job with this id exists.');
  }

  /** A build id already held is fine only when it is this very build, saved again. */
  private buildMomentOf(build: BuildRecord): string {
    const held = this.conn
      .sql('SELECT created_at FROM builds WHERE workspace_id = ? AND id = ?')
      .get(this.workspaceId, build.id) as { created_at: string } | undefined;
    const latest = this.conn
      .sql('SELECT MAX(created_at) AS latest FROM builds WHERE workspace_id = ? AND app_id = ?')
      .get(this.workspaceId, build.appId) as { latest: string | null };
    return buildMoment(build.createdAt, held?.created_at ?? null, latest.latest);
  }

  private requireRetryOf(build: BuildRecord): void {
    const row = this.conn
      .sql('SELECT * FROM builds WHERE workspace_id = ? AND id = ?')
      .get(this.workspaceId, build.id) as BuildRow;
    if (!isSameBuild(buildFromRow(row), build)) {
      throw new GatewayError('invalid_request', 'A different build with this id exists.');
    }
  }
}

function now(): string {
  return new Date().toISOString();
}
