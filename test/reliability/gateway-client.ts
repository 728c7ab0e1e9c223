import { randomBytes } from 'node:crypto';
import { mintToken } from '../../gateway/auth/mint-token.js';
import { makeTar, type FileTree } from '../gateway/gateway-fixtures.js';

/** The workspace every reliability test works in. */
export const WORKSPACE = 'acme';

/** The owner folder of app repositories on the test git server. */
export const GIT_OWNER = 'acme-apps';

/** The password the test git server accepts. */
export const GIT_TOKEN = 'reliability-git-token-0123456789';

export interface SourceControlView {
  backed: boolean;
  status: string;
  repo: string | null;
  version: number | null;
  tag: string | null;
  commitSha: string | null;
  sourceHash: string | null;
  pushed: boolean;
  lastError: { code: string; message: string } | null;
  nextRetryAt: string | null;
}

export interface AppView {
  id: string;
  name: string;
  draft: { buildId: string; snapshotHash: string } | null;
  sourceControl: SourceControlView;
}

export interface BuildView {
  id: string;
  snapshotHash: string;
  createdAt: string;
  sync: { status: string; version: number | null; error: { code: string } | null };
}

export interface VersionView {
  version: number;
  tag: string;
  commitSha: string;
  sourceHash: string;
  pushed: boolean;
}

/** Secrets shared by every process of one test, so a restarted gateway accepts the same tokens. */
export interface GatewaySecrets {
  jwtSecret: string;
  secretKey: string;
}

export function newSecrets(): GatewaySecrets {
  return {
    jwtSecret: randomBytes(32).toString('hex'),
    secretKey: randomBytes(32).toString('base64'),
  };
}

/** The environment every gateway process of a test gets, on top of its own. */
export function baseEnv(secrets: GatewaySecrets): Record<string, string> {
  return {
    GATEWAY_JWT_SECRET: secrets.jwtSecret,
    SECRET_KEY: secrets.secretKey,
    DEPLOYMENT_MODE: 'onprem',
    REMOTE_TIMEOUT_MS: '5000',
    // A crashed gateway's lease holds its apps back this long; the default is two minutes.
    SYNC_LEASE_TTL_MS: '1500',
  };
}

/** The API of one gateway process, spoken the way workers and admins speak it. */
export class GatewayClient {
  constructor(
    readonly url: string,
    private readonly secrets: GatewaySecrets,
  ) {}

  private async userToken(role: 'owner' | 'builder' | 'viewer'): Promise<string> {
    return mintToken({
      secret: new TextEncoder().encode(this.secrets.jwtSecret),
      workspaceId: WORKSPACE,
      role,
      sub: `reliability-${role}`,
    });
  }

  private async request(
    path: string,
    init: RequestInit & { role?: 'owner' | 'builder' | 'viewer'; token?: string } = {},
  ): Promise<Response> {
    const token = init.token ?? (await this.userToken(init.role ?? 'viewer'));
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(`${this.url}${path}`, { ...init, headers });
  }

  private async json<T>(path: string, init: Parameters<GatewayClient['request']>[1] = {}) {
    const response = await this.request(path, init);
    const body = (await response.json()) as T;
    return { status: response.status, body };
  }

  /** Saves the plain-git settings with the store-every-build policy on. */
  async connect(gitBaseUrl: string): Promise<void> {
    const { status, body } = await this.json('/api/v1/source-control', {
      method: 'PUT',
      role: 'owner',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        provider: 'git',
        baseUrl: gitBaseUrl,
        owner: GIT_OWNER,
        ownerType: 'org',
        token: GIT_TOKEN,
        storeAppSource: true,
      }),
    });
    if (status !== 200)
      throw new Error(`saving settings answered ${status} ${JSON.stringify(body)}`);
  }

  async createApp(name: string): Promise<string> {
    const { status, body } = await this.json<{ app: AppView }>('/api/v1/apps', {
      method: 'POST',
      role: 'builder',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (status !== 201) throw new Error(`creating an app answered ${status}`);
    return body.app.id;
  }

  /** `done_building` with a tar of `files`; answers the HTTP status and the body. */
  async uploadBuild(
    appId: string,
    files: FileTree,
    summary: string,
  ): Promise<{ status: number; body: { build?: BuildView; error?: { code: string } } }> {
    const token = await mintToken({
      secret: new TextEncoder().encode(this.secrets.jwtSecret),
      workspaceId: WORKSPACE,
      role: 'worker',
      appId,
    });
    const form = new FormData();
    form.append('summary', summary);
    form.append('snapshot', new Blob([new Uint8Array(await makeTar(files))]), 'snapshot.tar');
    return this.json(`/internal/v1/apps/${appId}/builds`, { method: 'POST', token, body: form });
  }

  async app(appId: string): Promise<AppView> {
    const { status, body } = await this.json<{ app: AppView }>(`/api/v1/apps/${appId}`);
    if (status !== 200) throw new Error(`GET app answered ${status}`);
    return body.app;
  }

  async builds(appId: string): Promise<BuildView[]> {
    const { status, body } = await this.json<{ builds: BuildView[] }>(
      `/api/v1/apps/${appId}/builds`,
    );
    if (status !== 200) throw new Error(`GET builds answered ${status}`);
    return body.builds;
  }

  async versions(appId: string): Promise<VersionView[]> {
    const { status, body } = await this.json<{ versions: VersionView[] }>(
      `/api/v1/apps/${appId}/versions`,
    );
    if (status !== 200) throw new Error(`GET versions answered ${status}`);
    return body.versions;
  }

  /** The retry action; answers the status and the error code, if any. */
  async retry(appId: string): Promise<{ status: number; code: string | null }> {
    const { status, body } = await this.json<{ error?: { code: string } }>(
      `/api/v1/apps/${appId}/source-control/retry`,
      { method: 'POST', role: 'builder' },
    );
    return { status, code: body.error?.code ?? null };
  }

  /** A preview page: status and body text. */
  async preview(appId: string, path = ''): Promise<{ status: number; text: string }> {
    const response = await this.request(`/preview/${appId}/${path}`);
    return { status: response.status, text: await response.text() };
  }
}

/** A small app whose source differs from every other `n` (and `app`). */
export function distinctApp(app: string, n: number): FileTree {
  return {
    'package.json': `{"name":"${app}"}\n`,
    'src/main.ts': `export const build = ${n};\n`,
    'dist/index.html': `<!doctype html><title>${app} build ${n}</title><p>build ${n}</p>`,
    'dist/assets/app.js': `document.title = "${app} ${n}";\n`,
  };
}

/** Polls `check` until it answers true; throws `describe()` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<string> | string,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(await describe());
    await new Promise((resolveWait) => setTimeout(resolveWait, intervalMs));
  }
}
