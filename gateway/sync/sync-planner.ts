import { newId } from '../../core/ids.js';
import type {
  AppRecord,
  DeploymentMode,
  SettingsRecord,
  SyncJobKind,
  SyncJobRecord,
} from '../../core/model.js';
import type { BuildSyncPlan } from '../services/build-service.js';

/**
 * Whether a build syncs (DESIGN §3): in `local` mode when the app was published, in
 * `onprem`/`managed` when the workspace policy is on, which also adopts apps built before it.
 * Nothing syncs without a connection. Where the workspace decides and no longer stores source
 * in git, the store is authoritative again: an app it had adopted stops being backed (its repo
 * and last version stay on record for the day the policy returns).
 */
export function planBuildSync(
  mode: DeploymentMode,
  settings: SettingsRecord | null,
  app: AppRecord,
  buildId: string,
  actor: string,
): BuildSyncPlan {
  const wanted =
    settings !== null && (mode === 'local' ? app.sourceControl.backed : settings.storeAppSource);
  if (!wanted) {
    const released = mode !== 'local' && app.sourceControl.backed;
    return {
      sync: { status: 'disabled', version: null, error: null },
      ...(released && {
        sourceControl: { backed: false, status: 'disabled', lastError: null, nextRetryAt: null },
      }),
    };
  }

  // An app whose last sync failed for good keeps showing that failure until someone retries;
  // the new build waits behind it instead of hiding it.
  const blocked = app.sourceControl.status === 'failed' && app.sourceControl.nextRetryAt === null;
  return {
    sync: { status: 'pending', version: null, error: null },
    sourceControl: blocked ? { backed: true } : { backed: true, status: 'pending' },
    job: newSyncJob(app, 'build', buildId, { actor }),
  };
}

/** A new outbox job for an app. */
export function newSyncJob(
  app: Pick<AppRecord, 'workspaceId' | 'id'>,
  kind: SyncJobKind,
  buildId: string | null,
  params: Record<string, unknown> = {},
): SyncJobRecord {
  const now = new Date().toISOString();
  return {
    workspaceId: app.workspaceId,
    appId: app.id,
    id: newId(),
    kind,
    buildId,
    state: 'queued',
    attempts: 0,
    runAfter: null,
    lastError: null,
    params,
    createdAt: now,
    updatedAt: now,
  };
}

/** A held or waiting job put back in the queue with a fresh count of attempts, to run now. */
export function requeuedJob(job: SyncJobRecord, at: string): SyncJobRecord {
  return { ...job, state: 'queued', attempts: 0, runAfter: null, updatedAt: at };
}
