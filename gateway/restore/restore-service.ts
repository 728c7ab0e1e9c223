import type { Readable } from 'node:stream';
import { GatewayError, isGatewayError } from '../../core/errors.js';
import type { AppRecord, SnapshotRecord } from '../../core/model.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';
import { recordAudit } from '../audit/audit-log.js';
import { restoreFromMirror, type MirrorRestoreDeps } from './mirror-restore.js';
import { snapshotTar } from './snapshot-tar.js';

/** A restore needs what a restore from source control needs; the store path needs nothing more. */
export type RestoreServiceDeps = MirrorRestoreDeps;

/** What a worker gets back: the files as a tar, and where they came from. */
export interface RestoreResult {
  origin: 'source-control' | 'store';
  /** The version restored; null for a store restore of an app that is not backed. */
  version: number | null;
  sourceHash: string;
  /** True when the remote did not answer and the mirror was read as it stood. */
  fallback: boolean;
  body: Readable;
}

export interface RestoreRequest {
  /** A version number, or null for the latest (backed) or the draft (not backed). */
  version: number | null;
  /** The worker's `sub`, for the audit record. */
  actor: string;
}

/**
 * A worker's restore (DESIGN §4): a source-control-backed app with a version comes from source
 * control through its mirror, every other app from its stored snapshot. Every outcome is
 * audited; a refusal (a version whose files do not match its manifest) streams nothing.
 */
export async function restoreApp(
  deps: RestoreServiceDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  request: RestoreRequest,
): Promise<RestoreResult> {
  const audit = (outcome: 'success' | 'failure', code: string | null = null) =>
    recordAudit(workspace, {
      actor: request.actor,
      action: 'worker.restore',
      appId: app.id,
      outcome,
      code,
    });

  try {
    const result = (await isBackedWithVersion(workspace, app))
      ? await fromSourceControl(deps, workspace, app, request.version)
      : await fromStore(workspace, app, request.version);
    await audit('success');
    return result;
  } catch (error) {
    // An unknown version is a lookup, not an event worth a record.
    const code = isGatewayError(error) ? error.code : 'internal';
    if (code !== 'not_found') await audit('failure', code);
    throw error;
  }
}

async function isBackedWithVersion(workspace: WorkspaceStore, app: AppRecord): Promise<boolean> {
  if (!app.sourceControl.backed) return false;
  if (app.sourceControl.version !== null) return true;
  return (await workspace.listVersions(app.id)).length > 0;
}

/** Failures of reaching the remote, which the store's copy of a version may stand in for. */
const REMOTE_FAILURES: ReadonlySet<string> = new Set([
  'provider_unavailable',
  'provider_error',
  'rate_limited',
  'auth_failed',
  'insufficient_permissions',
  'not_connected',
]);

async function fromSourceControl(
  deps: RestoreServiceDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  version: number | null,
): Promise<RestoreResult> {
  let restored;
  try {
    restored = await restoreFromMirror(deps, workspace, app, version);
  } catch (error) {
    // With no mirror to read and no remote to rebuild it from, the store's copy of the version
    // (a materialized cache of source control) is still the right files. A refusal such as
    // hash_mismatch is never papered over this way.
    if (!isGatewayError(error) || !REMOTE_FAILURES.has(error.code)) throw error;
    const stored = await storedVersion(workspace, app, version);
    if (stored === null) throw error;
    deps.logger.warn(
      { appId: app.id, version: stored.version, code: error.code },
      `restoring version ${stored.version} of app ${app.id} from the store: source control could not be read (${error.code})`,
    );
    return {
      origin: 'store',
      version: stored.version,
      sourceHash: stored.snapshot.hash,
      fallback: false,
      body: snapshotTar(workspace, stored.snapshot),
    };
  }
  deps.logger.info(
    { appId: app.id, version: restored.version, fallback: restored.fallback },
    `restoring version ${restored.version} of app ${app.id} from source control` +
      (restored.fallback ? ' (mirror as it stood: the remote did not answer)' : ''),
  );
  return { origin: 'source-control', ...restored };
}

/** The stored snapshot of a recorded version (the latest when none is named), or null. */
async function storedVersion(
  workspace: WorkspaceStore,
  app: AppRecord,
  version: number | null,
): Promise<{ version: number; snapshot: SnapshotRecord } | null> {
  const record =
    version === null
      ? ((await workspace.listVersions(app.id))[0] ?? null)
      : await workspace.getVersion(app.id, version);
  if (record === null) return null;
  const snapshot = await workspace.getSnapshot(record.sourceHash);
  return snapshot === null ? null : { version: record.version, snapshot };
}

async function fromStore(
  workspace: WorkspaceStore,
  app: AppRecord,
  version: number | null,
): Promise<RestoreResult> {
  let snapshot: SnapshotRecord | null;
  if (version !== null) {
    const record = await workspace.getVersion(app.id, version);
    if (record === null) throw new GatewayError('not_found', 'The app has no such version.');
    snapshot = await workspace.getSnapshot(record.sourceHash);
  } else {
    if (app.draft === null) throw new GatewayError('no_draft');
    snapshot = await workspace.getSnapshot(app.draft.snapshotHash);
  }
  if (snapshot === null) {
    throw new GatewayError('not_found', 'The files of that build are not in the store.');
  }

  return {
    origin: 'store',
    version: null,
    sourceHash: snapshot.hash,
    fallback: false,
    body: snapshotTar(workspace, snapshot),
  };
}
