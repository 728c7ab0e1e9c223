import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSecretStore } from '../../../adapters/secrets/local-secret-store.js';
import { createStore } from '../../../adapters/store/create-store.js';
import type { Store } from '../../../adapters/store/store-port.js';

const CANARY = 'glpat-CANARYlocalSECRET0123456789';

describe('local secret store (AES-256-GCM in the gateway store)', () => {
  let dir: string;
  let store: Store;
  const key = randomBytes(32);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secrets-'));
    store = await createStore({ dataDir: dir });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('round-trips a value and stores only ciphertext', async () => {
    const secrets = new LocalSecretStore({ store, key });
    await secrets.put('ws1', 'provider-token', CANARY);

    expect(await secrets.get('ws1', 'provider-token')).toBe(CANARY);
    const sealed = await store.reader('ws1').getSecret('provider-token');
    expect(sealed).not.toContain(CANARY);
    expect(sealed).not.toContain(Buffer.from(CANARY).toString('base64'));
    expect(sealed?.startsWith('v1.')).toBe(true);
  });

  test('uses a fresh IV for every write', async () => {
    const secrets = new LocalSecretStore({ store, key });
    await secrets.put('ws1', 'provider-token', CANARY);
    const first = await store.reader('ws1').getSecret('provider-token');
    await secrets.put('ws1', 'provider-token', CANARY);
    const second = await store.reader('ws1').getSecret('provider-token');
    expect(first).not.toBe(second);
  });

  test('a sealed value moved to another workspace or name fails its integrity check', async () => {
    const secrets = new LocalSecretStore({ store, key });
    await secrets.put('ws1', 'provider-token', CANARY);
    const sealed = (await store.reader('ws1').getSecret('provider-token'))!;

    await store.workspace('ws2').putSecret('provider-token', sealed);
    await expect(secrets.get('ws2', 'provider-token')).rejects.toMatchObject({ code: 'internal' });

    await store.workspace('ws1').putSecret('other-name', sealed);
    await expect(secrets.get('ws1', 'other-name')).rejects.toMatchObject({ code: 'internal' });
  });

  test('a tampered ciphertext or a shortened tag is refused', async () => {
    const secrets = new LocalSecretStore({ store, key });
    await secrets.put('ws1', 'provider-token', CANARY);
    const [format, keyId, iv, ciphertext, tag] = (await store
      .reader('ws1')
      .getSecret('provider-token'))!.split('.');

    const flipped = Buffer.from(ciphertext!, 'base64');
    flipped[0]! ^= 1;
    await store
      .workspace('ws1')
      .putSecret('provider-token', [format, keyId, iv, flipped.toString('base64'), tag].join('.'));
    await expect(secrets.get('ws1', 'provider-token')).rejects.toMatchObject({ code: 'internal' });

    const shortTag = Buffer.from(tag!, 'base64').subarray(0, 4).toString('base64');
    await store
      .workspace('ws1')
      .putSecret('provider-token', [format, keyId, iv, ciphertext, shortTag].join('.'));
    await expect(secrets.get('ws1', 'provider-token')).rejects.toMatchObject({ code: 'internal' });
  });

  test('reads values sealed with a previous key after a rotation, and says they need rewriting', async () => {
    const oldKey = randomBytes(32);
    await new LocalSecretStore({ store, key: oldKey }).put('ws1', 'provider-token', CANARY);

    const rotated = new LocalSecretStore({ store, key, previousKeys: [oldKey] });
    expect(await rotated.get('ws1', 'provider-token')).toBe(CANARY);
    expect(await rotated.needsRotation('ws1', 'provider-token')).toBe(true);

    await rotated.put('ws1', 'provider-token', CANARY);
    expect(await rotated.needsRotation('ws1', 'provider-token')).toBe(false);

    const withoutOldKey = new LocalSecretStore({ store, key: randomBytes(32) });
    await expect(withoutOldKey.get('ws1', 'provider-token')).rejects.toThrow(/SECRET_KEY/);
  });

  test('delete removes the value; a missing value reads as null', async () => {
    const secrets = new LocalSecretStore({ store, key });
    expect(await secrets.get('ws1', 'provider-token')).toBeNull();
    await secrets.put('ws1', 'provider-token', CANARY);
    await secrets.delete('ws1', 'provider-token');
    expect(await secrets.get('ws1', 'provider-token')).toBeNull();
  });

  test('refuses a key that is not 32 bytes', () => {
    expect(() => new LocalSecretStore({ store, key: randomBytes(16) })).toThrow(/32 bytes/);
  });
});
