import { isKeptByBundleFilter } from '../../core/app-bundle-filter.js';
import { GatewayError } from '../../core/errors.js';
import type { SnapshotRecord } from '../../core/model.js';
import type { Store } from '../../adapters/store/store-port.js';
import type { Logger } from 'pino';
import { silentLogger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { ByteLru } from './byte-lru.js';
import { contentTypeOf } from './content-types.js';
import { DRAFT_CACHE_CONTROL, previewHeaders, VERSION_CACHE_CONTROL } from './preview-headers.js';

/** One servable file of a snapshot's `dist/`, with its answer headers ready. */
export interface PreviewFile {
  sha256: string;
  size: number;
  /** The quoted sha256. */
  etag: string;
  draftHeaders: Readonly<Record<string, string>>;
  versionHeaders: Readonly<Record<string, string>>;
}

/** Servable files by their path below `dist/`. */
export type PreviewFiles = ReadonlyMap<string, PreviewFile>;

export interface PreviewServiceOptions {
  store: Store;
  metrics: GatewayMetrics;
  logger?: Logger;
  /** Bytes of file contents kept in memory (default 64 MiB). */
  blobCacheBytes?: number;
  /** Files, summed over snapshots, whose path maps are kept (default 200,000). */
  snapshotCacheFiles?: number;
  /** How long an app's draft pointer is trusted without reading the app again (default 1 s). */
  draftTtlMs?: number;
  now?: () => number;
}

/**
 * Serves app pages from the store: the draft's or a version's `dist/`, through three in-process
 * caches. Snapshots and blobs are immutable (keyed by hashes), so those caches never go stale
 * and are bounded by memory only. The draft pointer does move: this process forgets it when it
 * saves a build, and another replica's build is seen within `draftTtlMs`.
 */
export interface PreviewService {
  /** The servable files of an app's draft or version, or `not_found`. */
  files(workspaceId: string, appId: string, version: number | null): Promise<PreviewFiles>;
  /** The cached files of a draft or version when still fresh, else undefined (no I/O). */
  cachedFiles(workspaceId: string, appId: string, version: number | null): PreviewFiles | undefined;
  /** The content of one file. */
  content(workspaceId: string, file: PreviewFile): Promise<Buffer>;
  /** The content of one file when it is in memory, else undefined (no I/O). */
  cachedContent(file: PreviewFile): Buffer | undefined;
  /** Drops what is known of an app's draft (after a build of it was saved). */
  forgetDraft(workspaceId: string, appId: string): void;
}

interface DraftPointer {
  files: PreviewFiles;
  until: number;
}

class FileCount {
  constructor(readonly files: PreviewFiles) {}
  get byteLength(): number {
    return this.files.size;
  }
}

const MAX_VERSION_POINTERS = 10_000;

export function createPreviewService(options: PreviewServiceOptions): PreviewService {
  const { store, metrics } = options;
  const logger = options.logger ?? silentLogger();
  const now = options.now ?? Date.now;
  const draftTtlMs = options.draftTtlMs ?? 1000;

  const blobs = new ByteLru<string, Buffer>(options.blobCacheBytes ?? 64 * 1024 * 1024);
  // Bounded by file count: a map costs about the same per file whatever the file's size.
  const snapshots = new ByteLru<string, FileCount>(options.snapshotCacheFiles ?? 200_000, Infinity);
  const drafts = new Map<string, DraftPointer>();
  const versions = new Map<string, PreviewFiles>();
  const pendingBlobs = new Map<string, Promise<Buffer>>();

  const pointerKey = (workspaceId: string, appId: string, version: number | null) =>
    version === null ? `${workspaceId}/${appId}` : `${workspaceId}/${appId}/${version}`;

  const cachedFiles = (workspaceId: string, appId: string, version: number | null) => {
    const key = pointerKey(workspaceId, appId, version);
    if (version !== null) return versions.get(key);

    const pointer = drafts.get(key);
    if (pointer === undefined || pointer.until < now()) return undefined;
    return pointer.files;
  };

  const snapshotFiles = async (workspaceId: string, hash: string): Promise<PreviewFiles | null> => {
    const key = `${workspaceId}\0${hash}`;
    const cached = snapshots.get(key);
    if (cached !== undefined) return cached.files;

    const snapshot = await store.reader(workspaceId).getSnapshot(hash);
    if (snapshot === null) return null;

    const files = servableFiles(snapshot);
    snapshots.set(key, new FileCount(files));
    return files;
  };

  const files = async (workspaceId: string, appId: string, version: number | null) => {
    const hit = cachedFiles(workspaceId, appId, version);
    if (hit !== undefined) return hit;

    const reader = store.reader(workspaceId);
    let hash: string;
    if (version === null) {
      const app = await reader.getApp(appId);
      if (app === null) throw new GatewayError('not_found');
      if (app.draft === null)
        throw new GatewayError('not_found', 'The app has no build to preview yet.');
      hash = app.draft.snapshotHash;
    } else {
      const record = await reader.getVersion(appId, version);
      if (record === null) throw new GatewayError('not_found', 'no such version');
      // Snapshots are keyed by source hash, so a version's source hash names its snapshot.
      hash = record.sourceHash;
    }

    const found = await snapshotFiles(workspaceId, hash);
    if (found === null) {
      logger.warn(
        { ws: workspaceId, appId, version, hash },
        'preview: the snapshot is not in the store',
      );
      throw new GatewayError('not_found', version === null ? undefined : 'no such version');
    }

    const key = pointerKey(workspaceId, appId, version);
    if (version === null) {
      drafts.set(key, { files: found, until: now() + draftTtlMs });
    } else {
      if (versions.size >= MAX_VERSION_POINTERS) versions.clear();
      versions.set(key, found);
    }
    return found;
  };

  const cachedContent = (file: PreviewFile): Buffer | undefined => {
    const hit = blobs.get(file.sha256);
    if (hit !== undefined) metrics.countPreviewCache('hit');
    return hit;
  };

  const content = async (workspaceId: string, file: PreviewFile): Promise<Buffer> => {
    const hit = cachedContent(file);
    if (hit !== undefined) return hit;

    metrics.countPreviewCache('miss');
    // Many requests for one cold file share a single store read.
    const pending = pendingBlobs.get(file.sha256);
    if (pending !== undefined) return pending;

    const read = (async () => {
      try {
        const blob = await store.reader(workspaceId).getBlob(file.sha256);
        if (blob === null) throw new Error(`blob ${file.sha256} of a stored snapshot is missing`);
        blobs.set(file.sha256, blob);
        return blob;
      } finally {
        pendingBlobs.delete(file.sha256);
      }
    })();
    pendingBlobs.set(file.sha256, read);
    return read;
  };

  return {
    files,
    cachedFiles,
    content,
    cachedContent,
    forgetDraft(workspaceId, appId) {
      drafts.delete(pointerKey(workspaceId, appId, null));
    },
  };
}

const DIST = 'dist/';

/** The files of a snapshot a preview may serve: under `dist/`, kept by the app-bundle filter. */
function servableFiles(snapshot: SnapshotRecord): PreviewFiles {
  const files = new Map<string, PreviewFile>();
  for (const file of snapshot.files) {
    if (!file.path.startsWith(DIST) || !isKeptByBundleFilter(file.path)) continue;

    const path = file.path.slice(DIST.length);
    const contentType = contentTypeOf(path);
    const etag = `"${file.sha256}"`;
    files.set(path, {
      sha256: file.sha256,
      size: file.size,
      etag,
      draftHeaders: previewHeaders(contentType, etag, DRAFT_CACHE_CONTROL),
      versionHeaders: previewHeaders(contentType, etag, VERSION_CACHE_CONTROL),
    });
  }
  return files;
}
