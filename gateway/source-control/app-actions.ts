import { GatewayError } from '../../core/errors.js';
import { isSafeId, newId } from '../../core/ids.js';
import type { AppRecord, DeploymentMode } from '../../core/model.js';
import type { AppPatch, WorkspaceStore } from '../../adapters/store/store-port.js';
import { recordAudit } from '../audit/audit-log.js';
import type { EventHub } from '../events/event-hub.js';
import type { SyncRunner } from '../sync/sync-runner.js';
import { newSyncJob, planBuildSync, requeuedJob } from '../sync/sync-planner.js';

export interface AppActionDeps {
  mode: DeploymentMode;
  runner: SyncRunner;
  events: EventHub;
}

async function appOf(workspace: WorkspaceStore, appId: string): Promise<AppRecord> {
  const app = isSafeId(appId) ? await workspace.getApp(appId) : null;
  if (!app) throw new GatewayError('not_found');
  return app;
}

/**
 * The common end of every queued action: the app shows `pending`, the action is audited, open
 * pages get a hint, and the runner looks at the app's jobs.
 */
async function markQueued(
  deps: AppActionDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  action: string,
  actor: string,
  sourceControl: AppPatch['sourceControl'],
): Promise<AppRecord> {
  const updated = await workspace.patchApp(app.id, {
    sourceControl: { ...sourceControl, status: 'pending' },
  });
  await recordAudit(workspace, { actor, action, appId: app.id, outcome: 'success' });
  deps.events.publish(workspace.workspaceId, {
    type: 'source-control.status',
    appId: app.id,
    status: 'pending',
  });
  deps.runner.kick(workspace.workspaceId, app.id);
  return updated ?? app;
}

/**
 * Publish to source control (local mode, DESIGN §3): marks the app backed and queues the first
 * version of its draft. Later builds of the app then sync on their own. When the caller hands
 * the live files of a session (`saveLiveFiles`), they are saved as a build first, once the
 * publish is known to be allowed, and that build is what gets published.
 */
export async function publishApp(
  deps: AppActionDeps,
  workspace: WorkspaceStore,
  appId: string,
  actor: string,
  saveLiveFiles?: (app: AppRecord) => Promise<AppRecord>,
): Promise<AppRecord> {
  let app = await appOf(workspace, appId);
  if (deps.mode !== 'local') {
    throw new GatewayError(
      'not_supported',
      'Publishing app by app is for local installs; here the workspace storage policy decides.',
    );
  }
  if (!(await workspace.getSettings())) throw new GatewayError('not_connected');

  if (saveLiveFiles) app = await saveLiveFiles(app);
  if (!app.draft) throw new GatewayError('no_draft');

  await workspace.putJob(newSyncJob(app, 'publish', app.draft.buildId, { actor }));
  return markQueued(deps, workspace, app, 'source-control.publish', actor, {
    backed: true,
    lastError: null,
    nextRetryAt: null,
  });
}

/**
 * Runs a failed sync again at once. Jobs that were waiting on a backoff run now; jobs whose
 * retries ran out get a fresh set of attempts, in their original order.
 */
export async function retrySync(
  deps: AppActionDeps,
  workspace: WorkspaceStore,
  appId: string,
  actor: string,
): Promise<AppRecord> {
  const app = await appOf(workspace, appId);
  if (app.sourceControl.status !== 'failed') throw new GatewayError('nothing_to_retry');

  const now = new Date().toISOString();
  const jobs = await workspace.unfinishedJobsOfApp(app.id);
  for (const job of jobs) {
    if (job.state === 'running') continue;
    await workspace.putJob(requeuedJob(job, now));
  }
  if (jobs.length === 0) {
    // The failure's job is gone (for example the app was published again since): sync the draft.
    if (!app.draft) throw new GatewayError('nothing_to_retry');
    await workspace.putJob(newSyncJob(app, 'retry', app.draft.buildId, { actor }));
  }

  return markQueued(deps, workspace, app, 'source-control.retry', actor, { nextRetryAt: null });
}

/** Lists the app in Available Apps, or stops listing it: a manifest-only commit, no new tag. */
export async function shareApp(
  deps: AppActionDeps,
  workspace: WorkspaceStore,
  appId: string,
  available: unknown,
  actor: string,
): Promise<AppRecord> {
  if (typeof available !== 'boolean') {
    throw new GatewayError('invalid_request', 'Field available must be true or false.');
  }
  const app = await appOf(workspace, appId);
  const [latest] = await workspace.listVersions(app.id);
  if (!latest || !app.sourceControl.repo) throw new GatewayError('no_version');

  await workspace.putJob(newSyncJob(app, 'share', null, { actor, available }));
  return markQueued(deps, workspace, app, 'source-control.share', actor, {});
}

/**
 * Rollback: a version's files become the app's new draft, saved as a build is, so a backed app
 * gets version N+1 with that content when it differs from the latest.
 */
export async function restoreVersionAsDraft(
  deps: AppActionDeps,
  workspace: WorkspaceStore,
  appId: string,
  versionParam: string,
  actor: string,
): Promise<AppRecord> {
  const app = await appOf(workspace, appId);
  const number = /^[1-9][0-9]{0,8}$/.test(versionParam) ? Number(versionParam) : NaN;
  const version = Number.isNaN(number) ? null : await workspace.getVersion(app.id, number);
  if (!version) throw new GatewayError('not_found', 'The app has no such version.');

  const snapshot = await workspace.getSnapshot(version.sourceHash);
  if (!snapshot) {
    throw new GatewayError('not_found', `The files of ${version.tag} are not in the store.`);
  }

  const buildId = newId();
  const createdAt = new Date().toISOString();
  const plan = planBuildSync(deps.mode, await workspace.getSettings(), app, buildId, actor);
  const saved = await workspace.saveBuild({
    snapshot,
    build: {
      workspaceId: workspace.workspaceId,
      appId: app.id,
      id: buildId,
      summary: `Restored ${version.tag} as the draft`,
      snapshotHash: snapshot.hash,
      fileCount: snapshot.fileCount,
      totalBytes: snapshot.totalBytes,
      skipped: [],
      createdAt,
      sync: plan.sync,
    },
    draft: { buildId, snapshotHash: snapshot.hash, createdAt },
    sourceControl: plan.sourceControl,
    job: plan.job,
  });

  await recordAudit(workspace, {
    actor,
    action: 'app.restore-draft',
    appId: app.id,
    outcome: 'success',
  });
  deps.events.publish(workspace.workspaceId, {
    type: 'app.updated',
    appId: app.id,
    version: version.version,
  });
  if (plan.job) deps.runner.kick(workspace.workspaceId, app.id);
  return saved;
}
