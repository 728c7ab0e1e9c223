import { newId } from '../../core/ids.js';
import type { AppRecord, BuildSync, InstalledFrom } from '../../core/model.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';
import { readStagedContent, type StagedFile } from '../ingest/read-snapshot-archive.js';
import { summarizeStagedFiles } from '../ingest/snapshot-summary.js';
import type { BuildSyncPlan } from '../services/build-service.js';

/** The summary of the build an install or update makes; it also marks the build as theirs. */
export function catalogBuildSummary(kind: 'install' | 'update', from: InstalledFrom): string {
  const what = `${from.owner}/${from.repo} ${from.tag}`;
  return kind === 'install' ? `Installed from ${what}` : `Updated from ${what}`;
}

/**
 * Stores an imported version as the app's new draft build: blobs first (content-addressed, so a
 * file already held is not written again), then snapshot, build, draft and `installedFrom` in
 * one write, which for an install also creates the app. The build's time is
 * `installedFrom.installedAt`, which later tells an install's own build from one made here since.
 */
export async function saveImportedBuild(input: {
  workspace: WorkspaceStore;
  /** The app to update, or for an install the new app's record, not yet stored. */
  app: AppRecord;
  files: readonly StagedFile[];
  from: InstalledFrom;
  kind: 'install' | 'update';
  /** How the build reaches source control; an install never publishes. */
  plan: (buildId: string) => BuildSyncPlan;
}): Promise<{ app: AppRecord; plan: BuildSyncPlan }> {
  const { workspace, app, files, from } = input;
  const summary = summarizeStagedFiles(files);
  await putMissingBlobs(workspace, files);

  const buildId = newId();
  const plan = input.plan(buildId);
  const createdAt = from.installedAt;
  const sync: BuildSync = plan.sync;
  const saved = await workspace.saveBuild({
    snapshot: {
      workspaceId: workspace.workspaceId,
      hash: summary.snapshotHash,
      files: summary.files,
      fileCount: summary.fileCount,
      totalBytes: summary.totalBytes,
      createdAt,
    },
    build: {
      workspaceId: workspace.workspaceId,
      appId: app.id,
      id: buildId,
      summary: catalogBuildSummary(input.kind, from),
      snapshotHash: summary.snapshotHash,
      fileCount: summary.fileCount,
      totalBytes: summary.totalBytes,
      skipped: [],
      createdAt,
      sync,
    },
    draft: { buildId, snapshotHash: summary.snapshotHash, createdAt },
    sourceControl: plan.sourceControl,
    job: plan.job,
    // In the same write as the draft, so a crash leaves neither an installed app without its
    // draft nor an updated draft whose `installedFrom` still names the version before it.
    createApp: input.kind === 'install' ? app : undefined,
    installedFrom: from,
  });
  return { app: saved, plan };
}

async function putMissingBlobs(
  workspace: WorkspaceStore,
  files: readonly StagedFile[],
): Promise<void> {
  const bySha = new Map<string, StagedFile>();
  for (const file of files) bySha.set(file.sha256, file);
  const held = await workspace.hasBlobs([...bySha.keys()]);

  // One at a time, so memory holds one file however large the app.
  for (const [sha256, file] of bySha) {
    if (!held.has(sha256)) await workspace.putBlob(sha256, await readStagedContent(file));
  }
}
