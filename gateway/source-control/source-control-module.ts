import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createProvider } from '../../adapters/providers/create-provider.js';
import { createSecretStore } from '../../adapters/secrets/create-secret-store.js';
import type { SecretStore } from '../../adapters/secrets/secret-port.js';
import type { Store } from '../../adapters/store/store-port.js';
import type { GatewayConfig } from '../config.js';
import type { GatewayDeps } from '../create-gateway.js';
import { EventHub } from '../events/event-hub.js';
import { createCatalogDeps } from '../catalog/catalog-deps.js';
import { catalogRoutes } from '../http/routes/catalog-routes.js';
import { restoreRoutes } from '../http/routes/restore-routes.js';
import { eventRoutes, sourceControlRoutes } from '../http/routes/source-control-routes.js';
import { planBuildSync, requeuedJob } from '../sync/sync-planner.js';
import { SyncRunner } from '../sync/sync-runner.js';
import { mirrorVersionWriter, type VersionWriter } from '../sync/version-writer.js';
import type { AppActionDeps } from './app-actions.js';
import type { ProviderFactory } from './provider-session.js';
import type { SettingsServiceDeps } from './settings-service.js';

export interface SourceControlOptions {
  config: GatewayConfig;
  logger: Logger;
  store: Store;
  /** The adapters by provider; tests hand in one that points at their doubles. */
  providers?: ProviderFactory;
  secrets?: SecretStore;
  writer?: VersionWriter;
  /** Unique per process: who holds the sync leases this process takes. */
  holderId?: string;
  /** Apps synced at once by this process. */
  concurrency?: number;
}

/** What the source-control part of the gateway is made of, for routes others add. */
export interface SourceControlModule {
  deps: Partial<GatewayDeps>;
  runner: SyncRunner;
  events: EventHub;
  secrets: SecretStore;
  providers: ProviderFactory;
}

/**
 * Settings, secrets, the sync runner and their routes, as extra gateway dependencies: builds
 * are planned into the outbox when they are saved, and the runner is kicked right after.
 */
export function createSourceControl(options: SourceControlOptions): SourceControlModule {
  const { config, logger, store } = options;
  const events = new EventHub();
  const providers: ProviderFactory =
    options.providers ?? ((connection, opts) => createProvider(connection, { ...opts, logger }));
  const secrets =
    options.secrets ??
    createSecretStore({
      store,
      secretKey: config.secretKey,
      previousSecretKeys: config.previousSecretKeys,
      workosApiKey: config.workosApiKey ?? undefined,
    });
  const writer = options.writer ?? mirrorVersionWriter({ dataDir: config.dataDir, logger });

  const runner = new SyncRunner({
    store,
    events,
    logger,
    holderId: options.holderId ?? `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`,
    concurrency: options.concurrency,
    retry: { maxAttempts: config.syncMaxAttempts, baseMs: config.syncRetryBaseMs },
    leaseTtlMs: config.syncLeaseTtlMs,
    job: { secrets, providers, writer, events, logger, remoteTimeoutMs: config.remoteTimeoutMs },
  });

  const settingsDeps: SettingsServiceDeps = {
    mode: config.deploymentMode,
    secrets,
    providers,
    events,
    remoteTimeoutMs: config.remoteTimeoutMs,
  };
  const actions: AppActionDeps = { mode: config.deploymentMode, runner, events };

  // A new token may mend syncs that failed for good: release them all. One query for the
  // workspace's unfinished jobs, so a save costs what is waiting, not how many apps there are.
  const onSettingsSaved = async (workspaceId: string) => {
    const workspace = store.workspace(workspaceId);
    const now = new Date().toISOString();
    const jobs = await workspace.unfinishedJobsOfWorkspace();
    for (const job of jobs.filter((unfinished) => unfinished.state === 'failed')) {
      await workspace.putJob(requeuedJob(job, now));
    }
    for (const appId of new Set(jobs.map((job) => job.appId))) runner.kick(workspaceId, appId);
  };

  const catalog = createCatalogDeps({
    config,
    secrets,
    providers,
    events,
    logger,
    kick: (ws, id) => runner.kick(ws, id),
  });

  const deps: Partial<GatewayDeps> = {
    syncHooks: {
      plan: async ({ workspace, app, buildId, actor }) =>
        planBuildSync(config.deploymentMode, await workspace.getSettings(), app, buildId, actor),
    },
    onBuildSaved: [
      (saved) => {
        events.publish(saved.app.workspaceId, { type: 'app.updated', appId: saved.app.id });
        if (saved.job) runner.kick(saved.app.workspaceId, saved.app.id);
      },
    ],
    routes: {
      user: [
        (context) => (scope) =>
          sourceControlRoutes(scope, {
            auth: context.auth,
            store,
            settings: settingsDeps,
            actions,
            onSettingsSaved,
            liveFiles: {
              builds: context.services.builds,
              dataDir: config.dataDir,
              limits: context.archiveLimits,
            },
          }),
        () => (scope) => eventRoutes(scope, { events }),
        (context) => (scope) =>
          catalogRoutes(scope, {
            auth: context.auth,
            store,
            list: catalog.list,
            change: { ...catalog.change, archiveLimits: context.archiveLimits },
          }),
      ],
      worker: [
        () => (scope) =>
          restoreRoutes(scope, {
            store,
            restore: {
              dataDir: config.dataDir,
              secrets,
              providers,
              remoteTimeoutMs: config.remoteTimeoutMs,
              logger,
            },
          }),
      ],
    },
    onClose: [() => runner.stop()],
  };

  return { deps, runner, events, secrets, providers };
}
