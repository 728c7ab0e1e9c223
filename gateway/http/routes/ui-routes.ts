import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { GatewayError } from '../../../core/errors.js';

/** What the UI routes need: a logger, and where the built UI is. */
export interface UiRouteDeps {
  logger: Logger;
  /** The built UI (index.html and assets/); default `dist/ui` of the package. */
  dir?: string;
}

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Addresses the pages route themselves in the browser; each answers index.html. */
export const UI_PAGE_PATHS = [
  '/',
  '/sign-in',
  '/apps',
  '/apps/:appId',
  '/settings/source-control',
  '/available-apps',
  '/audit',
] as const;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

// Bundles carry a content hash in their names (scripts/build-ui.mjs), so a name always means the
// same bytes and browsers may keep them for a year; index.html names the current ones.
const HASHED_NAME = /-[A-Z0-9]{8,}\.[a-z0-9]+$/;
const LONG_CACHE = 'public, max-age=31536000, immutable';

/**
 * The admin UI: index.html at `/` and at every page address, and its assets under `/assets/`.
 * The files are read once when the gateway starts and served from memory; a rebuilt UI needs a
 * restart. When the UI was not built, the gateway runs without it and says so in its log.
 */
export async function uiRoutes(app: FastifyInstance, deps: UiRouteDeps): Promise<void> {
  const dir = deps.dir ?? join(packageRoot(), 'dist', 'ui');
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) {
    deps.logger.warn({ dir }, `admin UI not found in ${dir}; run "npm run build" to serve it at /`);
    return;
  }

  const index = readStatic(indexPath);
  const assets = readAssets(join(dir, 'assets'));

  const sendIndex = (request: FastifyRequest, reply: FastifyReply) =>
    sendStatic(request, reply, index, 'no-cache');
  for (const path of UI_PAGE_PATHS) app.get(path, sendIndex);

  app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const file = Object.hasOwn(assets, request.params.file)
      ? assets[request.params.file]
      : undefined;
    if (!file) throw new GatewayError('not_found');
    const caching = HASHED_NAME.test(request.params.file) ? LONG_CACHE : 'no-cache';
    return sendStatic(request, reply, file, caching);
  });
}

function sendStatic(
  request: FastifyRequest,
  reply: FastifyReply,
  file: StaticFile,
  cacheControl: string,
): FastifyReply {
  reply.header('cache-control', cacheControl).header('etag', file.etag);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.type).send(file.body);
}

function readAssets(assetsDir: string): Record<string, StaticFile> {
  const assets: Record<string, StaticFile> = {};
  if (!existsSync(assetsDir)) return assets;
  for (const name of readdirSync(assetsDir)) {
    const path = join(assetsDir, name);
    if (!statSync(path).isFile()) continue;
    assets[name] = readStatic(path);
  }
  return assets;
}

function readStatic(path: string): StaticFile {
  const body = readFileSync(path);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, type: TYPES[extname(path)] ?? 'application/octet-stream', etag };
}

/** The folder holding package.json, found from this file in the sources and in dist/ alike. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the gateway');
    dir = parent;
  }
  return dir;
}
