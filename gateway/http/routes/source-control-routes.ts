import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { GatewayError } from '../../../core/errors.js';
import { isSafeId } from '../../../core/ids.js';
import type { AppRecord } from '../../../core/model.js';
import type { Store, WorkspaceStore } from '../../../adapters/store/store-port.js';
import type { EventHub } from '../../events/event-hub.js';
import {
  publishApp,
  restoreVersionAsDraft,
  retrySync,
  shareApp,
  type AppActionDeps,
} from '../../source-control/app-actions.js';
import {
  deleteSettings,
  readSettings,
  saveSettings,
  type SettingsServiceDeps,
} from '../../source-control/settings-service.js';
import type { ArchiveLimits } from '../../ingest/read-snapshot-archive.js';
import type { BuildService } from '../../services/build-service.js';
import { toAppView, toVersionView } from '../../services/views.js';
import type { AuthHooks } from '../auth-hooks.js';
import { BUILD_MULTIPART_LIMITS, withBuildUpload } from '../read-build-upload.js';
import { readerOf, sendJson, userOf, writerOf } from '../request-context.js';

export interface SourceControlRouteDeps {
  auth: AuthHooks;
  store: Store;
  settings: SettingsServiceDeps;
  actions: AppActionDeps;
  /** Called after settings were saved with a new token, to release syncs held by a failure. */
  onSettingsSaved: (workspaceId: string) => Promise<void>;
  /** How a publish that carries a session's live files saves them as a build. */
  liveFiles: {
    builds: BuildService;
    dataDir: string;
    limits?: Partial<ArchiveLimits>;
  };
}

interface AppParams {
  appId: string;
}

/** Settings, the source-control actions of an app, its versions, and the audit log. */
export async function sourceControlRoutes(
  app: FastifyInstance,
  deps: SourceControlRouteDeps,
): Promise<void> {
  const { auth, store } = deps;
  const admin = { onRequest: auth.requireRole('admin') };
  const builder = { onRequest: auth.requireRole('builder') };

  app.get('/api/v1/source-control', async (request, reply) =>
    sendJson(reply, 200, { settings: await readSettings(readerOf(store, request)) }),
  );

  app.put('/api/v1/source-control', admin, async (request, reply) => {
    const user = userOf(request);
    const workspace = writerOf(store, request);
    const settings = await saveSettings(deps.settings, workspace, user.sub, request.body ?? {});
    request.log.info(
      { provider: settings.provider, owner: settings.owner },
      `source control saved: ${settings.provider} ${settings.owner}`,
    );
    await deps.onSettingsSaved(workspace.workspaceId);
    return sendJson(reply, 200, { settings });
  });

  app.delete('/api/v1/source-control', admin, async (request, reply) => {
    await deleteSettings(deps.settings, writerOf(store, request), userOf(request).sub);
    request.log.info('source control disconnected; the token was deleted');
    return reply.code(204).send();
  });

  // Publish takes an empty or JSON body (the stored draft), or the live files of a session as
  // multipart/form-data, as a build is handed in. The multipart parser is registered for this
  // one route, in a scope of its own.
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: BUILD_MULTIPART_LIMITS });

    scope.post<{ Params: AppParams }>(
      '/api/v1/apps/:appId/source-control/publish',
      builder,
      async (request, reply) => {
        const user = userOf(request);
        const workspace = writerOf(store, request);
        const updated = await publishApp(
          deps.actions,
          workspace,
          request.params.appId,
          user.sub,
          request.isMultipart()
            ? (target) => saveLiveFiles(deps.liveFiles, request, workspace, target, user.sub)
            : undefined,
        );
        return sendJson(reply, 202, { app: toAppView(updated) });
      },
    );
  });

  app.post<{ Params: AppParams }>(
    '/api/v1/apps/:appId/source-control/retry',
    builder,
    async (request, reply) => {
      const user = userOf(request);
      const updated = await retrySync(
        deps.actions,
        writerOf(store, request),
        request.params.appId,
        user.sub,
      );
      return sendJson(reply, 202, { app: toAppView(updated) });
    },
  );

  app.post<{ Params: AppParams; Body: { available?: unknown } | null }>(
    '/api/v1/apps/:appId/source-control/share',
    builder,
    async (request, reply) => {
      const user = userOf(request);
      const updated = await shareApp(
        deps.actions,
        writerOf(store, request),
        request.params.appId,
        request.body?.available,
        user.sub,
      );
      return sendJson(reply, 202, { app: toAppView(updated) });
    },
  );

  app.get<{ Params: AppParams }>('/api/v1/apps/:appId/versions', async (request, reply) => {
    const reader = readerOf(store, request);
    const { appId } = request.params;
    if (!isSafeId(appId) || !(await reader.getApp(appId))) throw new GatewayError('not_found');
    const versions = await reader.listVersions(appId);
    return sendJson(reply, 200, { versions: versions.map(toVersionView) });
  });

  app.post<{ Params: AppParams & { version: string } }>(
    '/api/v1/apps/:appId/versions/:version/restore-draft',
    builder,
    async (request, reply) => {
      const user = userOf(request);
      const updated = await restoreVersionAsDraft(
        deps.actions,
        writerOf(store, request),
        request.params.appId,
        request.params.version,
        user.sub,
      );
      return sendJson(reply, 200, { app: toAppView(updated) });
    },
  );

  app.get<{ Querystring: { appId?: string; limit?: string } }>(
    '/api/v1/audit',
    admin,
    async (request, reply) => {
      const limit = Math.min(Math.max(Number(request.query.limit) || 100, 1), 500);
      const appId = request.query.appId;
      const events = await readerOf(store, request).listAudit({
        ...(appId !== undefined ? { appId } : {}),
        limit,
      });
      return sendJson(reply, 200, {
        events: events.map((e) => ({
          id: e.id,
          at: e.at,
          actor: e.actor,
          action: e.action,
          appId: e.appId,
          outcome: e.outcome,
          code: e.code,
        })),
      });
    },
  );
}

/** How often an idle event stream gets a comment line, so proxies keep it open. */
const HEARTBEAT_MS = 25_000;

/** `GET /api/v1/events`: the workspace's invalidation hints as Server-Sent Events. */
export async function eventRoutes(app: FastifyInstance, deps: { events: EventHub }): Promise<void> {
  app.get('/api/v1/events', async (request, reply) => {
    const workspaceId = userOf(request).workspaceId;
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    raw.write(': connected\n\n');

    const unsubscribe = deps.events.subscribe(workspaceId, (event) => {
      raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();

    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
    };
    request.raw.on('close', end);
    raw.on('error', end);
  });
}

/** Reads live files handed with a publish and saves them as the app's new build. */
async function saveLiveFiles(
  deps: SourceControlRouteDeps['liveFiles'],
  request: FastifyRequest,
  workspace: WorkspaceStore,
  app: AppRecord,
  actor: string,
): Promise<AppRecord> {
  const stagingRoot = join(deps.dataDir, 'tmp');
  const saved = await withBuildUpload(request, { stagingRoot, limits: deps.limits }, (upload) =>
    deps.builds.ingest({
      workspace,
      app,
      actor,
      summary: upload.summary,
      files: upload.files,
      skipped: upload.skipped,
    }),
  );
  request.log.info(
    { appId: app.id, buildId: saved.build.id },
    `publish of app ${app.id} handed its live files: saved as build ${saved.build.id}`,
  );
  return saved.app;
}
