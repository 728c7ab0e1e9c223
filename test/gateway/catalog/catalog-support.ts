import { createHash } from 'node:crypto';
import { buildManifest, serializeManifest } from '../../../core/manifest.js';
import { summarizeSource } from '../../../core/source-hash.js';
import type { GatewayDeps } from '../../../gateway/create-gateway.js';
import type { GatewayHarness } from '../../support/gateway-harness.js';
import { startGitHubDouble, type GitHubDouble } from '../../doubles/github/github-double.js';
import {
  startSourceControlHarness,
  type SourceControlHarness,
} from '../../support/source-control-harness.js';
import { startArchiveSwapProxy, type ArchiveSwapProxy } from './archive-swap-proxy.js';

export const OWNER = 'acme';
export const TOKEN = 'ghp-catalog-token-0123456789abcdef';

export interface CatalogWorld {
  h: SourceControlHarness;
  double: GitHubDouble;
  proxy: ArchiveSwapProxy;
  close(): Promise<void>;
}

/**
 * A gateway in `local` mode connected to a GitHub Enterprise double (through a proxy that can
 * swap archives) whose organization `acme` holds the repositories a test seeds.
 */
export async function startCatalogWorld(
  env: Record<string, string> = {},
  options: { deps?: Partial<Omit<GatewayDeps, 'config' | 'store'>> } = {},
): Promise<CatalogWorld> {
  const double = await startGitHubDouble('ghes');
  double.addToken({ value: TOKEN, login: 'catalog-admin' });
  double.addOwner(OWNER, 'org');
  const proxy = await startArchiveSwapProxy(new URL(double.apiOrigin).origin);
  const h = await startSourceControlHarness({
    env: { DEPLOYMENT_MODE: 'local', ...env },
    deps: options.deps,
  });

  await connectGitHubEnterprise(h.gateway, proxy.origin, TOKEN);

  return {
    h,
    double,
    proxy,
    async close() {
      await h.close();
      await proxy.close();
      await double.close();
    },
  };
}

/**
 * Connects the harness's workspace, as an admin through the settings API, to a GitHub
 * Enterprise double (or a proxy in front of one) at `origin`, organization `acme`.
 */
export async function connectGitHubEnterprise(
  gateway: GatewayHarness,
  origin: string,
  token: string,
): Promise<void> {
  const saved = await gateway.request('/api/v1/source-control', {
    method: 'PUT',
    token: await gateway.userToken({ role: 'admin' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'github',
      baseUrl: `${origin}/api/v3`,
      owner: OWNER,
      ownerType: 'org',
      token,
    }),
  });
  if (saved.status !== 200)
    throw new Error(`connecting answered ${saved.status}: ${await saved.text()}`);
}

/** Files of a small app at a version. */
export function appFiles(version: number): Record<string, string> {
  return {
    'dist/index.html': `<!doctype html><title>v${version}</title>`,
    'src/main.ts': `export const version = ${version};\n`,
  };
}

/** The manifest bytes a version of `repo` carries, with a source hash matching `files`. */
export function manifestFor(
  repo: string,
  files: Record<string, string>,
  options: { version?: number; available?: boolean; appName?: string } = {},
): string {
  const source = summarizeSource(
    Object.entries(files).map(([path, body]) => ({
      path,
      size: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
    })),
  );
  return serializeManifest(
    buildManifest({
      appName: options.appName ?? `App ${repo}`,
      source,
      provider: 'github',
      owner: OWNER,
      repo,
      version: options.version ?? 1,
      availableInCatalog: options.available ?? true,
    }),
  ).toString('utf8');
}

/** Seeds a repository holding version 1 of an app, tagged, with or without the topic. */
export async function seedApp(
  world: CatalogWorld,
  repo: string,
  options: { topic?: boolean; available?: boolean; manifest?: string; appName?: string } = {},
): Promise<void> {
  const files = appFiles(1);
  await world.double.seedRepo(OWNER, repo, {
    topics: options.topic === false ? [] : ['second-app'],
    files: {
      ...files,
      'second-app.json':
        options.manifest ??
        manifestFor(repo, files, { available: options.available, appName: options.appName }),
    },
    tags: ['second-app-v1'],
  });
}
