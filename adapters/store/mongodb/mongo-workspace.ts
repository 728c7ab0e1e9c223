import { createHash } from 'node:crypto';
import type { ClientSession, MongoClient } from 'mongodb';
import { GatewayError } from '../../../core/errors.js';
import type {
  AppRecord,
  AuditRecord,
  BuildRecord,
  BuildSync,
  SettingsRecord,
  SnapshotFile,
  SnapshotRecord,
  SyncJobRecord,
  VersionRecord,
} from '../../../core/model.js';
import { applyAppPatch, definedFields } from '../app-patch.js';
import { chunkCountOf, splitIntoChunks } from '../blob-chunks.js';
import { listLimit } from '../list-limits.js';
import { isSameBuild } from '../same-build.js';
import type { AppPatch, AuditQuery, BuildWrite, WorkspaceStore } from '../store-port.js';
import {
  bytesOf,
  INLINE_FILE_LIST_BYTES,
  isDuplicateKey,
  type GatewayCollections,
  type SnapshotDocument,
} from './mongo-collections.js';
import { atMoment, buildMoment } from '../build-moment.js';

/** Reads answer records as they were written: without MongoDB's `_id`. */
const NO_ID = { projection: { _id: 0 } } as const;

const NOT_DONE_STATES = ['queued', 'running', 'failed'] as const;

function noSuchApp(): GatewayError {
  return new GatewayError('not_found', 'The app does not exist in this workspace.');
}

function appExists(): GatewayError {
  return new GatewayError('invalid_request', 'An app with this id exists.');
}

/** What a patch sets, as `$set` paths: the source-control block field by field. */
function appUpdate(patch: AppPatch, now: string): Record<string, unknown> {
  const set: Record<string, unknown> = { updatedAt: now };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.draft !== undefined) set.draft = patch.draft;
  if (patch.installedFrom !== undefined) set.installedFrom = patch.installedFrom;
  for (const [field, value] of Object.entries(definedFields(patch.sourceControl ?? {}))) {
    set[`sourceControl.${field}`] = value;
  }
  return set;
}

/** What a workspace view shares with its store. */
export interface MongoWorkspaceOptions {
  client: MongoClient;
  collections: GatewayCollections;
  workspaceId: string;
  /** Whether the deployment runs multi-document transactions (a replica set or sharded cluster). */
  transactions: boolean;
}

/**
 * One workspace of the MongoDB store. Every filter and every inserted document carries
 * `workspaceId`; the guard in front has already checked the input.
 */
export class MongoWorkspace implements WorkspaceStore {
  readonly workspaceId: string;
  private readonly client: MongoClient;
  private readonly c: GatewayCollections;
  private readonly transactions: boolean;

  constructor(options: MongoWorkspaceOptions) {
    this.client = options.client;
    this.c = options.collections;
    this.workspaceId = options.workspaceId;
    this.transactions = options.transactions;
  }

  async getApp(appId: string): Promise<AppRecord | null> {
    return this.c.apps.findOne({ workspaceId: this.workspaceId, id: appId }, NO_ID);
  }

  async listApps(): Promise<AppRecord[]> {
    return this.c.apps
      .find({ workspaceId: this.workspaceId }, NO_ID)
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
  }

  async getSnapshot(hash: string): Promise<SnapshotRecord | null> {
    const doc = await this.c.snapshots.findOne({ workspaceId: this.workspaceId, hash }, NO_ID);
    if (doc === null) return null;

    const filesJson = doc.filesJson ?? (await this.readBlob(doc.filesBlob ?? ''))?.toString('utf8');
    if (filesJson === undefined) {
      throw new GatewayError('internal', `The file list of snapshot ${hash} is missing.`);
    }
    return {
      workspaceId: doc.workspaceId,
      hash: doc.hash,
      files: JSON.parse(filesJson) as SnapshotFile[],
      fileCount: doc.fileCount,
      totalBytes: doc.totalBytes,
      createdAt: doc.createdAt,
    };
  }

  async getBlob(sha256: string): Promise<Buffer | null> {
    return this.readBlob(sha256);
  }

  async hasBlobs(sha256s: readonly string[]): Promise<Set<string>> {
    if (sha256s.length === 0) return new Set();

    const held = await this.c.blobs
      .find(
        { workspaceId: this.workspaceId, sha256: { $in: [...sha256s] } },
        { projection: { _id: 0, sha256: 1 } },
      )
      .toArray();
    return new Set(held.map((blob) => blob.sha256));
  }

  async getBuild(appId: string, buildId: string): Promise<BuildRecord | null> {
    return this.c.builds.findOne({ workspaceId: this.workspaceId, appId, id: buildId }, NO_ID);
  }

