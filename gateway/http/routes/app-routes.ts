import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../adapters/store/store-port.js';
import type { AppService } from '../../services/app-service.js';
import { toAppView, toBuildView } from '../../services/views.js';
import type { AuthHooks } from '../auth-hooks.js';
import { readerOf, sendJson, writerOf } from '../request-context.js';

export interface AppRouteDeps {
  auth: AuthHooks;
  store: Store;
  apps: AppService;
}

interface AppParams {
  appId: string;
}

/**
 * Apps of the caller's workspace. Reads hold only the workspace's read-only view; an id that is
 * malformed, missing or another workspace's answers the same 404.
 */
export async function appRoutes(app: FastifyInstance, deps: AppRouteDeps): Promise<void> {
  const { auth, store, apps } = deps;

  app.post<{ Body: { name?: unknown } | null }>(
    '/api/v1/apps',
    { onRequest: auth.requireRole('builder') },
    async (request, reply) => {
      const created = await apps.create(writerOf(store, request), { name: request.body?.name });
      request.log.info({ appId: created.id }, `app ${created.id} created`);
      return sendJson(reply, 201, { app: toAppView(created) });
    },
  );

  app.get('/api/v1/apps', async (request, reply) => {
    const list = await apps.list(readerOf(store, request));
    return sendJson(reply, 200, { apps: list.map(toAppView) });
  });

  app.get<{ Params: AppParams }>('/api/v1/apps/:appId', async (request, reply) => {
    const found = await apps.get(readerOf(store, request), request.params.appId);
    return sendJson(reply, 200, { app: toAppView(found) });
  });

  app.get<{ Params: AppParams }>('/api/v1/apps/:appId/builds', async (request, reply) => {
    const builds = await apps.listBuilds(readerOf(store, request), request.params.appId);
    return sendJson(reply, 200, { builds: builds.map(toBuildView) });
  });
}
