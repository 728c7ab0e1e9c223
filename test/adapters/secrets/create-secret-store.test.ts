import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretStore } from '../../../adapters/secrets/create-secret-store.js';
import { createStore } from '../../../adapters/store/create-store.js';
import type { Store } from '../../../adapters/store/store-port.js';
import { loadConfig } from '../../../gateway/config.js';

const TOKEN = 'ghp_CANARYrotation0123456789abcdef';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secret-store-config-'));
  store = await createStore({ dataDir: dir });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** The secret store a gateway would build from these variables. */
async function secretStoreFrom(env: Record<string, string>) {
  const config = await loadConfig({ DATA_DIR: dir, ...env });
  return createSecretStore({
    store,
    secretKey: config.secretKey,
    previousSecretKeys: config.previousSecretKeys,
    workosApiKey: config.workosApiKey ?? undefined,
  });
}

test('after SECRET_KEY changes, the token stays readable through SECRET_KEY_PREVIOUS and moves to the new key when written again', async () => {
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  await (await secretStoreFrom({ SECRET_KEY: oldKey })).put('acme', 'provider-token', TOKEN);

  const withoutOld = await secretStoreFrom({ SECRET_KEY: newKey });
  await expect(withoutOld.get('acme', 'provider-token')).rejects.toThrow(/SECRET_KEY_PREVIOUS/);

  const rotated = await secretStoreFrom({
    SECRET_KEY: newKey,
    SECRET_KEY_PREVIOUS: `${randomBytes(32).toString('base64')}, ${oldKey}`,
  });
  expect(await rotated.get('acme', 'provider-token')).toBe(TOKEN);

  // Written again (a settings save with the token), it no longer needs the old key.
  await rotated.put('acme', 'provider-token', TOKEN);
  expect(await withoutOld.get('acme', 'provider-token')).toBe(TOKEN);
});

test('WORKOS_API_KEY selects WorkOS Vault; without it secrets stay in the local store', async () => {
  expect((await secretStoreFrom({ WORKOS_API_KEY: 'sk_test_vault' })).kind).toBe('workos');
  expect((await secretStoreFrom({})).kind).toBe('local');
});
