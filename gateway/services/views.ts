import type {
  AppRecord,
  BuildRecord,
  ErrorInfo,
  InstalledFrom,
  SourceControlRecord,
  VersionRecord,
} from '../../core/model.js';

/**
 * The API shapes of DESIGN §12, built field by field from the records so that a record field
 * added later never leaks into an answer and every documented field is always present.
 */

export interface SourceControlView {
  backed: boolean;
  status: SourceControlRecord['status'];
  provider: string | null;
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

export interface AppView {
  id: string;
  name: string;
  createdAt: string;
  draft: { buildId: string; snapshotHash: string; createdAt: string } | null;
  sourceControl: SourceControlView;
  installedFrom: Omit<InstalledFrom, never> | null;
}

export interface BuildView {
  id: string;
  summary: string;
  snapshotHash: string;
  fileCount: number;
  totalBytes: number;
  skipped: { path: string; reason: string }[];
  createdAt: string;
  sync: { status: BuildRecord['sync']['status']; version: number | null; error: ErrorInfo | null };
}

export interface VersionView {
  version: number;
  tag: string;
  commitSha: string;
  summary: string;
  sourceHash: string;
  fileCount: number;
  totalBytes: number;
  createdAt: string;
  pushed: boolean;
}

function errorView(error: ErrorInfo | null | undefined): ErrorInfo | null {
  return error ? { code: error.code, message: error.message } : null;
}

export function toSourceControlView(record: SourceControlRecord): SourceControlView {
  return {
    backed: record.backed,
    status: record.status,
    provider: record.provider ?? null,
    owner: record.owner ?? null,
    repo: record.repo ?? null,
    url: record.url ?? null,
    version: record.version ?? null,
    tag: record.tag ?? null,
    commitSha: record.commitSha ?? null,
    sourceHash: record.sourceHash ?? null,
    pushed: record.pushed === true,
    availableInCatalog: record.availableInCatalog === true,
    outsideCommits: record.outsideCommits === true,
    lastError: errorView(record.lastError),
    nextRetryAt: record.nextRetryAt ?? null,
    lastSyncedAt: record.lastSyncedAt ?? null,
  };
}

export function toAppView(app: AppRecord): AppView {
  const { draft, installedFrom } = app;
  return {
    id: app.id,
    name: app.name,
    createdAt: app.createdAt,
    draft: draft
      ? { buildId: draft.buildId, snapshotHash: draft.snapshotHash, createdAt: draft.createdAt }
      : null,
    sourceControl: toSourceControlView(app.sourceControl),
    installedFrom: installedFrom
      ? {
          provider: installedFrom.provider,
          owner: installedFrom.owner,
          repo: installedFrom.repo,
          tag: installedFrom.tag,
          version: installedFrom.version,
          commitSha: installedFrom.commitSha,
          installedAt: installedFrom.installedAt,
        }
      : null,
  };
}

export function toBuildView(build: BuildRecord): BuildView {
  return {
    id: build.id,
    summary: build.summary,
    snapshotHash: build.snapshotHash,
    fileCount: build.fileCount,
    totalBytes: build.totalBytes,
    skipped: build.skipped.map((entry) => ({ path: entry.path, reason: entry.reason })),
    createdAt: build.createdAt,
    sync: {
      status: build.sync.status,
      version: build.sync.version ?? null,
      error: errorView(build.sync.error),
    },
  };
}

export function toVersionView(version: VersionRecord): VersionView {
  return {
    version: version.version,
    tag: version.tag,
    commitSha: version.commitSha,
    summary: version.summary,
    sourceHash: version.sourceHash,
    fileCount: version.fileCount,
    totalBytes: version.totalBytes,
    createdAt: version.createdAt,
    pushed: version.pushed,
  };
}
