import type { Binary, Collection, Db, IndexDescription } from 'mongodb';
import type {
  AppRecord,
  AuditRecord,
  BuildRecord,
  SettingsRecord,
  SyncJobRecord,
  VersionRecord,
} from '../../../core/model.js';

/** A snapshot's file list is kept in the document up to this size, as a blob beyond it. */
export const INLINE_FILE_LIST_BYTES = 8 * 1024 * 1024;

/**
 * A snapshot as stored. The file list is JSON (it is never queried): inline when small, else in
 * the workspace's blob store under `filesBlob`, because 50,000 long paths would pass the 16 MB
 * document limit.
 */
export interface SnapshotDocument {
  workspaceId: string;
  hash: string;
  fileCount: number;
  totalBytes: number;
  createdAt: string;
  filesJson?: string;
  filesBlob?: string;
}

/** A blob's header; written after its chunks, so a header always has all of them. */
export interface BlobDocument {
  workspaceId: string;
  sha256: string;
  size: number;
  chunkCount: number;
  createdAt: string;
}

/** One piece of a blob, in order by `seq`, each far below the 16 MB document limit. */
export interface BlobChunkDocument {
  workspaceId: string;
  sha256: string;
  seq: number;
  data: Binary | Buffer;
}

/** An opaque secret value, sealed by the secret store before it gets here. */
export interface SecretDocument {
  workspaceId: string;
  name: string;
  value: string;
  updatedAt: string;
}

/** Who holds a lease and until when. */
export interface LeaseDocument {
  workspaceId: string;
  key: string;
  holder: string;
  expiresAt: Date;
}

/** The gateway's collections. Every document carries `workspaceId`; every index leads with it. */
export interface GatewayCollections {
  apps: Collection<AppRecord>;
  snapshots: Collection<SnapshotDocument>;
  blobs: Collection<BlobDocument>;
  blobChunks: Collection<BlobChunkDocument>;
  builds: Collection<BuildRecord>;
  versions: Collection<VersionRecord>;
  settings: Collection<SettingsRecord>;
  syncJobs: Collection<SyncJobRecord>;
  auditEvents: Collection<AuditRecord>;
  secrets: Collection<SecretDocument>;
  leases: Collection<LeaseDocument>;
}

/** The indexes of each collection: unique exactly where the SQLite schema has a key. */
const INDEXES: Record<keyof GatewayCollections, IndexDescription[]> = {
  apps: [
    { key: { workspaceId: 1, id: 1 }, unique: true },
    { key: { workspaceId: 1, createdAt: 1 } },
  ],
  snapshots: [{ key: { workspaceId: 1, hash: 1 }, unique: true }],
  blobs: [{ key: { workspaceId: 1, sha256: 1 }, unique: true }],
  blobChunks: [{ key: { workspaceId: 1, sha256: 1, seq: 1 }, unique: true }],
  builds: [
    { key: { workspaceId: 1, id: 1 }, unique: true },
    { key: { workspaceId: 1, appId: 1, createdAt: -1 } },
  ],
  versions: [{ key: { workspaceId: 1, appId: 1, version: 1 }, unique: true }],
  settings: [{ key: { workspaceId: 1 }, unique: true }],
  syncJobs: [
    { key: { workspaceId: 1, id: 1 }, unique: true },
    { key: { state: 1, createdAt: 1 } },
    { key: { workspaceId: 1, appId: 1, state: 1, createdAt: 1 } },
    // A workspace's jobs that are not done, without reading the done ones piling up behind them.
    { key: { workspaceId: 1, state: 1, createdAt: 1 } },
  ],
  auditEvents: [
    { key: { workspaceId: 1, id: 1 }, unique: true },
    { key: { workspaceId: 1, at: -1 } },
    { key: { workspaceId: 1, appId: 1, at: -1 } },
  ],
  secrets: [{ key: { workspaceId: 1, name: 1 }, unique: true }],
  leases: [{ key: { workspaceId: 1, key: 1 }, unique: true }],
};

/** The collections of `db`, by name. */
export function collectionsOf(db: Db): GatewayCollections {
  return {
    apps: db.collection('apps'),
    snapshots: db.collection('snapshots'),
    blobs: db.collection('blobs'),
    blobChunks: db.collection('blobChunks'),
    builds: db.collection('builds'),
    versions: db.collection('versions'),
    settings: db.collection('settings'),
    syncJobs: db.collection('syncJobs'),
    auditEvents: db.collection('auditEvents'),
    secrets: db.collection('secrets'),
    leases: db.collection('leases'),
  };
}

/**
 * Creates the indexes (and with them the collections, which a transaction cannot always do).
 * `createIndexes` with an index that exists in the same form does nothing, so every process runs
 * this at open.
 */
export async function ensureIndexes(collections: GatewayCollections): Promise<void> {
  for (const name of Object.keys(INDEXES) as (keyof GatewayCollections)[]) {
    await collections[name].createIndexes(INDEXES[name]);
  }
}

/** True for MongoDB's duplicate-key error (a unique index refused the write). */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 11000;
}

/** The bytes of a stored chunk, whichever form the driver handed back. */
export function bytesOf(data: Binary | Buffer | Uint8Array): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const view = data.buffer.subarray(0, data.position);
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
