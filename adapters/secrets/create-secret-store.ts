import type { Store } from '../store/store-port.js';
import { LocalSecretStore } from './local-secret-store.js';
import type { SecretStore } from './secret-port.js';
import { WorkosVaultStore } from './workos-vault-store.js';

export interface SecretStoreConfig {
  store: Store;
  /** The 32-byte local key (SECRET_KEY, or the generated key file). */
  secretKey: Buffer;
  /** Keys of earlier rotations (SECRET_KEY_PREVIOUS): values sealed with them stay readable. */
  previousSecretKeys?: readonly Buffer[];
  /** WORKOS_API_KEY: when set, secrets live in WorkOS Vault instead of the local store. */
  workosApiKey?: string;
  workosBaseUrl?: string;
}

/** WorkOS Vault when an API key is configured, encrypted local storage otherwise. */
export function createSecretStore(config: SecretStoreConfig): SecretStore {
  if (config.workosApiKey) {
    return new WorkosVaultStore({ apiKey: config.workosApiKey, baseUrl: config.workosBaseUrl });
  }
  return new LocalSecretStore({
    store: config.store,
    key: config.secretKey,
    previousKeys: [...(config.previousSecretKeys ?? [])],
  });
}
