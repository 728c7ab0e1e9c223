import { GatewayError } from '../../../core/errors.js';
import { WorkosVaultStore } from '../../../adapters/secrets/workos-vault-store.js';
import {
  startWorkosVaultDouble,
  type WorkosVaultDouble,
} from '../../doubles/workos/workos-vault-double.js';

const CANARY = 'ghp_CANARYvaultTOKEN0123456789abcdefABCD';

describe('WorkOS Vault secret store', () => {
  let vault: WorkosVaultDouble;
  let secrets: WorkosVaultStore;

  beforeEach(async () => {
    vault = await startWorkosVaultDouble();
    secrets = new WorkosVaultStore({ apiKey: vault.apiKey, baseUrl: vault.baseUrl });
  });
  afterEach(() => vault.close());

  test('creates, reads, replaces and deletes a workspace secret', async () => {
    expect(await secrets.get('ws1', 'provider-token')).toBeNull();

    await secrets.put('ws1', 'provider-token', CANARY);
    expect(await secrets.get('ws1', 'provider-token')).toBe(CANARY);
    const stored = vault.objects.get('second-gateway-ws1-provider-token');
    expect(stored?.context).toEqual({ workspace_id: 'ws1' });

    await secrets.put('ws1', 'provider-token', 'second-value');
    expect(await secrets.get('ws1', 'provider-token')).toBe('second-value');
    expect(vault.objects.size).toBe(1);

    await secrets.delete('ws1', 'provider-token');
    expect(await secrets.get('ws1', 'provider-token')).toBeNull();
    expect(vault.objects.size).toBe(0);
  });

  test("one workspace's secret is not another's", async () => {
    await secrets.put('ws1', 'provider-token', CANARY);
    expect(await secrets.get('ws2', 'provider-token')).toBeNull();
    await secrets.delete('ws2', 'provider-token');
    expect(await secrets.get('ws1', 'provider-token')).toBe(CANARY);
  });

  test('a refused API key or an outage is a safe secret_store_unavailable error', async () => {
    const wrongKey = new WorkosVaultStore({ apiKey: 'sk_wrong', baseUrl: vault.baseUrl });
    await expect(wrongKey.put('ws1', 'provider-token', CANARY)).rejects.toMatchObject({
      code: 'secret_store_unavailable',
      providerStatus: 401,
    });

    vault.setDown(true);
    const error = await secrets.put('ws1', 'provider-token', CANARY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('secret_store_unavailable');
    expect(JSON.stringify(error)).not.toContain(CANARY);
    expect(String((error as GatewayError).message)).not.toContain(CANARY);
  });

  test('an unreachable Vault reports status 0', async () => {
    await vault.close();
    const unreachable = new WorkosVaultStore({
      apiKey: 'sk_test_vault',
      baseUrl: vault.baseUrl,
      timeoutMs: 2000,
    });
    await expect(unreachable.get('ws1', 'provider-token')).rejects.toMatchObject({
      code: 'secret_store_unavailable',
      providerStatus: 0,
    });
    vault = await startWorkosVaultDouble();
  });
});
