import type {
  AppRecord,
  AuditRecord,
  BuildRecord,
  BuildSync,
  DraftRef,
  InstalledFrom,
  SettingsRecord,
  SnapshotRecord,
  SourceControlRecord,
  SyncJobRecord,
  VersionRecord,
} from '../../core/model.js';

/**
 * The store port. A `Store` hands out views bound to one workspace; no method of a view takes a
 * workspace id, so code holding a view for workspace A cannot name a record of workspace B.
 * Records passed in must carry the view's workspace id; adapters refuse any other.
 */
export interface Store {
  /** A read-write view of one workspace. */
  workspace(workspaceId: string): WorkspaceStore;
  /** A read-only view of one workspace: the object has no mutating methods at all. */
  reader(workspaceId: string): WorkspaceReader;
  /** Outbox jobs of every workspace that are queued or were running, oldest first (start-up). */
  unfinishedJobs(limit: number): Promise<SyncJobRecord[]>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** `sqlite` or `mongodb`, for logs and readiness. */
  readonly kind: 'sqlite' | 'mongodb';
  /**
   * How many calls to mutating methods of this store's views were made since it opened (refused
   * ones included): tests compare it before and after a request to prove a read wrote nothing.
   */
  readonly writeCount: number;
}

export interface AuditQuery {
  appId?: string;
  limit?: number;
}

/** Everything a read path may do. */
export interface WorkspaceReader {
  readonly workspaceId: string;

  getApp(appId: string): Promise<AppRecord | null>;
  /** Oldest first. */
  listApps(): Promise<AppRecord[]>;

  getSnapshot(hash: string): Promise<SnapshotRecord | null>;
  /** The content of a blob, or null when the workspace has no blob with that sha256. */
  getBlob(sha256: string): Promise<Buffer | null>;
  /** Which of these sha256s the workspace already holds. */
  hasBlobs(sha256s: readonly string[]): Promise<Set<string>>;

  getBuild(appId: string, buildId: string): Promise<BuildRecord | null>;
  /** Newest first. */
  listBuilds(appId: string, limit?: number): Promise<BuildRecord[]>;

  getVersion(appId: string, version: number): Promise<VersionRecord | null>;
  /** Newest first. */
  listVersions(appId: string): Promise<VersionRecord[]>;

  getSettings(): Promise<SettingsRecord | null>;

  getJob(jobId: string): Promise<SyncJobRecord | null>;
  /**
   * Jobs of one app that are not done (queued, running, or failed for good and waiting for a
   * retry), oldest first: the sync runner takes them in this order.
   */
  unfinishedJobsOfApp(appId: string): Promise<SyncJobRecord[]>;
  /**
   * Jobs of every app of the workspace that are not done (as `unfinishedJobsOfApp` counts them),
   * oldest first, jobs made at the same instant in the order they were first stored. One query,
   * for callers that must visit each app with pending work without walking every app.
   */
  unfinishedJobsOfWorkspace(): Promise<SyncJobRecord[]>;

  /** Newest first. */
  listAudit(query?: AuditQuery): Promise<AuditRecord[]>;

  /** An opaque secret value (already encrypted by the secret store), or null. */
  getSecret(name: string): Promise<string | null>;
}

/** A change to an app; `sourceControl` is merged field by field into the stored block. */
export interface AppPatch {
  name?: string;
  draft?: DraftRef | null;
  installedFrom?: InstalledFrom | null;
  sourceControl?: Partial<SourceControlRecord>;
}

/** What one `done_building` writes, all at once or not at all. */
export interface BuildWrite {
  snapshot: SnapshotRecord;
  build: BuildRecord;
  /** The app's draft moves to this build. */
  draft: DraftRef;
  /** Source-control fields to set with the build (for example status `pending`). */
  sourceControl?: Partial<SourceControlRecord>;
  /** The outbox job to run after the answer, if the build must be synced. */
  job?: SyncJobRecord;
  /**
   * A new app to create in the same write, with this build as its first draft (a catalog
   * install), so no app is ever stored without one. Refused as `createApp` refuses an id that
   * exists; its id must be the build's app id.
   */
  createApp?: AppRecord;
  /** Where the app now comes from, set in the same write as its draft (a catalog update). */
  installedFrom?: InstalledFrom;
}

export interface WorkspaceStore extends WorkspaceReader {
  /** Throws `GatewayError('invalid_request')` when the id exists. */
  createApp(app: AppRecord): Promise<void>;
  /** Applies the patch and returns the app as stored after it, or null when there is no app. */
  patchApp(appId: string, patch: AppPatch): Promise<AppRecord | null>;

  /** Stores a blob under its sha256; a blob already held is left as it is. */
  putBlob(sha256: string, content: Buffer): Promise<void>;
  /** Stores a snapshot record; one already held under the same hash is left as it is. */
  putSnapshot(snapshot: SnapshotRecord): Promise<void>;

  /**
   * Snapshot, build, draft, source-control fields, job and, when given, the new app or its
   * `installedFrom`, in one atomic write.
   */
  saveBuild(write: BuildWrite): Promise<AppRecord>;
  updateBuildSync(appId: string, buildId: string, sync: BuildSync): Promise<void>;

  /** Inserts a version; answers false (and writes nothing) when that number exists. */
  insertVersion(version: VersionRecord): Promise<boolean>;
  markVersionPushed(appId: string, version: number): Promise<void>;

  putSettings(settings: SettingsRecord): Promise<void>;
  deleteSettings(): Promise<void>;

  putJob(job: SyncJobRecord): Promise<void>;

  appendAudit(event: AuditRecord): Promise<void>;

  putSecret(name: string, value: string): Promise<void>;
  deleteSecret(name: string): Promise<void>;

  /**
   * Takes or renews the lease `key` for `holder` until now + ttlMs. Answers false while another
   * holder's lease has not expired. Leases keep two gateway processes from syncing one app.
   */
  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, holder: string): Promise<void>;
}
