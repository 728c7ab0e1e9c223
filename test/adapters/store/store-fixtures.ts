import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../../../core/ids.js';
import {
  disabledSourceControl,
  type AppRecord,
  type AuditRecord,
  type BuildRecord,
  type InstalledFrom,
  type SettingsRecord,
  type SnapshotRecord,
  type SyncJobRecord,
  type VersionRecord,
} from '../../../core/model.js';
import type { BuildWrite } from '../../../adapters/store/store-port.js';

/** Records for store tests: valid by default, any field overridable. */

export function sha256Of(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A source hash that no other test produces. */
export function randomSourceHash(): string {
  return `sha256:${randomBytes(32).toString('hex')}`;
}

/** An ISO time `minutes` after a fixed origin, so orderings in tests do not depend on the clock. */
export function at(minutes: number): string {
  return new Date(Date.UTC(2024, 0, 1) + minutes * 60_000).toISOString();
}

export function appRecord(workspaceId: string, overrides: Partial<AppRecord> = {}): AppRecord {
  return {
    workspaceId,
    id: newId(),
    name: 'Customer Console',
    createdAt: at(0),
    updatedAt: at(0),
    draft: null,
    sourceControl: disabledSourceControl(),
    installedFrom: null,
    ...overrides,
  };
}

export function snapshotRecord(
  workspaceId: string,
  overrides: Partial<SnapshotRecord> = {},
): SnapshotRecord {
  return {
    workspaceId,
    hash: randomSourceHash(),
    files: [
      { path: 'dist/index.html', size: 5, sha256: sha256Of(Buffer.from('hello')) },
      { path: 'bin/run.sh', size: 3, sha256: sha256Of(Buffer.from('run')), executable: true },
    ],
    fileCount: 2,
    totalBytes: 8,
    createdAt: at(1),
    ...overrides,
  };
}

export function buildRecord(
  workspaceId: string,
  appId: string,
  snapshotHash: string,
  overrides: Partial<BuildRecord> = {},
): BuildRecord {
  return {
    workspaceId,
    appId,
    id: newId(),
    summary: 'Added a login page',
    snapshotHash,
    fileCount: 2,
    totalBytes: 8,
    skipped: [{ path: 'link', reason: 'symlink' }],
    createdAt: at(2),
    sync: { status: 'pending', version: null, error: null },
    ...overrides,
  };
}

export function jobRecord(
  workspaceId: string,
  appId: string,
  overrides: Partial<SyncJobRecord> = {},
): SyncJobRecord {
  return {
    workspaceId,
    appId,
    id: newId(),
    kind: 'build',
    buildId: null,
    state: 'queued',
    attempts: 0,
    runAfter: null,
    lastError: null,
    params: {},
    createdAt: at(3),
    updatedAt: at(3),
    ...overrides,
  };
}

/** A complete `saveBuild` input for one new snapshot of `appId`. */
export function buildWrite(
  workspaceId: string,
  appId: string,
  options: { createdAt?: string; withJob?: boolean; buildId?: string } = {},
): BuildWrite {
  const snapshot = snapshotRecord(workspaceId);
  const build = buildRecord(workspaceId, appId, snapshot.hash, {
    id: options.buildId ?? newId(),
    createdAt: options.createdAt ?? at(2),
  });
  const job =
    options.withJob === false
      ? undefined
      : jobRecord(workspaceId, appId, { buildId: build.id, createdAt: build.createdAt });
  return {
    snapshot,
    build,
    draft: { buildId: build.id, snapshotHash: snapshot.hash, createdAt: build.createdAt },
    sourceControl: { status: 'pending' },
    job,
  };
}

/** Where an app installed from Available Apps came from: version `version` of one repository. */
export function installedFromRecord(version: number): InstalledFrom {
  return {
    provider: 'github',
    owner: 'acme',
    repo: 'second-app-ledger',
    tag: `second-app-v${version}`,
    version,
    commitSha: randomBytes(20).toString('hex'),
    installedAt: at(30 + version),
  };
}

export function versionRecord(
  workspaceId: string,
  appId: string,
  version: number,
  overrides: Partial<VersionRecord> = {},
): VersionRecord {
  return {
    workspaceId,
    appId,
    version,
    tag: `second-app-v${version}`,
    commitSha: randomBytes(20).toString('hex'),
    summary: `Version ${version}`,
    sourceHash: randomSourceHash(),
    fileCount: 2,
    totalBytes: 8,
    createdAt: at(10 + version),
    pushed: false,
    buildId: null,
    ...overrides,
  };
}

export function settingsRecord(
  workspaceId: string,
  overrides: Partial<SettingsRecord> = {},
): SettingsRecord {
  return {
    workspaceId,
    provider: 'github',
    baseUrl: null,
    owner: 'acme',
    ownerType: 'org',
    repoPrefix: 'second-app',
    visibility: 'private',
    storeAppSource: true,
    token: { set: true, updatedAt: at(0), updatedBy: 'user-1' },
    account: 'acme-bot',
    missingPermissions: [],
    validatedAt: at(0),
    ...overrides,
  };
}

export function auditRecord(
  workspaceId: string,
  overrides: Partial<AuditRecord> = {},
): AuditRecord {
  return {
    workspaceId,
    id: newId(),
    at: at(0),
    actor: 'user-1',
    action: 'settings.save',
    appId: null,
    outcome: 'success',
    code: null,
    ...overrides,
  };
}
