import type { Logger } from 'pino';
import { GatewayError, isGatewayError, type ErrorCode } from '../../core/errors.js';
import { buildManifest, serializeManifest } from '../../core/manifest.js';
import type {
  AppRecord,
  ErrorInfo,
  SettingsRecord,
  SnapshotRecord,
  SyncJobRecord,
  VersionRecord,
} from '../../core/model.js';
import type { GitRemote, ProviderAdapter } from '../../adapters/providers/provider-port.js';
import type { SecretStore } from '../../adapters/secrets/secret-port.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';
import { recordAudit } from '../audit/audit-log.js';
import type { EventHub } from '../events/event-hub.js';
import { openProviderSession, type ProviderFactory } from '../source-control/provider-session.js';
import { repoNameFor } from './repo-name.js';
import type { VersionWriter } from './version-writer.js';

/** How many versions pass between two repacks of a mirror. */
const MAINTENANCE_EVERY = 10;

/** The topic that marks a repository as a Second app (a discovery fast path). */
export const APP_TOPIC = 'second-app';

export interface SyncJobDeps {
  secrets: SecretStore;
  providers: ProviderFactory;
  writer: VersionWriter;
  events: EventHub;
  logger: Logger;
  remoteTimeoutMs: number;
}

/** What one run of a job did. */
export type SyncJobResult =
  { outcome: 'synced'; version: number | null } | { outcome: 'skipped'; reason: string };

/**
 * Runs one outbox job to the end: a version for a build, a first publish, a retry, or a
 * manifest-only commit for sharing. Throws a `GatewayError` when a step fails; the runner
 * decides about retries. Every step is safe to run again after a crash.
 */
export async function runSyncJob(
  deps: SyncJobDeps,
  workspace: WorkspaceStore,
  job: SyncJobRecord,
): Promise<SyncJobResult> {
  const app = await workspace.getApp(job.appId);
  if (!app) return { outcome: 'skipped', reason: 'the app no longer exists' };

  const session = await openProviderSession(workspace, deps.secrets, deps.providers, {
    timeoutMs: deps.remoteTimeoutMs,
  });

  if (job.kind === 'share') {
    await shareLatest(deps, workspace, app, session.settings, session.provider, job);
    return { outcome: 'synced', version: app.sourceControl.version };
  }

  const snapshot = await snapshotOfJob(workspace, app, job);
  if (!snapshot) return { outcome: 'skipped', reason: 'the build has no stored snapshot' };

  const version = await syncSnapshot(deps, workspace, app, session, snapshot, job);
  return { outcome: 'synced', version };
}

async function snapshotOfJob(
  workspace: WorkspaceStore,
  app: AppRecord,
  job: SyncJobRecord,
): Promise<{
  record: SnapshotRecord;
  buildId: string | null;
  summary: string;
  createdAt: string;
} | null> {
  const buildId = job.buildId ?? app.draft?.buildId ?? null;
  if (!buildId) throw new GatewayError('no_draft');

  const build = await workspace.getBuild(app.id, buildId);
  if (!build) return null;
  const record = await workspace.getSnapshot(build.snapshotHash);
  if (!record) return null;
  return { record, buildId: build.id, summary: build.summary, createdAt: build.createdAt };
}

