import { bundleFilterReason } from '../../core/app-bundle-filter.js';
import { GatewayError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type {
  AppRecord,
  BuildRecord,
  BuildSync,
  SkippedEntry,
  SnapshotRecord,
  SourceControlRecord,
  SyncJobRecord,
} from '../../core/model.js';
import { MANIFEST_PATH } from '../../core/source-hash.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';
import type { Logger } from 'pino';
import { readStagedContent, type StagedFile } from '../ingest/read-snapshot-archive.js';
import { summarizeStagedFiles } from '../ingest/snapshot-summary.js';
import { silentLogger } from '../logger.js';

export type { StagedFile };

/** The path every snapshot must hold: the build's entry page, and the preview's root. */
export const DIST_INDEX = 'dist/index.html';

/** What a build writes besides itself so that it reaches source control. */
export interface BuildSyncPlan {
  sync: BuildSync;
  sourceControl?: Partial<SourceControlRecord>;
  job?: SyncJobRecord;
}

export interface BuildPlanInput {
  workspace: WorkspaceStore;
  app: AppRecord;
  buildId: string;
  /** The `sub` of the worker that sent the build. */
  actor: string;
}

export interface SavedBuild {
  app: AppRecord;
  build: BuildRecord;
  snapshot: SnapshotRecord;
  job: SyncJobRecord | undefined;
}

/** How a saved build reaches source control; without it, builds are stored and nothing else. */
export interface BuildSyncHooks {
  plan(input: BuildPlanInput): Promise<BuildSyncPlan>;
}

export interface BuildServiceOptions {
  logger?: Logger;
  syncHooks?: BuildSyncHooks;
  /** Called after every saved build, in order; a listener that throws is logged and skipped. */
  onSaved?: ((saved: SavedBuild) => void)[];
  now?: () => Date;
}

export interface IngestInput {
  workspace: WorkspaceStore;
  app: AppRecord;
  actor: string;
  summary: string;
  files: readonly StagedFile[];
  /** Entries the archive reader skipped already (symlinks, the root manifest). */
  skipped: readonly SkippedEntry[];
}

/** `done_building`: turns a checked upload into stored blobs, a snapshot, a build and a draft. */
export interface BuildService {
  ingest(input: IngestInput): Promise<SavedBuild>;
}

const NO_SYNC: BuildSyncHooks = {
  plan: async () => ({ sync: { status: 'disabled', version: null, error: null } }),
};

export function createBuildService(options: BuildServiceOptions = {}): BuildService {
  const logger = options.logger ?? silentLogger();
  const syncHooks = options.syncHooks ?? NO_SYNC;
  const listeners = options.onSaved ?? [];
  const now = options.now ?? (() => new Date());

  return {
    async ingest(input) {
      const { workspace, app } = input;
      const { kept, skipped } = keepBundleFiles(input.files, input.skipped);

      if (!kept.some((file) => file.path === DIST_INDEX))
        throw new GatewayError('dist_index_missing');

      const source = summarizeStagedFiles(kept);
      const createdAt = now().toISOString();

      // Blobs first: they are content-addressed, so one left behind by a failed save is harmless,
      // while a snapshot naming a blob that was never written would not be.
      await putMissingBlobs(workspace, kept);

      const buildId = newId();
      const plan = await syncHooks.plan({ workspace, app, buildId, actor: input.actor });

      const snapshot: SnapshotRecord = {
        workspaceId: workspace.workspaceId,
        hash: source.snapshotHash,
        files: source.files,
        fileCount: source.fileCount,
        totalBytes: source.totalBytes,
        createdAt,
      };
      const build: BuildRecord = {
        workspaceId: workspace.workspaceId,
        appId: app.id,
        id: buildId,
        summary: input.summary,
        snapshotHash: source.snapshotHash,
        fileCount: source.fileCount,
        totalBytes: source.totalBytes,
        skipped,
        createdAt,
        sync: plan.sync,
      };

      // The job carries the build's moment, so the outbox (ordered by creation) runs builds in
      // the order they are listed even when two saves of one app overlap.
      const job = plan.job && { ...plan.job, createdAt, updatedAt: createdAt };
      const savedApp = await workspace.saveBuild({
        snapshot,
        build,
        draft: { buildId, snapshotHash: source.snapshotHash, createdAt },
        sourceControl: plan.sourceControl,
        job,
      });

      // The store may have placed the build a moment later, after a build of the same app that
      // another process committed first; the draft carries the moment it was stored at.
      const storedAt = savedApp.draft?.createdAt ?? createdAt;
      const saved: SavedBuild = {
        app: savedApp,
        build: { ...build, createdAt: storedAt },
        snapshot,
        job: job && { ...job, createdAt: storedAt, updatedAt: storedAt },
      };
      logger.info(
        {
          ws: workspace.workspaceId,
          appId: app.id,
          buildId,
          files: source.fileCount,
          bytes: source.totalBytes,
        },
        `build ${buildId} of app ${app.id} saved: ${source.fileCount} files, ${skipped.length} skipped`,
      );

      for (const listener of listeners) {
        try {
          listener(saved);
        } catch (error) {
          logger.error(
            { err: error, appId: app.id, buildId },
            'a build listener failed; skipping it',
          );
        }
      }
      return saved;
    },
  };
}

/**
 * Splits the upload into the files the app-bundle filter keeps and the skipped list. The archive
 * reader applies the same filter as files stream in; applying it again here costs a set look-up
 * per file and keeps the store free of dropped files whichever reader produced the list. The
 * root manifest is the gateway's to write, so a worker's copy is skipped too.
 */
function keepBundleFiles(
  files: readonly StagedFile[],
  alreadySkipped: readonly SkippedEntry[],
): { kept: StagedFile[]; skipped: SkippedEntry[] } {
  const skipped = [...alreadySkipped];
  const listed = new Set(skipped.map((entry) => entry.path));
  const kept: StagedFile[] = [];

  for (const file of files) {
    const reason =
      file.path === MANIFEST_PATH
        ? 'replaced by the gateway manifest'
        : bundleFilterReason(file.path);
    if (reason === null) {
      kept.push(file);
      continue;
    }
    if (!listed.has(file.path)) skipped.push({ path: file.path, reason });
  }
  return { kept, skipped };
}

async function putMissingBlobs(
  workspace: WorkspaceStore,
  files: readonly StagedFile[],
): Promise<void> {
  const bySha = new Map<string, StagedFile>();
  for (const file of files) bySha.set(file.sha256, file);

  const held = await workspace.hasBlobs([...bySha.keys()]);

  // One at a time: a snapshot may hold files of up to 100 MiB, and memory stays bounded by one.
  for (const [sha256, file] of bySha) {
    if (held.has(sha256)) continue;
    await workspace.putBlob(sha256, await readStagedContent(file));
  }
}
