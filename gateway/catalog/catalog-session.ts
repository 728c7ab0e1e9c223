import { GatewayError } from '../../core/errors.js';
import type { DeploymentMode } from '../../core/model.js';
import type { SecretStore } from '../../adapters/secrets/secret-port.js';
import type { WorkspaceReader } from '../../adapters/store/store-port.js';
import {
  openProviderSession,
  type ProviderFactory,
  type ProviderSession,
} from '../source-control/provider-session.js';

/** Whether Available Apps is on, and how the workspace's provider is reached. */
export interface CatalogAccess {
  mode: DeploymentMode;
  /** `CATALOG_ENABLED`: turns the catalog on in `onprem` and `managed`. */
  catalogEnabled: boolean;
  secrets: SecretStore;
  providers: ProviderFactory;
  /** Timeout of one provider request, in ms. */
  remoteTimeoutMs: number;
}

/** Refuses every catalog route where Available Apps is off (DESIGN §3). */
export function assertCatalogEnabled(access: CatalogAccess): void {
  if (access.mode === 'local' || access.catalogEnabled) return;
  throw new GatewayError('catalog_disabled');
}

/**
 * The workspace's provider, for the catalog: it must be connected and able to list
 * repositories (plain git has no API to list with).
 */
export async function openCatalogSession(
  access: CatalogAccess,
  reader: WorkspaceReader,
): Promise<ProviderSession> {
  assertCatalogEnabled(access);
  const session = await openProviderSession(reader, access.secrets, access.providers, {
    timeoutMs: access.remoteTimeoutMs,
  });
  if (!session.provider.supportsListing) {
    throw new GatewayError(
      'not_supported',
      'Available Apps needs a provider that can list repositories; plain git cannot.',
    );
  }
  return session;
}
