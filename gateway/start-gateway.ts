import type { Logger } from 'pino';
import { createStore } from '../adapters/store/create-store.js';
import { loadConfig, type Environment, type GatewayConfig } from './config.js';
import { createGateway, type Gateway, type GatewayDeps } from './create-gateway.js';
import { createLogger } from './logger.js';
import { createSourceControl } from './source-control/source-control-module.js';

export interface StartOptions {
  env?: Environment;
  /** A logger to use instead of one built from LOG_LEVEL. */
  logger?: Logger;
  /** More dependencies (routes, sync hooks) for the gateway. */
  extend?: (base: { config: GatewayConfig; logger: Logger }) => Promise<Partial<GatewayDeps>>;
}

/** Reads the configuration, opens the store, builds the gateway and starts listening. */
export async function startGateway(
  options: StartOptions = {},
): Promise<{ gateway: Gateway; url: string }> {
  const config = await loadConfig(options.env ?? process.env);
  const logger = options.logger ?? createLogger({ level: config.logLevel });

  const store = await createStore({
    dataDir: config.dataDir,
    mongodbUrl: config.mongodbUrl ?? undefined,
    logger,
  });

  try {
    const sourceControl = createSourceControl({ config, logger, store });
    const extra = options.extend ? await options.extend({ config, logger }) : {};
    const gateway = await createGateway({
      ...mergeDeps(sourceControl.deps, extra),
      config,
      store,
      logger,
    });
    const url = await gateway.listen();
    // Jobs a previous run left behind resume once the gateway answers again.
    await sourceControl.runner.start();
    return { gateway, url };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Two sets of extra dependencies as one: lists are joined, the second wins elsewhere. */
export function mergeDeps(a: Partial<GatewayDeps>, b: Partial<GatewayDeps>): Partial<GatewayDeps> {
  const routes: NonNullable<GatewayDeps['routes']> = { ...a.routes };
  for (const [scope, list] of Object.entries(b.routes ?? {}) as [
    keyof NonNullable<GatewayDeps['routes']>,
    NonNullable<GatewayDeps['routes']>['user'],
  ][]) {
    routes[scope] = [...(routes[scope] ?? []), ...(list ?? [])];
  }
  return {
    ...a,
    ...b,
    routes,
    onBuildSaved: [...(a.onBuildSaved ?? []), ...(b.onBuildSaved ?? [])],
    onClose: [...(a.onClose ?? []), ...(b.onClose ?? [])],
  };
}
