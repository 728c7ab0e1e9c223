import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { GatewayError } from '../../../core/errors.js';
import { isSafeId } from '../../../core/ids.js';
import type { Store } from '../../../adapters/store/store-port.js';
import type { ArchiveLimits } from '../../ingest/read-snapshot-archive.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { BuildService } from '../../services/build-service.js';
import { toBuildView, toSourceControlView } from '../../services/views.js';
import { BUILD_MULTIPART_LIMITS, withBuildUpload } from '../read-build-upload.js';
import { sendJson, workerOf, writerOf } from '../request-context.js';

export interface BuildRouteDeps {
  store: Store;
  builds: BuildService;
  metrics: GatewayMetrics;
  dataDir: string;
  /** Caps of the archive reader, tighter than DESIGN's defaults (tests, small deployments). */
  limits?: Partial<ArchiveLimits>;
}

interface AppParams {
  appId: string;
}

/**
 * `POST /internal/v1/apps/:appId/builds` (`done_building`): a worker hands in a successful
 * build. The worker's token names the one app it may touch; any other id answers 404 before a
 * byte of the upload is read.
 */
export async function buildRoutes(app: FastifyInstance, deps: BuildRouteDeps): Promise<void> {
  const { store, builds, metrics } = deps;
  const stagingRoot = join(deps.dataDir, 'tmp');

  // Registered here, inside this route's scope, so its hooks cost nothing on other routes.
  await app.register(multipart, { limits: BUILD_MULTIPART_LIMITS });

  app.post<{ Params: AppParams }>('/internal/v1/apps/:appId/builds', async (request, reply) => {
    const worker = workerOf(request);
    const { appId } = request.params;
    if (!isSafeId(appId) || appId !== worker.appId) throw new GatewayError('not_found');

    const workspace = writerOf(store, request);
    const target = await workspace.getApp(appId);
    if (target === null) throw new GatewayError('not_found');

    const saved = await withBuildUpload(request, { stagingRoot, limits: deps.limits }, (upload) =>
      builds.ingest({
        workspace,
        app: target,
        actor: worker.sub,
        summary: upload.summary,
        files: upload.files,
        skipped: upload.skipped,
      }),
    );

    metrics.observeIngest(saved.build.totalBytes, saved.build.fileCount);
    return sendJson(reply, 201, {
      build: toBuildView(saved.build),
      sourceControl: toSourceControlView(saved.app.sourceControl),
    });
  });
}
