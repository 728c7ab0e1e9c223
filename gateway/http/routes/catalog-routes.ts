import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../adapters/store/store-port.js';
import { assertCatalogEnabled } from '../../catalog/catalog-session.js';
import { installFromCatalog, type CatalogChangeDeps } from '../../catalog/install-app.js';
import { listCatalog, type CatalogListDeps } from '../../catalog/list-catalog.js';
import { updateFromCatalog } from '../../catalog/update-app.js';
import { toAppView } from '../../services/views.js';
import type { AuthHooks } from '../auth-hooks.js';
import { readerOf, sendJson, userOf, writerOf } from '../request-context.js';

/** The auth hooks, the store, and what the listing and the changes each need. */
export interface CatalogRouteDeps {
  auth: AuthHooks;
  store: Store;
  list: CatalogListDeps;
  change: CatalogChangeDeps;
}

/**
 * Available Apps: the listing (any member; it reads and never writes), install and update
 * (builders and above). Where the catalog is off every route answers `catalog_disabled`.
 */
export async function catalogRoutes(app: FastifyInstance, deps: CatalogRouteDeps): Promise<void> {
  const { auth, store } = deps;
  const enabled = { onRequest: async () => assertCatalogEnabled(deps.list) };
  const builder = { onRequest: [enabled.onRequest, auth.requireRole('builder')] };

  app.get('/api/v1/catalog', enabled, async (request, reply) => {
    const entries = await listCatalog(deps.list, readerOf(store, request));
    return sendJson(reply, 200, { entries });
  });

  app.post('/api/v1/catalog/install', builder, async (request, reply) => {
    const user = userOf(request);
    const installed = await installFromCatalog(
      deps.change,
      writerOf(store, request),
      request.body ?? null,
      user.sub,
    );
    return sendJson(reply, 201, { app: toAppView(installed) });
  });

  app.post('/api/v1/catalog/update', builder, async (request, reply) => {
    const user = userOf(request);
    const updated = await updateFromCatalog(
      deps.change,
      writerOf(store, request),
      request.body ?? null,
      user.sub,
    );
    return sendJson(reply, 200, { app: toAppView(updated) });
  });
}
