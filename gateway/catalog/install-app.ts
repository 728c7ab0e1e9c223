import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { disabledSourceControl, type AppRecord, type InstalledFrom } from '../../core/model.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';
import { recordAudit } from '../audit/audit-log.js';
import type { EventHub } from '../events/event-hub.js';
import { normalizeAppName } from '../services/app-service.js';
import { openCatalogSession, type CatalogAccess } from './catalog-session.js';
import type { ArchiveLimits } from '../ingest/read-snapshot-archive.js';
import { withImportedVersion } from './import-version.js';
import { saveImportedBuild } from './save-imported-build.js';
import { checkRepoName, readUpstreamVersion } from './upstream-version.js';

/** What install and update need: provider access, a staging root, events and the log. */
export interface CatalogChangeDeps extends CatalogAccess {
  dataDir: string;
  /** Caps of the imported archive, tighter than the defaults of DESIGN §13. */
  archiveLimits?: Partial<ArchiveLimits>;
  events: EventHub;
  logger: Logger;
  /** Called when an update's build was queued for source control. */
  onSyncQueued?: (workspaceId: string, appId: string) => void;
}

/**
 * Installs an app from Available Apps: the version the repository's manifest names is
 * downloaded server-side, read as an import (hostile entries refuse it whole, the manifest must
 * match the files) and becomes a new local app whose draft is that version. Nothing is created
 * until the import passed; installing does not publish.
 */
export async function installFromCatalog(
  deps: CatalogChangeDeps,
  workspace: WorkspaceStore,
  body: unknown,
  actor: string,
): Promise<AppRecord> {
  const repo = checkRepoName((body as { repo?: unknown } | null)?.repo);
  const { settings, provider } = await openCatalogSession(deps, workspace);

  try {
    const upstream = await readUpstreamVersion(provider, repo);
    const app = await withImportedVersion(
      {
        dataDir: deps.dataDir,
        provider,
        repo: upstream.repo,
        tag: upstream.tag,
        limits: deps.archiveLimits,
      },
      async (imported) => {
        const name = appNameOf(imported.manifest.app.name);
        const installedAt = new Date().toISOString();
        const from: InstalledFrom = {
          provider: settings.provider,
          owner: settings.owner,
          repo: upstream.repo,
          tag: upstream.tag,
          version: upstream.version,
          commitSha: upstream.commitSha,
          installedAt,
        };
        const record: AppRecord = {
          workspaceId: workspace.workspaceId,
          id: newId(),
          name,
          createdAt: installedAt,
          updatedAt: installedAt,
          draft: null,
          sourceControl: disabledSourceControl(),
          installedFrom: from,
        };
        // The build's own write creates the app, so it never exists without its draft.
        const saved = await saveImportedBuild({
          workspace,
          app: record,
          files: imported.files,
          from,
          kind: 'install',
          plan: () => ({ sync: { status: 'disabled', version: null, error: null } }),
        });
        return saved.app;
      },
    );

    await recordAudit(workspace, {
      actor,
      action: 'catalog.install',
      appId: app.id,
      outcome: 'success',
    });
    deps.events.publish(workspace.workspaceId, { type: 'catalog.updated', appId: app.id });
    deps.logger.info(
      { appId: app.id, repo: upstream.repo, tag: upstream.tag },
      `installed ${settings.owner}/${upstream.repo} ${upstream.tag} as app ${app.id}`,
    );
    return app;
  } catch (error) {
    // Refused input writes nothing, not even an audit record: the log line is the trace.
    deps.logger.warn(
      { repo, code: isGatewayError(error) ? error.code : 'internal' },
      `install of ${settings.owner}/${repo} refused; nothing was created`,
    );
    throw error;
  }
}

/** The manifest's app name as an app name; a name no app may have is a bad manifest. */
function appNameOf(value: string): string {
  try {
    return normalizeAppName(value);
  } catch {
    throw new GatewayError(
      'invalid_manifest',
      'The manifest names the app with a name not allowed.',
    );
  }
}
