import type { Logger } from 'pino';
import type { SnapshotFile, SnapshotRecord } from '../../core/model.js';
import { summarizeSource } from '../../core/source-hash.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';

/** What a restore caches: the verified files of one version. */
export interface RestoreCacheInput {
  workspace: WorkspaceStore;
  files: readonly { path: string; size: number; sha256: string; mode: string }[];
  logger: Logger;
}

/**
 * Fills the store with a restored version as it streams: only blobs the store lacks are asked
 * for and written, each once, and the snapshot record last, once every blob it names is held.
 * A failure here is logged and skipped: the worker has its files either way.
 */
export class RestoreCache {
  readonly #input: RestoreCacheInput;
  #writes: Promise<void> = Promise.resolve();
  #failed = false;
  /** Paths whose content the store lacks (the first path of each missing blob). */
  readonly capture = new Set<string>();
  #shaOfPath = new Map<string, string>();

  private constructor(input: RestoreCacheInput) {
    this.#input = input;
  }

  /** Looks up which blobs the store holds already. */
  static async open(input: RestoreCacheInput): Promise<RestoreCache> {
    const cache = new RestoreCache(input);
    const shas = [...new Set(input.files.map((file) => file.sha256))];
    const held = await input.workspace.hasBlobs(shas);
    const asked = new Set<string>();
    for (const file of input.files) {
      if (held.has(file.sha256) || asked.has(file.sha256)) continue;
      asked.add(file.sha256);
      cache.capture.add(file.path);
      cache.#shaOfPath.set(file.path, file.sha256);
    }
    return cache;
  }

  /** Queues one captured file's content for the store. */
  add(path: string, content: Buffer): void {
    const sha256 = this.#shaOfPath.get(path);
    if (sha256 === undefined) return;
    const { workspace } = this.#input;
    this.#writes = this.#writes.then(async () => {
      if (!this.#failed) await workspace.putBlob(sha256, content);
    });
    this.#writes.catch(() => (this.#failed = true));
  }

  /** Waits for the blobs, then stores the snapshot record unless the store holds it already. */
  async finish(): Promise<void> {
    const { workspace, files, logger } = this.#input;
    try {
      await this.#writes;
      const summary = summarizeSource(files);
      if (await workspace.getSnapshot(summary.hash)) return;

      const held = await workspace.hasBlobs([...new Set(files.map((file) => file.sha256))]);
      if (files.some((file) => !held.has(file.sha256))) {
        logger.warn(
          { hash: summary.hash },
          'the restore ended before every file reached the store; skipping the snapshot cache',
        );
        return;
      }

      const snapshot: SnapshotRecord = {
        workspaceId: workspace.workspaceId,
        hash: summary.hash,
        files: files.map((file): SnapshotFile => ({
          path: file.path,
          size: file.size,
          sha256: file.sha256,
          ...(file.mode === '100755' ? { executable: true } : {}),
        })),
        fileCount: summary.fileCount,
        totalBytes: summary.totalBytes,
        createdAt: new Date().toISOString(),
      };
      await workspace.putSnapshot(snapshot);
    } catch (error) {
      logger.error(
        { err: error },
        'caching the restored snapshot in the store failed; skipping it',
      );
    }
  }
}
