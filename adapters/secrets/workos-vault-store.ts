import { GatewayError } from '../../core/errors.js';
import type { SecretStore } from './secret-port.js';

export interface WorkosVaultStoreOptions {
  apiKey: string;
  /** The API root; https://api.workos.com unless a test or a proxy says otherwise. */
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface VaultObject {
  id: string;
  name: string;
  value?: string;
}

/**
 * Secrets kept in WorkOS Vault's key-value objects (https://workos.com/docs/reference/vault).
 * Each object's name carries the workspace id, and its key context names the workspace, so
 * Vault encrypts each workspace's secrets under keys of their own.
 */
export class WorkosVaultStore implements SecretStore {
  readonly kind = 'workos' as const;
  private readonly apiKey: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: WorkosVaultStoreOptions) {
    this.apiKey = options.apiKey;
    this.baseUrl = (options.baseUrl ?? 'https://api.workos.com').replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async put(workspaceId: string, name: string, value: string): Promise<void> {
    const objectName = vaultName(workspaceId, name);
    const existing = await this.readByName(objectName);

    if (existing) {
      await this.call('PUT', `/vault/v1/kv/${encodeURIComponent(existing.id)}`, { value });
      return;
    }
    await this.call('POST', '/vault/v1/kv', {
      name: objectName,
      value,
      key_context: { workspace_id: workspaceId },
    });
  }

  async get(workspaceId: string, name: string): Promise<string | null> {
    const object = await this.readByName(vaultName(workspaceId, name));
    return object?.value ?? null;
  }

  async delete(workspaceId: string, name: string): Promise<void> {
    const existing = await this.readByName(vaultName(workspaceId, name));
    if (!existing) return;
    await this.call('DELETE', `/vault/v1/kv/${encodeURIComponent(existing.id)}`);
  }

  private async readByName(objectName: string): Promise<VaultObject | null> {
    const body = await this.call('GET', `/vault/v1/kv/name/${encodeURIComponent(objectName)}`);
    if (body === null) return null;

    const object = body as Partial<VaultObject>;
    // A proxy or a mix-up that answers with another object must not hand its value over.
    if (typeof object.id !== 'string' || object.name !== objectName) {
      throw new GatewayError(
        'secret_store_unavailable',
        'WorkOS Vault answered with another object.',
      );
    }
    return object as VaultObject;
  }

  /** One Vault request; answers the JSON body, or null for a 404 on a read. */
  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new GatewayError('secret_store_unavailable', 'WorkOS Vault did not answer.', {
        providerStatus: 0,
        cause: new Error(cause instanceof Error ? cause.name : 'fetch failed'),
      });
    }

    if (response.status === 404 && method === 'GET') {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      // The body may echo what was sent; it is dropped, only the status is kept.
      await response.body?.cancel();
      const what =
        response.status === 401 ? 'refused WORKOS_API_KEY' : `answered ${response.status}`;
      throw new GatewayError('secret_store_unavailable', `WorkOS Vault ${what} on ${method}.`, {
        providerStatus: response.status,
      });
    }
    if (response.status === 204) return {};
    const text = await response.text();
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      // A parse error quotes the text it choked on, which may be a secret: say only what failed.
      throw new GatewayError('secret_store_unavailable', 'WorkOS Vault answered with no JSON.', {
        providerStatus: response.status,
      });
    }
  }
}

/** The Vault object name of a workspace's secret. */
function vaultName(workspaceId: string, name: string): string {
  return `second-gateway-${workspaceId}-${name}`;
}
