import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../../core/errors.js';
import { isSafeId } from '../../../core/ids.js';
import type { Store } from '../../../adapters/store/store-port.js';
import { restoreApp, type RestoreServiceDeps } from '../../restore/restore-service.js';
import { workerOf, writerOf } from '../request-context.js';

/** The store the route reads the app from, and the restore service's dependencies. */
export interface RestoreRouteDeps {
  store: Store;
  restore: RestoreServiceDeps;
}

interface AppParams {
  appId: string;
}

const MAX_VERSION = 999_999_999;

/** The body `{version?}`: a positive whole number, or nothing for the latest. */
function requestedVersion(body: unknown): number | null {
  if (body === undefined || body === null) return null;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError('invalid_request', 'The body must be a JSON object.');
  }
  const version = (body as { version?: unknown }).version;
  if (version === undefined || version === null) return null;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new GatewayError('invalid_request', 'Field version must be a positive whole number.');
  }
  if (version > MAX_VERSION) throw new GatewayError('not_found', 'The app has no such version.');
  return version;
}

/**
 * `POST /internal/v1/apps/:appId/restore`: a worker whose session died gets the app's files
 * back as a tar, with headers that say where they came from. The token names the one app the
 * worker may touch; any other id answers 404.
 */
export async function restoreRoutes(app: FastifyInstance, deps: RestoreRouteDeps): Promise<void> {
  app.post<{ Params: AppParams }>('/internal/v1/apps/:appId/restore', async (request, reply) => {
    const worker = workerOf(request);
    const { appId } = request.params;
    if (!isSafeId(appId) || appId !== worker.appId) throw new GatewayError('not_found');
    const version = requestedVersion(request.body);

    const workspace = writerOf(deps.store, request);
    const target = await workspace.getApp(appId);
    if (target === null) throw new GatewayError('not_found');

    const restored = await restoreApp(deps.restore, workspace, target, {
      version,
      actor: worker.sub,
    });

    reply
      .code(200)
      .type('application/x-tar')
      .header('x-source-origin', restored.origin)
      .header('x-source-hash', restored.sourceHash)
      .header('cache-control', 'no-store');
    if (restored.version !== null) reply.header('x-source-version', String(restored.version));
    if (restored.fallback) reply.header('x-source-fallback', 'mirror');
    return reply.send(restored.body);
  });
}
