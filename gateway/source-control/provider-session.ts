import { GatewayError } from '../../core/errors.js';
import type { SettingsRecord } from '../../core/model.js';
import type {
  ProviderAdapter,
  ProviderConnection,
  ProviderOptions,
} from '../../adapters/providers/provider-port.js';
import type { SecretStore } from '../../adapters/secrets/secret-port.js';
import type { WorkspaceReader } from '../../adapters/store/store-port.js';

/** The name under which a workspace's provider token is kept in the secret store. */
export const PROVIDER_TOKEN_SECRET = 'provider-token';

/** Builds an adapter for a connection; the gateway passes one that knows every provider. */
export type ProviderFactory = (
  connection: ProviderConnection,
  options?: ProviderOptions,
) => ProviderAdapter;

export interface ProviderSession {
  settings: SettingsRecord;
  provider: ProviderAdapter;
}

/**
 * The workspace's provider, ready to call: its settings, and an adapter holding the token. The
 * token stays inside the adapter; nothing here returns or logs it.
 */
export async function openProviderSession(
  reader: WorkspaceReader,
  secrets: SecretStore,
  providers: ProviderFactory,
  options?: ProviderOptions,
): Promise<ProviderSession> {
  const settings = await reader.getSettings();
  if (!settings) throw new GatewayError('not_connected');

  const token = await secrets.get(reader.workspaceId, PROVIDER_TOKEN_SECRET);
  if (token === null) {
    throw new GatewayError('not_connected', 'Source control has no token; save one in Settings.');
  }

  const provider = providers(
    {
      provider: settings.provider,
      baseUrl: settings.baseUrl,
      owner: settings.owner,
      ownerType: settings.ownerType,
      token,
    },
    options,
  );
  return { settings, provider };
}