  async listBuilds(appId: string, limit?: number): Promise<BuildRecord[]> {
    return this.c.builds
      .find({ workspaceId: this.workspaceId, appId }, NO_ID)
      .sort({ createdAt: -1, _id: -1 })
      .limit(listLimit(limit))
      .toArray();
  }

  async getVersion(appId: string, version: number): Promise<VersionRecord | null> {
    return this.c.versions.findOne({ workspaceId: this.workspaceId, appId, version }, NO_ID);
  }

  async listVersions(appId: string): Promise<VersionRecord[]> {
    return this.c.versions
      .find({ workspaceId: this.workspaceId, appId }, NO_ID)
      .sort({ version: -1 })
      .toArray();
  }

  async getSettings(): Promise<SettingsRecord | null> {
    return this.c.settings.findOne({ workspaceId: this.workspaceId }, NO_ID);
  }

  async getJob(jobId: string): Promise<SyncJobRecord | null> {
    return this.c.syncJobs.findOne({ workspaceId: this.workspaceId, id: jobId }, NO_ID);
  }

  async unfinishedJobsOfApp(appId: string): Promise<SyncJobRecord[]> {
    return this.c.syncJobs
      .find({ workspaceId: this.workspaceId, appId, state: { $in: [...NOT_DONE_STATES] } }, NO_ID)
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
  }

  async unfinishedJobsOfWorkspace(): Promise<SyncJobRecord[]> {
    return this.c.syncJobs
      .find({ workspaceId: this.workspaceId, state: { $in: [...NOT_DONE_STATES] } }, NO_ID)
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const filter =
      query.appId === undefined
        ? { workspaceId: this.workspaceId }
        : { workspaceId: this.workspaceId, appId: query.appId };
    return this.c.auditEvents
      .find(filter, NO_ID)
      .sort({ at: -1, _id: -1 })
      .limit(listLimit(query.limit))
      .toArray();
  }

  async getSecret(name: string): Promise<string | null> {
    const doc = await this.c.secrets.findOne({ workspaceId: this.workspaceId, name }, NO_ID);
    return doc?.value ?? null;
  }

  async createApp(app: AppRecord): Promise<void> {
    await this.insertApp(app);
  }

  async patchApp(appId: string, patch: AppPatch): Promise<AppRecord | null> {
    return this.c.apps.findOneAndUpdate(
      { workspaceId: this.workspaceId, id: appId },
      { $set: appUpdate(patch, new Date().toISOString()) },
      { returnDocument: 'after', projection: { _id: 0 } },
    );
  }

  async putBlob(sha256: string, content: Buffer): Promise<void> {
    await this.writeBlob(sha256, content);
  }

  async putSnapshot(snapshot: SnapshotRecord): Promise<void> {
    const doc = await this.snapshotDocument(snapshot);
    await this.upsertSnapshot(doc);
  }

  /**
   * On a replica set (or a sharded cluster) the whole write is one transaction. A standalone
   * server has no transactions, so there the steps run in an order that a retry of the same
   * write completes: the snapshot (content-addressed), the build (keyed by id; the same build
   * again is accepted as a retry), the job (keyed by id), and last the app, whose draft move is
   * what makes the build current. That last step is one document write whatever the write
   * carries: a new app is inserted whole with its draft already set, and `installedFrom` moves
   * in the same update as the draft, so no reader ever sees an app without its draft or a draft
   * with the version it came from still unmoved.
   *
   * What a standalone server costs: a crash between steps leaves a snapshot, a build in the
   * history, and possibly a queued job whose draft never moved until the write is retried, and
   * readers can see those steps before the last one lands. For a new app the build (and job)
   * name an app that does not exist yet: no listing shows them, and the sync runner skips a
   * job whose app is missing. The same write run again finishes it (the app is still absent,
   * the build is taken as a retry); a caller that starts over with new ids instead leaves
   * those rows behind, costing space only. Use a replica set (a single-member one is enough)
   * in production.
   */
  async saveBuild(write: BuildWrite): Promise<AppRecord> {
    // The file list of a huge snapshot goes to the blob store first, outside any transaction:
    // it is content-addressed, so a write that fails after it leaves nothing that is wrong.
    const snapshotDoc = await this.snapshotDocument(write.snapshot);

    if (!this.transactions) return this.saveBuildSteps(write, snapshotDoc);

    const session = this.client.startSession();
    try {
      return await session.withTransaction(() => this.saveBuildSteps(write, snapshotDoc, session));
    } finally {
      await session.endSession();
    }
  }

