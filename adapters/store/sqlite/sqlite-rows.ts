import type {
  AppRecord,
  AuditRecord,
  BuildRecord,
  SnapshotRecord,
  SyncJobRecord,
  VersionRecord,
} from '../../../core/model.js';

/** Rows as better-sqlite3 returns them: column names as in the schema. */
export interface AppRow {
  workspace_id: string;
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
  draft: string | null;
  source_control: string;
  installed_from: string | null;
}

export interface SnapshotRow {
  workspace_id: string;
  hash: string;
  file_count: number;
  total_bytes: number;
  created_at: string;
  files: string;
}

export interface BuildRow {
  workspace_id: string;
  app_id: string;
  id: string;
  snapshot_hash: string;
  summary: string;
  file_count: number;
  total_bytes: number;
  skipped: string;
  sync: string;
  created_at: string;
}

export interface VersionRow {
  workspace_id: string;
  app_id: string;
  version: number;
  tag: string;
  commit_sha: string;
  summary: string;
  source_hash: string;
  file_count: number;
  total_bytes: number;
  created_at: string;
  pushed: number;
  build_id: string | null;
}

export interface JobRow {
  workspace_id: string;
  id: string;
  app_id: string;
  kind: SyncJobRecord['kind'];
  build_id: string | null;
  state: SyncJobRecord['state'];
  attempts: number;
  run_after: string | null;
  last_error: string | null;
  params: string;
  created_at: string;
  updated_at: string;
}

export interface AuditRow {
  workspace_id: string;
  id: string;
  at: string;
  actor: string;
  action: string;
  app_id: string | null;
  outcome: AuditRecord['outcome'];
  code: string | null;
}

function parseOrNull<T>(json: string | null): T | null {
  return json === null ? null : (JSON.parse(json) as T);
}

/** The app a row of `apps` holds. */
export function appFromRow(row: AppRow): AppRecord {
  return {
    workspaceId: row.workspace_id,
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    draft: parseOrNull(row.draft),
    sourceControl: JSON.parse(row.source_control),
    installedFrom: parseOrNull(row.installed_from),
  };
}

/** An app as named parameters of the `apps` table. */
export function appParams(app: AppRecord) {
  return {
    workspace_id: app.workspaceId,
    id: app.id,
    name: app.name,
    created_at: app.createdAt,
    updated_at: app.updatedAt,
    draft: app.draft === null ? null : JSON.stringify(app.draft),
    source_control: JSON.stringify(app.sourceControl),
    installed_from: app.installedFrom === null ? null : JSON.stringify(app.installedFrom),
  };
}

/** The snapshot a row of `snapshots` holds. */
export function snapshotFromRow(row: SnapshotRow): SnapshotRecord {
  return {
    workspaceId: row.workspace_id,
    hash: row.hash,
    files: JSON.parse(row.files),
    fileCount: row.file_count,
    totalBytes: row.total_bytes,
    createdAt: row.created_at,
  };
}

/** A snapshot as named parameters of the `snapshots` table. */
export function snapshotParams(snapshot: SnapshotRecord) {
  return {
    workspace_id: snapshot.workspaceId,
    hash: snapshot.hash,
    file_count: snapshot.fileCount,
    total_bytes: snapshot.totalBytes,
    created_at: snapshot.createdAt,
    files: JSON.stringify(snapshot.files),
  };
}

/** The build a row of `builds` holds. */
export function buildFromRow(row: BuildRow): BuildRecord {
  return {
    workspaceId: row.workspace_id,
    appId: row.app_id,
    id: row.id,
    summary: row.summary,
    snapshotHash: row.snapshot_hash,
    fileCount: row.file_count,
    totalBytes: row.total_bytes,
    skipped: JSON.parse(row.skipped),
    createdAt: row.created_at,
    sync: JSON.parse(row.sync),
  };
}

/** A build as named parameters of the `builds` table. */
export function buildParams(build: BuildRecord) {
  return {
    workspace_id: build.workspaceId,
    app_id: build.appId,
    id: build.id,
    snapshot_hash: build.snapshotHash,
    summary: build.summary,
    file_count: build.fileCount,
    total_bytes: build.totalBytes,
    skipped: JSON.stringify(build.skipped),
    sync: JSON.stringify(build.sync),
    created_at: build.createdAt,
  };
}

/** The version a row of `versions` holds. */
export function versionFromRow(row: VersionRow): VersionRecord {
  return {
    workspaceId: row.workspace_id,
    appId: row.app_id,
    version: row.version,
    tag: row.tag,
    commitSha: row.commit_sha,
    summary: row.summary,
    sourceHash: row.source_hash,
    fileCount: row.file_count,
    totalBytes: row.total_bytes,
    createdAt: row.created_at,
    pushed: row.pushed === 1,
    buildId: row.build_id,
  };
}

/** A version as named parameters of the `versions` table. */
export function versionParams(version: VersionRecord) {
  return {
    workspace_id: version.workspaceId,
    app_id: version.appId,
    version: version.version,
    tag: version.tag,
    commit_sha: version.commitSha,
    summary: version.summary,
    source_hash: version.sourceHash,
    file_count: version.fileCount,
    total_bytes: version.totalBytes,
    created_at: version.createdAt,
    pushed: version.pushed ? 1 : 0,
    build_id: version.buildId,
  };
}

/** The outbox job a row of `sync_jobs` holds. */
export function jobFromRow(row: JobRow): SyncJobRecord {
  return {
    workspaceId: row.workspace_id,
    appId: row.app_id,
    id: row.id,
    kind: row.kind,
    buildId: row.build_id,
    state: row.state,
    attempts: row.attempts,
    runAfter: row.run_after,
    lastError: parseOrNull(row.last_error),
    params: JSON.parse(row.params),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** An outbox job as named parameters of the `sync_jobs` table. */
export function jobParams(job: SyncJobRecord) {
  return {
    workspace_id: job.workspaceId,
    id: job.id,
    app_id: job.appId,
    kind: job.kind,
    build_id: job.buildId,
    state: job.state,
    attempts: job.attempts,
    run_after: job.runAfter,
    last_error: job.lastError === null ? null : JSON.stringify(job.lastError),
    params: JSON.stringify(job.params),
    created_at: job.createdAt,
    updated_at: job.updatedAt,
  };
}

/** The audit event a row of `audit_events` holds. */
export function auditFromRow(row: AuditRow): AuditRecord {
  return {
    workspaceId: row.workspace_id,
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    appId: row.app_id,
    outcome: row.outcome,
    code: row.code,
  };
}

/** An audit event as named parameters of the `audit_events` table. */
export function auditParams(event: AuditRecord) {
  return {
    workspace_id: event.workspaceId,
    id: event.id,
    at: event.at,
    actor: event.actor,
    action: event.action,
    app_id: event.appId,
    outcome: event.outcome,
    code: event.code,
  };
}
