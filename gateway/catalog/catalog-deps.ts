import type { Logger } from 'pino';
import type { SecretStore } from '../../adapters/secrets/secret-port.js';
import type { GatewayConfig } from '../config.js';
import type { EventHub } from '../events/event-hub.js';
import type { ProviderFactory } from '../source-control/provider-session.js';
import type { CatalogChangeDeps } from './install-app.js';
import type { CatalogListDeps } from './list-catalog.js';
import { ManifestCache } from './manifest-cache.js';

/** What the catalog routes need, built once per process (the manifest cache lives here). */
export function createCatalogDeps(input: {
  config: GatewayConfig;
  secrets: SecretStore;
  providers: ProviderFactory;
  events: EventHub;
  logger: Logger;
  /** Starts the sync of an app whose update queued a job. */
  kick: (workspaceId: string, appId: string) => void;
}): { list: CatalogListDeps; change: CatalogChangeDeps } {
  const { config } = input;
  const access = {
    mode: config.deploymentMode,
    catalogEnabled: config.catalogEnabled,
    secrets: input.secrets,
    providers: input.providers,
    remoteTimeoutMs: config.remoteTimeoutMs,
  };
  return {
    list: { ...access, cache: new ManifestCache(), logger: input.logger },
    change: {
      ...access,
      dataDir: config.dataDir,
      events: input.events,
      logger: input.logger,
      onSyncQueued: input.kick,
    },
  };
}
