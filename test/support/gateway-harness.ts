import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createStore } from '../../adapters/store/create-store.js';
import type { Store } from '../../adapters/store/store-port.js';
import type { Role } from '../../core/model.js';
import { mintToken } from '../../gateway/auth/mint-token.js';
import { loadConfig, type GatewayConfig } from '../../gateway/config.js';
import { createGateway, type Gateway, type GatewayDeps } from '../../gateway/create-gateway.js';
import { mergeDeps } from '../../gateway/start-gateway.js';

/** The workspaces a harness mints tokens for by default. */
export const WORKSPACE = 'acme';
export const OTHER_WORKSPACE = 'globex';

export interface HarnessOptions {
  /** Environment variables on top of the harness's (DATA_DIR, GATEWAY_JWT_SECRET, LOG_LEVEL). */
  env?: Record<string, string>;
  /** More gateway dependencies (routes, sync hooks, preview cache sizes). */
  deps?: Partial<Omit<GatewayDeps, 'config' | 'store'>>;
  /** Dependencies that need the opened store (the source-control module, for example). */
  depsWithStore?: (opened: {
    store: Store;
    config: GatewayConfig;
  }) => Partial<Omit<GatewayDeps, 'config' | 'store'>>;
  logger?: Logger;
}

export interface UserTokenOptions {
  workspaceId?: string;
  role?: Role;
  sub?: string;
  ttlSeconds?: number;
  /** Epoch seconds; back-date a token to test expiry. */
  issuedAt?: number;
}

/** A running gateway on 127.0.0.1 (ephemeral port), a temporary DATA_DIR and real SQLite. */
export interface GatewayHarness {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  dataDir: string;
  config: GatewayConfig;
  gateway: Gateway;
  store: Store;
  /** A user token (default: workspace `acme`, role `owner`). */
  userToken(options?: UserTokenOptions): Promise<string>;
  /** A worker token for one app (default workspace `acme`). */
  workerToken(
    appId: string,
    options?: { workspaceId?: string; ttlSeconds?: number },
  ): Promise<string>;
  /** `fetch` against the gateway with an optional bearer token. */
  request(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  /** Creates an app through the API and answers its id. */
  createApp(name?: string, options?: { workspaceId?: string }): Promise<string>;
  /** Stops the gateway (which closes the store) and removes DATA_DIR. */
  close(): Promise<void>;
}

/** Starts a gateway for a test. Always `close()` it (an `afterAll`/`afterEach`). */
export async function startGatewayHarness(options: HarnessOptions = {}): Promise<GatewayHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gateway-harness-'));
  const config = await loadConfig({
    DATA_DIR: dataDir,
    GATEWAY_JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'silent',
    ...options.env,
  });

  const store = await createStore({ dataDir, logger: options.logger });
  let gateway: Gateway;
  try {
    const withStore = options.depsWithStore?.({ store, config }) ?? {};
    gateway = await createGateway({
      ...mergeDeps(options.deps ?? {}, withStore),
      config,
      store,
      logger: options.logger,
    });
  } catch (error) {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = (await gateway.listen({ host: '127.0.0.1', port: 0 })).replace(/\/$/, '');

  const userToken = (token: UserTokenOptions = {}) =>
    mintToken({
      secret: config.jwtSecret,
      workspaceId: token.workspaceId ?? WORKSPACE,
      role: token.role ?? 'owner',
      sub: token.sub ?? `user-${token.role ?? 'owner'}`,
      ttlSeconds: token.ttlSeconds,
      issuedAt: token.issuedAt,
    });

  const request = (path: string, init: RequestInit & { token?: string } = {}) => {
    const { token, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    return fetch(`${url}${path}`, { ...rest, headers });
  };

  return {
    url,
    dataDir,
    config,
    gateway,
    store,
    userToken,
    workerToken: (appId, worker = {}) =>
      mintToken({
        secret: config.jwtSecret,
        workspaceId: worker.workspaceId ?? WORKSPACE,
        role: 'worker',
        appId,
        ttlSeconds: worker.ttlSeconds,
      }),
    request,
    async createApp(name = 'Customer Console', app = {}) {
      const token = await userToken({ workspaceId: app.workspaceId, role: 'builder' });
      const response = await request('/api/v1/apps', {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (response.status !== 201) throw new Error(`creating an app answered ${response.status}`);
      return ((await response.json()) as { app: { id: string } }).app.id;
    },
    async close() {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
