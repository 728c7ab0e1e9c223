import { join } from 'node:path';
import { makeTar, sampleApp, uploadBuild } from '../gateway/gateway-fixtures.js';
import {
  seedApp,
  startCatalogWorld,
  type CatalogWorld,
} from '../gateway/catalog/catalog-support.js';
import { OTHER_WORKSPACE, WORKSPACE } from '../support/gateway-harness.js';
import { treeOf } from './security-support.js';

/** The catalog repository the world's installed app comes from. */
export const CATALOG_REPO = 'second-app-alpha';

/**
 * A gateway in `local` mode connected to a GitHub Enterprise double, holding in workspace
 * `acme` an app installed from the catalog, an app published to the double (version 1, synced)
 * and a bystander app, and in workspace `globex` an app with a build of its own.
 */
export interface SecurityWorld extends CatalogWorld {
  installed: string;
  published: string;
  bystander: string;
  theirs: string;
  /** What a side effect could change: store writes, audit, provider and git requests, mirrors. */
  sideEffects(): Promise<SideEffects>;
}

export interface SideEffects {
  writes: number;
  audit: { ours: number; theirs: number };
  providerRequests: number;
  gitRequests: number;
  mirrors: string[];
}

async function post(world: CatalogWorld, path: string, body: unknown): Promise<Response> {
  return world.h.gateway.request(path, {
    method: 'POST',
    token: await world.h.gateway.userToken({ role: 'builder' }),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function built(world: CatalogWorld, appId: string, workspaceId = WORKSPACE): Promise<void> {
  const token = await world.h.gateway.workerToken(appId, { workspaceId });
  const response = await uploadBuild(world.h.gateway, appId, token, await makeTar(sampleApp()));
  if (response.status !== 201) throw new Error(`a build answered ${response.status}`);
}

/** Starts the world; `close()` it after. */
export async function startSecurityWorld(): Promise<SecurityWorld> {
  const world = await startCatalogWorld();
  const gateway = world.h.gateway;
  try {
    await seedApp(world, CATALOG_REPO);
    const installing = await post(world, '/api/v1/catalog/install', { repo: CATALOG_REPO });
    if (installing.status !== 201) throw new Error(`install answered ${installing.status}`);
    const installed = ((await installing.json()) as { app: { id: string } }).app.id;

    const published = await gateway.createApp('Published Console');
    await built(world, published);
    const publishing = await post(world, `/api/v1/apps/${published}/source-control/publish`, {});
    if (publishing.status !== 202) throw new Error(`publish answered ${publishing.status}`);
    await world.h.settle();
    const app = (await gateway.store.reader(WORKSPACE).getApp(published))!;
    if (app.sourceControl.version !== 1) throw new Error('the published app did not sync');

    const bystander = await gateway.createApp('Bystander');
    await built(world, bystander);
    const theirs = await gateway.createApp('Globex Console', { workspaceId: OTHER_WORKSPACE });
    await built(world, theirs, OTHER_WORKSPACE);
    await world.h.settle();

    const sideEffects = async (): Promise<SideEffects> => ({
      writes: gateway.store.writeCount,
      audit: {
        ours: (await gateway.store.reader(WORKSPACE).listAudit({ limit: 1000 })).length,
        theirs: (await gateway.store.reader(OTHER_WORKSPACE).listAudit({ limit: 1000 })).length,
      },
      providerRequests: world.double.requests.length,
      gitRequests: world.h.git.requests.length,
      mirrors: await treeOf(join(gateway.dataDir, 'mirrors'), { stats: true }),
    });

    return { ...world, installed, published, bystander, theirs, sideEffects };
  } catch (error) {
    await world.close();
    throw error;
  }
}
