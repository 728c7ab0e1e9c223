import { createHash } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import { isSafeId } from '../../core/ids.js';
import type {
  AppRecord,
  AuditRecord,
  BuildRecord,
  BuildSync,
  SettingsRecord,
  SnapshotRecord,
  SyncJobRecord,
  VersionRecord,
} from '../../core/model.js';
import { APP_PATCH_FIELDS, SOURCE_CONTROL_FIELDS } from './app-patch.js';
import type { AppPatch, AuditQuery, BuildWrite, WorkspaceStore } from './store-port.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SOURCE_HASH = /^sha256:[0-9a-f]{64}$/;

/**
 * Refuses input that would break the store's rules. Every refusal is
 * `GatewayError('invalid_request')`: it is the caller's mistake, nothing was written, and the HTTP
 * layer answers 400 if one ever reaches it.
 */
function refuse(message: string): never {
  throw new GatewayError('invalid_request', message);
}

/** Throws unless `workspaceId` is a safe id (it names records and mirror paths alike). */
export function assertWorkspaceId(workspaceId: unknown): asserts workspaceId is string {
  if (!isSafeId(workspaceId)) refuse('The workspace id is not valid.');
}

function requireAppId(appId: unknown): void {
  if (!isSafeId(appId)) refuse('The app id is not valid.');
}

function requireText(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0)
    refuse(`The ${what} must be a non-empty string.`);
}

function requireSourceHash(hash: unknown): void {
  if (typeof hash !== 'string' || !SOURCE_HASH.test(hash)) {
    refuse('A snapshot hash must be "sha256:" and 64 lower-case hex digits.');
  }
}

function requireSnapshot(snapshot: SnapshotRecord): void {
  requireSourceHash(snapshot.hash);
  if (!Array.isArray(snapshot.files)) refuse('A snapshot must list its files.');
}

function requirePatchShape(patch: AppPatch): void {
  for (const key of Object.keys(patch)) {
    if (!APP_PATCH_FIELDS.has(key)) refuse(`An app patch cannot set "${key}".`);
  }
  requireSourceControlShape(patch.sourceControl);
}

function requireSourceControlShape(sourceControl: object | undefined): void {
  for (const key of Object.keys(sourceControl ?? {})) {
    if (!SOURCE_CONTROL_FIELDS.has(key)) refuse(`Source control has no field "${key}".`);
  }
}

/**
 * The boundary every adapter's workspace view sits behind: it counts each mutating call, checks
 * that records belong to the view's workspace and that keys are well formed, then hands over to
 * the adapter, which trusts its input. Readers pass straight through: a lookup of a malformed or
 * foreign id simply finds nothing.
 */
export class GuardedWorkspace implements WorkspaceStore {
  readonly workspaceId: string;
  private readonly inner: WorkspaceStore;
  private readonly countWrite: () => void;

  constructor(inner: WorkspaceStore, countWrite: () => void) {
    this.workspaceId = inner.workspaceId;
    this.inner = inner;
    this.countWrite = countWrite;
  }

  getApp(appId: string) {
    return this.inner.getApp(appId);
  }

  listApps() {
    return this.inner.listApps();
  }

  getSnapshot(hash: string) {
    return this.inner.getSnapshot(hash);
  }

  getBlob(sha256: string) {
    return this.inner.getBlob(sha256);
  }

  hasBlobs(sha256s: readonly string[]) {
    return this.inner.hasBlobs(sha256s);
  }

  getBuild(appId: string, buildId: string) {
    return this.inner.getBuild(appId, buildId);
  }

  listBuilds(appId: string, limit?: number) {
    return this.inner.listBuilds(appId, limit);
  }

  getVersion(appId: string, version: number) {
    return this.inner.getVersion(appId, version);
  }

  listVersions(appId: string) {
    return this.inner.listVersions(appId);
  }

  getSettings() {
    return this.inner.getSettings();
  }

  getJob(jobId: string) {
    return this.inner.getJob(jobId);
  }

  unfinishedJobsOfApp(appId: string) {
    return this.inner.unfinishedJobsOfApp(appId);
  }

  unfinishedJobsOfWorkspace() {
    return this.inner.unfinishedJobsOfWorkspace();
  }

  listAudit(query?: AuditQuery) {
    return this.inner.listAudit(query);
  }

  getSecret(name: string) {
    return this.inner.getSecret(name);
  }

  async createApp(app: AppRecord): Promise<void> {
    this.countWrite();
    this.requireNewApp(app);
    return this.inner.createApp(app);
  }

  async patchApp(appId: string, patch: AppPatch): Promise<AppRecord | null> {
    this.countWrite();
    requirePatchShape(patch);
    return this.inner.patchApp(appId, patch);
  }

