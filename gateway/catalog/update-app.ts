import { GatewayError } from '../../core/errors.js';
import { isSafeId } from '../../core/ids.js';
import type { AppRecord, InstalledFrom } from '../../core/model.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';
import { recordAudit } from '../audit/audit-log.js';
import { planBuildSync } from '../sync/sync-planner.js';
import { openCatalogSession } from './catalog-session.js';
import { withImportedVersion } from './import-version.js';
import type { CatalogChangeDeps } from './install-app.js';
import { catalogBuildSummary, saveImportedBuild } from './save-imported-build.js';
import { readUpstreamVersion } from './upstream-version.js';

/** The body `{appId, force}`. */
function readBody(body: unknown): { appId: string; force: boolean } {
  const fields = (body ?? {}) as { appId?: unknown; force?: unknown };
  if (typeof body !== 'object' || Array.isArray(body) || typeof fields.appId !== 'string') {
    throw new GatewayError('invalid_request', 'Field appId must be an app id.');
  }
  if (fields.force !== undefined && typeof fields.force !== 'boolean') {
    throw new GatewayError('invalid_request', 'Field force must be true or false.');
  }
  return { appId: fields.appId, force: fields.force === true };
}

/**
 * Brings an installed app to the newer version its repository offers, as a new draft build.
 * Refused when the app was not installed, is at that version already, or was built here since
 * it was installed (unless forced: those builds stay in its history, the draft moves on).
 */
export async function updateFromCatalog(
  deps: CatalogChangeDeps,
  workspace: WorkspaceStore,
  body: unknown,
  actor: string,
): Promise<AppRecord> {
  const { appId, force } = readBody(body);
  const app = isSafeId(appId) ? await workspace.getApp(appId) : null;
  if (app === null) throw new GatewayError('not_found');
  const installed = app.installedFrom;
  if (installed === null) throw new GatewayError('not_installed');

  const { settings, provider } = await openCatalogSession(deps, workspace);
  if (
    installed.provider !== settings.provider ||
    installed.owner.toLowerCase() !== settings.owner.toLowerCase()
  ) {
    throw new GatewayError(
      'not_supported',
      `The app was installed from ${installed.owner} on ${installed.provider}; source control now points elsewhere.`,
    );
  }

  const upstream = await readUpstreamVersion(provider, installed.repo);
  if (upstream.version <= installed.version) {
    throw new GatewayError(
      'up_to_date',
      `The app is at ${installed.tag}; ${installed.owner}/${installed.repo} offers ${upstream.tag}.`,
    );
  }
  if (!force) await assertNoLocalChanges(workspace, app, installed, upstream.tag);

  const updated = await withImportedVersion(
    {
      dataDir: deps.dataDir,
      provider,
      repo: upstream.repo,
      tag: upstream.tag,
      limits: deps.archiveLimits,
    },
    async (imported) => {
      const from: InstalledFrom = {
        provider: installed.provider,
        owner: installed.owner,
        repo: upstream.repo,
        tag: upstream.tag,
        version: upstream.version,
        commitSha: upstream.commitSha,
        installedAt: new Date().toISOString(),
      };
      // A copy that was published since syncs this build as it would any other.
      const saved = await saveImportedBuild({
        workspace,
        app,
        files: imported.files,
        from,
        kind: 'update',
        plan: (buildId) => planBuildSync(deps.mode, settings, app, buildId, actor),
      });
      if (saved.plan.job) deps.onSyncQueued?.(workspace.workspaceId, app.id);
      return saved.app;
    },
  );

  await recordAudit(workspace, {
    actor,
    action: 'catalog.update',
    appId: app.id,
    outcome: 'success',
  });
  deps.events.publish(workspace.workspaceId, { type: 'catalog.updated', appId: app.id });
  deps.events.publish(workspace.workspaceId, { type: 'app.updated', appId: app.id });
  deps.logger.info(
    { appId: app.id, from: installed.tag, to: upstream.tag, force },
    `updated app ${app.id} from ${installed.tag} to ${upstream.tag} of ${installed.owner}/${installed.repo}`,
  );
  return updated;
}

/**
 * The draft is the install's (or last update's) own build unless someone built the app here
 * since: that build carries the install time and the catalog summary, which a worker's build
 * cannot both have.
 */
async function assertNoLocalChanges(
  workspace: WorkspaceStore,
  app: AppRecord,
  installed: InstalledFrom,
  nextTag: string,
): Promise<void> {
  const draft = app.draft ? await workspace.getBuild(app.id, app.draft.buildId) : null;
  const ours =
    draft !== null &&
    draft.createdAt === installed.installedAt &&
    (draft.summary === catalogBuildSummary('install', installed) ||
      draft.summary === catalogBuildSummary('update', installed));
  if (ours || app.draft === null) return;

  const builds = await workspace.listBuilds(app.id, 100);
  const since = Math.max(
    1,
    builds.filter((build) => build.createdAt > installed.installedAt).length,
  );
  throw new GatewayError(
    'local_changes',
    `The app was built here ${since === 1 ? 'once' : `${since} times`} since ${installed.tag} was installed; ` +
      `updating to ${nextTag} would replace that draft (the builds stay in its history). Send force: true to update anyway.`,
  );
}
