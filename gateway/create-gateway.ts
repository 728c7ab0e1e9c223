import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Store } from '../adapters/store/store-port.js';
import { createTokenVerifier, type TokenVerifier } from './auth/token-verifier.js';
import type { GatewayConfig } from './config.js';
import { createAuthHooks, type AuthHooks } from './http/auth-hooks.js';
import { createHttpApp, type RoutePlugin, type ScopedRoutes } from './http/create-http-app.js';
import { appRoutes } from './http/routes/app-routes.js';
import { buildRoutes } from './http/routes/build-routes.js';
import type { ArchiveLimits } from './ingest/read-snapshot-archive.js';
import { healthRoutes } from './http/routes/health-routes.js';
import { previewRoutes } from './http/routes/preview-routes.js';
import { sessionRoutes } from './http/routes/session-routes.js';
import { uiRoutes } from './http/routes/ui-routes.js';
import { silentLogger } from './logger.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import { createPreviewService, type PreviewService } from './preview/preview-service.js';
import { createReadiness, type Readiness } from './readiness.js';
import { createAppService, type AppService } from './services/app-service.js';
import {
  createBuildService,
  type BuildService,
  type BuildSyncHooks,
  type SavedBuild,
} from './services/build-service.js';

/** The services routes call; routes hold no logic of their own beyond HTTP. */
export interface GatewayServices {
  apps: AppService;
  builds: BuildService;
  preview: PreviewService;
}

/** What a route plugin added from outside may use. */
export interface GatewayContext {
  config: GatewayConfig;
  store: Store;
  logger: Logger;
  metrics: GatewayMetrics;
  verifier: TokenVerifier;
  auth: AuthHooks;
  services: GatewayServices;
  /** Caps of every archive the gateway reads: worker uploads and catalog imports. */
  archiveLimits?: Partial<ArchiveLimits>;
}

/** Everything the gateway is made of, handed in once. */
export interface GatewayDeps {
  config: GatewayConfig;
  /** The gateway owns it from here on: `close()` closes it. */
  store: Store;
  logger?: Logger;
  metrics?: GatewayMetrics;
  /** How builds reach source control; without it builds are stored only. */
  syncHooks?: BuildSyncHooks;
  /** Called after every saved build (for example to start its sync job). */
  onBuildSaved?: ((saved: SavedBuild) => void)[];
  /** More routes, by scope, built from the gateway's context. */
  routes?: Partial<Record<keyof ScopedRoutes, ((context: GatewayContext) => RoutePlugin)[]>>;
  /** Caps of uploaded snapshots and imported archives, tighter than the defaults of DESIGN §13. */
  archiveLimits?: Partial<ArchiveLimits>;
  /** Preview cache sizes. */
  preview?: { blobCacheBytes?: number; snapshotCacheFiles?: number; draftTtlMs?: number };
  /** The built admin UI (default: dist/ui of the package). */
  uiDir?: string;
  /** Work to finish after the HTTP server stopped and before the store closes. */
  onClose?: (() => Promise<void>)[];
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly context: GatewayContext;
  readonly readiness: Readiness;
  /** Starts listening on the configured host and port (or the given ones); answers the URL. */
  listen(overrides?: { port?: number; host?: string }): Promise<string>;
  /**
   * Stops accepting connections, lets requests in flight finish, runs the close hooks and closes
   * the store. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** Assembles the gateway from its dependencies: services first, then the HTTP app over them. */
export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, store } = deps;
  const logger = deps.logger ?? silentLogger();
  const metrics = deps.metrics ?? createMetrics();
  const verifier = createTokenVerifier({ secret: config.jwtSecret });
  const auth = createAuthHooks(verifier);

  const preview = createPreviewService({ store, metrics, logger, ...deps.preview });
  const builds = createBuildService({
    logger,
    syncHooks: deps.syncHooks,
    onSaved: [
      (saved) => preview.forgetDraft(saved.app.workspaceId, saved.app.id),
      ...(deps.onBuildSaved ?? []),
    ],
  });
  const services: GatewayServices = { apps: createAppService(), builds, preview };
  const context: GatewayContext = {
    config,
    store,
    logger,
    metrics,
    verifier,
    auth,
    services,
    archiveLimits: deps.archiveLimits,
  };
  const readiness = createReadiness({ store, dataDir: config.dataDir });

  const extra = (scope: keyof ScopedRoutes) =>
    (deps.routes?.[scope] ?? []).map((make) => make(context));
  const routes: ScopedRoutes = {
    public: [
      (scope) => healthRoutes(scope, { readiness, metrics }),
      (scope) => sessionRoutes(scope, { auth, verifier, mode: config.deploymentMode }),
      (scope) => uiRoutes(scope, { logger, dir: deps.uiDir }),
      ...extra('public'),
    ],
    user: [(scope) => appRoutes(scope, { auth, store, apps: services.apps }), ...extra('user')],
    worker: [
      (scope) =>
        buildRoutes(scope, {
          store,
          builds,
          metrics,
          dataDir: config.dataDir,
          limits: context.archiveLimits,
        }),
      ...extra('worker'),
    ],
    preview: [(scope) => previewRoutes(scope, { auth, verifier, preview }), ...extra('preview')],
  };

  const app = await createHttpApp({ logger, metrics, auth, routes });

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      // A keep-alive connection whose request was in flight when closing began turns idle after
      // its answer; close such connections as they go idle instead of waiting out their timeout.
      const sweeper = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweeper);
      }
      for (const hook of deps.onClose ?? []) {
        await hook().catch((error: unknown) =>
          logger.error({ err: error }, 'a close hook failed; skipping it'),
        );
      }
      await store.close();
      logger.info('gateway stopped');
    })();
    return closing;
  };

  return {
    app,
    context,
    readiness,
    async listen(overrides = {}) {
      const url = await app.listen({
        port: overrides.port ?? config.port,
        host: overrides.host ?? config.host,
      });
      logger.info(
        { url, mode: config.deploymentMode, store: store.kind },
        `gateway listening on ${url}`,
      );
      return url;
    },
    close,
  };
}