async function syncSnapshot(
  deps: SyncJobDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  session: { settings: SettingsRecord; provider: ProviderAdapter },
  snapshot: { record: SnapshotRecord; buildId: string | null; summary: string; createdAt: string },
  job: SyncJobRecord,
): Promise<number> {
  const { settings, provider } = session;
  const [latest] = await workspace.listVersions(app.id);

  // An unchanged source makes no version and calls no provider (DESIGN §5), unless the last
  // version was written but its push never finished.
  if (latest && latest.sourceHash === snapshot.record.hash && latest.pushed) {
    await markSynced(
      deps,
      workspace,
      app,
      latest,
      snapshot.buildId,
      app.sourceControl.outsideCommits,
    );
    return latest.version;
  }

  const repo = await ensureRepo(deps, workspace, app, settings, provider, job);
  const remote = provider.gitRemote(repo);

  const record = (written: { version: number; tag: string; commitSha: string }): VersionRecord => ({
    workspaceId: workspace.workspaceId,
    appId: app.id,
    version: written.version,
    tag: written.tag,
    commitSha: written.commitSha,
    summary: snapshot.summary,
    sourceHash: snapshot.record.hash,
    fileCount: snapshot.record.fileCount,
    totalBytes: snapshot.record.totalBytes,
    createdAt: snapshot.createdAt,
    pushed: false,
    buildId: snapshot.buildId,
  });

  const published = await deps.writer.publish({
    workspaceId: workspace.workspaceId,
    appId: app.id,
    remote,
    files: snapshot.record.files,
    readBlob: (sha) => readBlob(workspace, sha),
    manifestFor: (n) =>
      serializeManifest(
        buildManifest({
          appName: app.name,
          source: snapshot.record,
          provider: settings.provider,
          owner: settings.owner,
          repo,
          version: n,
          availableInCatalog: app.sourceControl.availableInCatalog,
        }),
      ),
    summary: snapshot.summary,
    createdAt: snapshot.createdAt,
    // A version written but never pushed is offered again under its own number, so the mirror
    // finds it and pushes it instead of writing another.
    nextVersion:
      latest && latest.sourceHash === snapshot.record.hash
        ? latest.version
        : (latest?.version ?? 0) + 1,
    timeoutMs: deps.remoteTimeoutMs,
    // Recorded before the push: after a crash the next attempt finds the version in the mirror
    // (same source, same commit) and only pushes it.
    onWritten: async (written) => {
      const inserted = await workspace.insertVersion(record(written));
      if (!inserted) {
        const existing = await workspace.getVersion(app.id, written.version);
        if (existing?.commitSha !== written.commitSha) {
          throw new GatewayError(
            'remote_diverged',
            `Version ${written.version} is recorded at another commit.`,
          );
        }
      }
      await workspace.patchApp(app.id, {
        sourceControl: {
          version: written.version,
          tag: written.tag,
          commitSha: written.commitSha,
          sourceHash: snapshot.record.hash,
          pushed: false,
          outsideCommits: app.sourceControl.outsideCommits || written.outsideCommits,
        },
      });
    },
  });

  const outsideCommits = app.sourceControl.outsideCommits || published.outsideCommits;
  const version = { ...record(published), pushed: true };
  await workspace.markVersionPushed(app.id, version.version);
  await markSynced(deps, workspace, app, version, snapshot.buildId, outsideCommits);

  // Each version adds a pack; every tenth version lets git repack when it finds it due. A
  // failure here costs only disk space, so it is logged and the sync stays a success.
  if (version.version % MAINTENANCE_EVERY === 0) {
    await deps.writer.maintain(workspace.workspaceId, app.id).catch((error: unknown) => {
      deps.logger.warn(
        { appId: app.id, err: error },
        `repacking the mirror of app ${app.id} failed; skipping it until the next tenth version`,
      );
    });
  }

  deps.logger.info(
    { appId: app.id, version: version.version, repo: `${settings.owner}/${repo}` },
    `pushed ${version.tag} to ${settings.owner}/${repo}`,
  );
  return version.version;
}

/**
 * The app's repository, created on first use. The chosen name is written to the app before the
 * provider is asked, so that after a crash the retry knows the repository is its own.
 */
async function ensureRepo(
  deps: SyncJobDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  settings: SettingsRecord,
  provider: ProviderAdapter,
  job: SyncJobRecord,
): Promise<string> {
  const sc = app.sourceControl;
  const sameOwner = sc.provider === settings.provider && sc.owner === settings.owner;
  if (sc.repo && sameOwner && sc.url) return sc.repo;

  const plain =
    sc.repo && sameOwner ? sc.repo : repoNameFor(app.name, { prefix: settings.repoPrefix });
  const candidates = [
    plain,
    repoNameFor(app.name, { prefix: settings.repoPrefix, appId: app.id, disambiguate: true }),
  ];

  for (const name of candidates) {
    await workspace.patchApp(app.id, {
      sourceControl: { provider: settings.provider, owner: settings.owner, repo: name, url: null },
    });

    try {
      const created = await provider.createRepo({
        name,
        visibility: settings.visibility,
        description: `Source of the Second app "${app.name}"`,
      });
      await workspace.patchApp(app.id, { sourceControl: { url: created.htmlUrl } });
      await addTopicBestEffort(deps, workspace, app, provider, name, job);
      return name;
    } catch (error) {
      if (!isGatewayError(error) || error.code !== 'repo_name_taken') throw error;

      // Taken by this app itself (a crash after the provider created it): carry on with it.
      if (name === sc.repo && sameOwner) {
        const existing = await provider.getRepo(name);
        if (existing) {
          await workspace.patchApp(app.id, { sourceControl: { url: existing.htmlUrl } });
          return name;
        }
      }
      deps.logger.info(
        { appId: app.id, repo: name },
        `repository name ${name} is taken; trying the next`,
      );
    }
  }
  throw new GatewayError(
    'repo_name_taken',
    `Both ${candidates.join(' and ')} are taken under ${settings.owner}.`,
  );
}