  async updateBuildSync(appId: string, buildId: string, sync: BuildSync): Promise<void> {
    const { matchedCount } = await this.c.builds.updateOne(
      { workspaceId: this.workspaceId, appId, id: buildId },
      { $set: { sync } },
    );
    if (matchedCount === 0) throw new GatewayError('not_found', 'The build does not exist.');
  }

  async insertVersion(version: VersionRecord): Promise<boolean> {
    await this.requireApp(version.appId);
    try {
      await this.c.versions.insertOne({ ...version });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async markVersionPushed(appId: string, version: number): Promise<void> {
    const { matchedCount } = await this.c.versions.updateOne(
      { workspaceId: this.workspaceId, appId, version },
      { $set: { pushed: true } },
    );
    if (matchedCount === 0) throw new GatewayError('not_found', 'The version does not exist.');
  }

  async putSettings(settings: SettingsRecord): Promise<void> {
    await this.c.settings.replaceOne(
      { workspaceId: this.workspaceId },
      { ...settings },
      {
        upsert: true,
      },
    );
  }

  async deleteSettings(): Promise<void> {
    await this.c.settings.deleteOne({ workspaceId: this.workspaceId });
  }

  async putJob(job: SyncJobRecord): Promise<void> {
    await this.requireApp(job.appId);
    await this.requireJobOfApp(job);
    await this.upsertJob(job);
  }

  async appendAudit(event: AuditRecord): Promise<void> {
    // Keyed by id, so appending an event again (a retried request) keeps one copy.
    await this.c.auditEvents.updateOne(
      { workspaceId: this.workspaceId, id: event.id },
      { $setOnInsert: { ...event } },
      { upsert: true },
    );
  }

  async putSecret(name: string, value: string): Promise<void> {
    await this.c.secrets.replaceOne(
      { workspaceId: this.workspaceId, name },
      { workspaceId: this.workspaceId, name, value, updatedAt: new Date().toISOString() },
      { upsert: true },
    );
  }

  async deleteSecret(name: string): Promise<void> {
    await this.c.secrets.deleteOne({ workspaceId: this.workspaceId, name });
  }

  /**
   * One atomic findOneAndUpdate: it matches the lease only when it expired or is already ours;
   * when another holder's live lease exists the filter misses, the upsert tries to insert a
   * second document for the key, and the unique index refuses it. Expiry uses this process's
   * clock, so replicas sharing a database need clocks in step (NTP) to well under the ttl.
   */
  async acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = new Date();
    try {
      await this.c.leases.findOneAndUpdate(
        {
          workspaceId: this.workspaceId,
          key,
          $or: [{ holder }, { expiresAt: { $lte: now } }],
        },
        { $set: { holder, expiresAt: new Date(now.getTime() + ttlMs) } },
        { upsert: true },
      );
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    await this.c.leases.deleteOne({ workspaceId: this.workspaceId, key, holder });
  }

  private async saveBuildSteps(
    incoming: BuildWrite,
    snapshotDoc: SnapshotDocument,
    session?: ClientSession,
  ): Promise<AppRecord> {
    const ws = this.workspaceId;
    // Read inside the transaction where there is one; on a standalone server two writers can
    // still take the same moment, and their order then falls to the document ids.
    const held = await this.c.builds.findOne(
      { workspaceId: ws, id: incoming.build.id },
      { session },
    );
    const newest = await this.c.builds.findOne(
      { workspaceId: ws, appId: incoming.build.appId },
      { session, sort: { createdAt: -1 }, projection: { createdAt: 1 } },
    );
    const write = atMoment(
      incoming,
      buildMoment(incoming.build.createdAt, held?.createdAt ?? null, newest?.createdAt ?? null),
    );
    const { build, draft, sourceControl, job, installedFrom, createApp } = write;

    // Checks first, so a refused write (no app, an app that exists already, a conflicting id)
    // writes nothing even without a transaction.
    const app = await this.c.apps.findOne({ workspaceId: ws, id: build.appId }, { session });
    if (app === null && createApp === undefined) throw noSuchApp();
    if (app !== null && createApp !== undefined) throw appExists();
    if (held !== null && !isSameBuild(held, build)) {
      throw new GatewayError('invalid_request', 'A different build with this id exists.');
    }
    if (job !== undefined) await this.requireJobOfApp(job, session);

    await this.upsertSnapshot(snapshotDoc, session);
    if (held === null) {
      await this.c.builds.updateOne(
        { workspaceId: ws, id: build.id },
        { $setOnInsert: { ...build } },
        { upsert: true, session },
      );
    }
    if (job !== undefined) await this.upsertJob(job, session);

    const patch = { draft, sourceControl, installedFrom };
    const now = new Date().toISOString();
    if (createApp !== undefined) {
      const created = applyAppPatch(createApp, patch, now);
      await this.insertApp(created, session);
      return created;
    }

    const updated = await this.c.apps.findOneAndUpdate(
      { workspaceId: ws, id: build.appId },
      { $set: appUpdate(patch, now) },
      { returnDocument: 'after', projection: { _id: 0 }, session },
    );
    if (updated === null) throw noSuchApp();
    return updated;
  }

  private async insertApp(app: AppRecord, session?: ClientSession): Promise<void> {
    try {
      // A copy: the driver writes the generated `_id` into the document it is handed.
      await this.c.apps.insertOne({ ...app }, { session });
    } catch (error) {
      if (isDuplicateKey(error)) throw appExists();
      throw error;
    }
  }

  private async snapshotDocument(snapshot: SnapshotRecord): Promise<SnapshotDocument> {
    const { files, ...rest } = snapshot;
    const filesJson = JSON.stringify(files);
    if (Buffer.byteLength(filesJson) <= INLINE_FILE_LIST_BYTES) return { ...rest, filesJson };

    const content = Buffer.from(filesJson, 'utf8');
    const filesBlob = createHash('sha256').update(content).digest('hex');
    await this.writeBlob(filesBlob, content);
    return { ...rest, filesBlob };
  }

  private async upsertSnapshot(doc: SnapshotDocument, session?: ClientSession): Promise<void> {
    try {
      await this.c.snapshots.updateOne(
        { workspaceId: this.workspaceId, hash: doc.hash },
        { $setOnInsert: doc },
        { upsert: true, session },
      );
    } catch (error) {
      // Two writers upserting one new hash at once: the other one stored the same content.
      if (!isDuplicateKey(error)) throw error;
    }
  }

  private async upsertJob(job: SyncJobRecord, session?: ClientSession): Promise<void> {
    await this.c.syncJobs.replaceOne(
      { workspaceId: this.workspaceId, id: job.id },
      { ...job },
      {
        upsert: true,
        session,
      },
    );
  }

  private async requireApp(appId: string): Promise<void> {
    const app = await this.c.apps.findOne(
      { workspaceId: this.workspaceId, id: appId },
      { projection: { _id: 1 } },
    );
    if (app === null) throw noSuchApp();
  }

  /** A job id already held by another app's job is a conflict, never a move. */
  private async requireJobOfApp(job: SyncJobRecord, session?: ClientSession): Promise<void> {
    const held = await this.c.syncJobs.findOne(
      { workspaceId: this.workspaceId, id: job.id },
      { projection: { _id: 0, appId: 1 }, session },
    );
    if (held !== null && held.appId !== job.appId) {
      throw new GatewayError('invalid_request', 'A job with this id exists.');
    }
  }

  /**
   * Chunks first, the header last: a header exists only once every chunk does, and a write cut
   * short leaves chunks that the next write of the same content upserts again.
   */
  private async writeBlob(sha256: string, content: Buffer): Promise<void> {
    const ws = this.workspaceId;
    const header = await this.c.blobs.findOne(
      { workspaceId: ws, sha256 },
      { projection: { _id: 1 } },
    );
    if (header !== null) return;

    const chunks = splitIntoChunks(content);
    for (const [seq, data] of chunks.entries()) {
      await this.c.blobChunks.updateOne(
        { workspaceId: ws, sha256, seq },
        { $setOnInsert: { workspaceId: ws, sha256, seq, data } },
        { upsert: true },
      );
    }

    try {
      await this.c.blobs.updateOne(
        { workspaceId: ws, sha256 },
        {
          $setOnInsert: {
            workspaceId: ws,
            sha256,
            size: content.length,
            chunkCount: chunkCountOf(content.length),
            createdAt: new Date().toISOString(),
          },
        },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  private async readBlob(sha256: string): Promise<Buffer | null> {
    const ws = this.workspaceId;
    const header = await this.c.blobs.findOne({ workspaceId: ws, sha256 }, NO_ID);
    if (header === null) return null;

    const chunks = await this.c.blobChunks
      .find({ workspaceId: ws, sha256 }, { projection: { _id: 0, data: 1 } })
      .sort({ seq: 1 })
      .toArray();
    const content = Buffer.concat(chunks.map((chunk) => bytesOf(chunk.data)));
    if (chunks.length !== header.chunkCount || content.length !== header.size) {
      throw new GatewayError('internal', `Blob ${sha256} is incomplete in the database.`);
    }
    return content;
  }
}