  async putBlob(sha256: string, content: Buffer): Promise<void> {
    this.countWrite();
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
      refuse('A blob key must be 64 lower-case hex digits.');
    }
    if (!Buffer.isBuffer(content)) refuse('A blob must be a Buffer.');

    // The store is content-addressed and never rewrites a blob it holds, so a wrong key would
    // serve wrong content for good: one hash pass per new blob is the price of never storing one.
    if (createHash('sha256').update(content).digest('hex') !== sha256) {
      refuse('The blob content does not match its sha256.');
    }
    return this.inner.putBlob(sha256, content);
  }

  async putSnapshot(snapshot: SnapshotRecord): Promise<void> {
    this.countWrite();
    this.requireOwn(snapshot, 'snapshot');
    requireSnapshot(snapshot);
    return this.inner.putSnapshot(snapshot);
  }

  async saveBuild(write: BuildWrite): Promise<AppRecord> {
    this.countWrite();
    const { snapshot, build, draft, job } = write;
    this.requireOwn(snapshot, 'snapshot');
    this.requireOwn(build, 'build');
    requireSnapshot(snapshot);
    requireAppId(build.appId);
    requireText(build.id, 'build id');
    if (build.snapshotHash !== snapshot.hash) refuse('The build names another snapshot.');
    if (draft.buildId !== build.id || draft.snapshotHash !== snapshot.hash) {
      refuse('The draft must point at the build being saved.');
    }
    requireSourceControlShape(write.sourceControl);
    if (job !== undefined) this.requireJob(job, build);
    if (write.createApp !== undefined) this.requireNewApp(write.createApp, build);
    return this.inner.saveBuild(write);
  }

  async updateBuildSync(appId: string, buildId: string, sync: BuildSync): Promise<void> {
    this.countWrite();
    return this.inner.updateBuildSync(appId, buildId, sync);
  }

  async insertVersion(version: VersionRecord): Promise<boolean> {
    this.countWrite();
    this.requireOwn(version, 'version');
    requireAppId(version.appId);
    if (!Number.isInteger(version.version) || version.version < 1) {
      refuse('A version number must be a positive integer.');
    }
    return this.inner.insertVersion(version);
  }

  async markVersionPushed(appId: string, version: number): Promise<void> {
    this.countWrite();
    return this.inner.markVersionPushed(appId, version);
  }

  async putSettings(settings: SettingsRecord): Promise<void> {
    this.countWrite();
    this.requireOwn(settings, 'settings');
    return this.inner.putSettings(settings);
  }

  async deleteSettings(): Promise<void> {
    this.countWrite();
    return this.inner.deleteSettings();
  }

  async putJob(job: SyncJobRecord): Promise<void> {
    this.countWrite();
    this.requireJob(job);
    return this.inner.putJob(job);
  }

  async appendAudit(event: AuditRecord): Promise<void> {
    this.countWrite();
    this.requireOwn(event, 'audit event');
    requireText(event.id, 'audit event id');
    return this.inner.appendAudit(event);
  }

  async putSecret(name: string, value: string): Promise<void> {
    this.countWrite();
    requireText(name, 'secret name');
    if (typeof value !== 'string') refuse('A secret value must be a string.');
    return this.inner.putSecret(name, value);
  }

  async deleteSecret(name: string): Promise<void> {
    this.countWrite();
    return this.inner.deleteSecret(name);
  }

  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    this.countWrite();
    requireText(key, 'lease key');
    requireText(holder, 'lease holder');
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) refuse('A lease needs a positive duration.');
    return this.inner.acquireLease(key, holder, ttlMs);
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    this.countWrite();
    return this.inner.releaseLease(key, holder);
  }

  private requireOwn(record: { workspaceId: string } | null | undefined, what: string): void {
    if (record?.workspaceId !== this.workspaceId) {
      refuse(`The ${what} belongs to another workspace.`);
    }
  }

  /** An app to create: alone, or in a build's write as the app that build belongs to. */
  private requireNewApp(app: AppRecord, build?: BuildRecord): void {
    this.requireOwn(app, 'app');
    requireAppId(app.id);
    requireSourceControlShape(app.sourceControl);
    if (build !== undefined && app.id !== build.appId) refuse('The build names another app.');
  }

  private requireJob(job: SyncJobRecord, build?: BuildRecord): void {
    this.requireOwn(job, 'sync job');
    requireAppId(job.appId);
    requireText(job.id, 'sync job id');
    if (build !== undefined && job.appId !== build.appId) refuse('The job names another app.');
  }
}