async function addTopicBestEffort(
  deps: SyncJobDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  provider: ProviderAdapter,
  repo: string,
  job: SyncJobRecord,
): Promise<void> {
  if (!provider.supportsTopics) return;
  try {
    await provider.addTopic(repo, APP_TOPIC);
  } catch (error) {
    const code: ErrorCode = isGatewayError(error) ? error.code : 'provider_error';
    deps.logger.warn(
      { appId: app.id, repo, code },
      `adding topic ${APP_TOPIC} to ${repo} failed (${code}); skipping it, discovery reads the manifest`,
    );
    await recordAudit(workspace, {
      actor: actorOf(job),
      action: 'source-control.topic',
      appId: app.id,
      outcome: 'failure',
      code,
    });
  }
}

async function shareLatest(
  deps: SyncJobDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  settings: SettingsRecord,
  provider: ProviderAdapter,
  job: SyncJobRecord,
): Promise<void> {
  const available = job.params.available === true;
  const [latest] = await workspace.listVersions(app.id);
  if (!latest || !app.sourceControl.repo) throw new GatewayError('no_version');

  const snapshot = await workspace.getSnapshot(latest.sourceHash);
  if (!snapshot)
    throw new GatewayError('no_version', 'The snapshot of the latest version is missing.');

  const remote: GitRemote = provider.gitRemote(app.sourceControl.repo);
  const manifest = serializeManifest(
    buildManifest({
      appName: app.name,
      source: snapshot,
      provider: settings.provider,
      owner: settings.owner,
      repo: app.sourceControl.repo,
      version: latest.version,
      availableInCatalog: available,
    }),
  );
  const shared = await deps.writer.share({
    workspaceId: workspace.workspaceId,
    appId: app.id,
    remote,
    manifest,
    createdAt: job.createdAt,
    timeoutMs: deps.remoteTimeoutMs,
  });

  const updated = await workspace.patchApp(app.id, {
    sourceControl: {
      availableInCatalog: available,
      outsideCommits: app.sourceControl.outsideCommits || shared.outsideCommits,
      status: 'synced',
      lastError: null,
      nextRetryAt: null,
      lastSyncedAt: new Date().toISOString(),
    },
  });
  deps.events.publish(workspace.workspaceId, {
    type: 'source-control.status',
    appId: app.id,
    version: updated?.sourceControl.version ?? null,
    status: 'synced',
  });
}

async function markSynced(
  deps: SyncJobDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  version: VersionRecord,
  buildId: string | null,
  outsideCommits: boolean,
): Promise<void> {
  await workspace.patchApp(app.id, {
    sourceControl: {
      backed: true,
      status: 'synced',
      version: version.version,
      tag: version.tag,
      commitSha: version.commitSha,
      sourceHash: version.sourceHash,
      pushed: version.pushed,
      outsideCommits,
      lastError: null,
      nextRetryAt: null,
      lastSyncedAt: new Date().toISOString(),
    },
  });
  if (buildId) {
    await workspace.updateBuildSync(app.id, buildId, {
      status: 'synced',
      version: version.version,
      error: null,
    });
  }
  deps.events.publish(workspace.workspaceId, {
    type: 'source-control.status',
    appId: app.id,
    version: version.version,
    status: 'synced',
  });
}

async function readBlob(workspace: WorkspaceStore, sha256: string): Promise<Buffer> {
  const blob = await workspace.getBlob(sha256);
  if (!blob)
    throw new GatewayError('internal', `Blob ${sha256.slice(0, 12)} of the snapshot is missing.`);
  return blob;
}

/** The actor an automatic job is recorded under. */
export function actorOf(job: SyncJobRecord): string {
  return typeof job.params.actor === 'string' ? job.params.actor : 'system';
}

/** The stored form of any failure: a registered code and a safe message, nothing else. */
export function errorInfoOf(error: unknown): ErrorInfo & { code: ErrorCode } {
  if (isGatewayError(error)) return { code: error.code, message: error.message };
  // A file write of the mirror that found no room: the fix is space, so the code must say so.
  const errno = (error as { code?: unknown } | null)?.code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT' || errno === 'SQLITE_FULL')
    return { code: 'storage_full', message: 'The gateway ran out of disk space while syncing.' };
  return { code: 'internal', message: 'The sync failed inside the gateway; see the gateway log.' };
}
