/**
 * The records the gateway keeps. Every record carries the workspace it belongs to; the store
 * port makes it impossible to reach another workspace's records (see adapters/store).
 */

export type DeploymentMode = 'local' | 'onprem' | 'managed';

export type ProviderId =
  'github' | 'gitlab' | 'bitbucket-cloud' | 'bitbucket-server' | 'gitea' | 'git';

export const PROVIDER_IDS: readonly ProviderId[] = [
  'github',
  'gitlab',
  'bitbucket-cloud',
  'bitbucket-server',
  'gitea',
  'git',
];

export type OwnerType = 'user' | 'org';
export type Visibility = 'private' | 'public';
export type Role = 'owner' | 'admin' | 'builder' | 'viewer';
export type SyncStatus = 'disabled' | 'pending' | 'synced' | 'failed';

/** A safe error as it is stored and shown: a stable code and a message with no secrets. */
export interface ErrorInfo {
  code: string;
  message: string;
}

/** One file of a snapshot; the content lives in the workspace's blob store under `sha256`. */
export interface SnapshotFile {
  /** Path relative to the app root, `/`-separated, exactly as the worker sent it. */
  path: string;
  size: number;
  /** Hex sha256 of the content. */
  sha256: string;
  /** True when the worker marked the file executable (git mode 100755). */
  executable?: boolean;
}

/** A sanitized file set, content-addressed by its source hash (DESIGN §5). */
export interface SnapshotRecord {
  workspaceId: string;
  /** The source hash, `sha256:<hex>`; also the snapshot's key within the workspace. */
  hash: string;
  files: SnapshotFile[];
  fileCount: number;
  totalBytes: number;
  createdAt: string;
}

export interface SourceControlRecord {
  backed: boolean;
  /** Local mode: the app was published. Onprem/managed: the policy adopted it. */
  status: SyncStatus;
  provider: ProviderId | null;
  owner: string | null;
  repo: string | null;
  url: string | null;
  version: number | null;
  tag: string | null;
  commitSha: string | null;
  sourceHash: string | null;
  pushed: boolean;
  availableInCatalog: boolean;
  outsideCommits: boolean;
  lastError: ErrorInfo | null;
  nextRetryAt: string | null;
  lastSyncedAt: string | null;
}

export interface InstalledFrom {
  provider: ProviderId;
  owner: string;
  repo: string;
  tag: string;
  version: number;
  commitSha: string;
  installedAt: string;
}

export interface DraftRef {
  buildId: string;
  snapshotHash: string;
  createdAt: string;
}

export interface AppRecord {
  workspaceId: string;
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  draft: DraftRef | null;
  sourceControl: SourceControlRecord;
  installedFrom: InstalledFrom | null;
}

export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface BuildSync {
  status: SyncStatus;
  version: number | null;
  error: ErrorInfo | null;
}

export interface BuildRecord {
  workspaceId: string;
  appId: string;
  id: string;
  summary: string;
  snapshotHash: string;
  fileCount: number;
  totalBytes: number;
  skipped: SkippedEntry[];
  createdAt: string;
  sync: BuildSync;
}

export interface VersionRecord {
  workspaceId: string;
  appId: string;
  version: number;
  tag: string;
  commitSha: string;
  summary: string;
  sourceHash: string;
  fileCount: number;
  totalBytes: number;
  createdAt: string;
  pushed: boolean;
  buildId: string | null;
}

export interface TokenInfo {
  set: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
}

export interface SettingsRecord {
  workspaceId: string;
  provider: ProviderId;
  baseUrl: string | null;
  owner: string;
  ownerType: OwnerType;
  repoPrefix: string;
  visibility: Visibility;
  storeAppSource: boolean;
  token: TokenInfo;
  account: string | null;
  missingPermissions: string[];
  validatedAt: string | null;
}

export type SyncJobKind = 'build' | 'publish' | 'share' | 'retry';
export type SyncJobState = 'queued' | 'running' | 'done' | 'failed';

/** The outbox: work that must reach source control after the answer was sent. */
export interface SyncJobRecord {
  workspaceId: string;
  appId: string;
  id: string;
  kind: SyncJobKind;
  buildId: string | null;
  state: SyncJobState;
  attempts: number;
  /** ISO time before which the job must not run (backoff); null: at once. */
  runAfter: string | null;
  lastError: ErrorInfo | null;
  /** Small, safe job parameters (for example `{available: true}` for share). */
  params: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface AuditRecord {
  workspaceId: string;
  id: string;
  at: string;
  /** The `sub` of the caller, or `system` for work the gateway did on its own. */
  actor: string;
  action: string;
  appId: string | null;
  outcome: 'success' | 'failure';
  code: string | null;
}

/** An empty source-control block, as a new or never-backed app has it. */
export function disabledSourceControl(): SourceControlRecord {
  return {
    backed: false,
    status: 'disabled',
    provider: null,
    owner: null,
    repo: null,
    url: null,
    version: null,
    tag: null,
    commitSha: null,
    sourceHash: null,
    pushed: false,
    availableInCatalog: false,
    outsideCommits: false,
    lastError: null,
    nextRetryAt: null,
    lastSyncedAt: null,
  };
}
