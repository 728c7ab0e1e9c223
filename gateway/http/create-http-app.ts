import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { Logger } from 'pino';
import { ERROR_REGISTRY } from '../../core/errors.js';
import type { AuthHooks } from './auth-hooks.js';
import { installErrorHandler } from './error-handler.js';
import { installRequestContext } from './request-context.js';
import { STRICT_HELMET } from './security-headers.js';
import type { GatewayMetrics } from '../metrics.js';

/** A plugin adding routes to one scope of the gateway. */
export type RoutePlugin = (scope: FastifyInstance) => Promise<void>;

/** Route plugins by the credential their scope requires. */
export interface ScopedRoutes {
  /** No credential: health, metrics, the session sign-in and sign-out, the UI's files. */
  public: RoutePlugin[];
  /** `/api/v1` behind a user token or session cookie (roles are checked per route). */
  user: RoutePlugin[];
  /** `/internal/v1` behind a worker token. */
  worker: RoutePlugin[];
  /** `/preview`: checks its credential itself, and sets its own headers. */
  preview: RoutePlugin[];
}

export interface HttpAppOptions {
  logger: Logger;
  metrics: GatewayMetrics;
  auth: AuthHooks;
  routes: ScopedRoutes;
  /** Largest JSON body (default 1 MiB); the build upload has its own caps. */
  bodyLimit?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Request ids: the caller's `X-Request-Id` when it is short and plain (a proxy's id then ties
 * the log lines together), else this process's prefix and a counter.
 */
function requestIdGenerator(): (request: IncomingMessage) => string {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return (request) => {
    const given = request.headers['x-request-id'];
    if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
    counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
    return `${prefix}-${counter.toString(36)}`;
  };
}

/**
 * The gateway's Fastify app, not yet listening. Each kind of route lives in its own scope so
 * that hooks and plugins apply where they are needed only: the preview hot path carries no
 * helmet, cookie or multipart hook.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is Fastify's logger; the cast only drops pino's extra generic parameters.
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdGenerator(),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    // A URL that cannot be percent-decoded names nothing: 404, like any other unknown path, so
    // that a malformed id and a missing one cannot be told apart.
    frameworkErrors: (error, request, reply) => {
      const status = error.code === 'FST_ERR_BAD_URL' ? 404 : 400;
      const code = status === 404 ? 'not_found' : 'invalid_request';
      request.errorCode = code;
      void (reply as FastifyReply)
        .code(status)
        .header('x-content-type-options', 'nosniff')
        .type('application/json; charset=utf-8')
        .send({ error: { code, message: ERROR_REGISTRY[code].message } });
    },
  });

  installRequestContext(app, options.metrics);
  installErrorHandler(app);

  await app.register(async (scope) => {
    await scope.register(helmet, STRICT_HELMET);
    await scope.register(cookie, { hook: false });

    for (const plugin of options.routes.public) await scope.register(plugin);

    await scope.register(async (users) => {
      users.addHook('onRequest', options.auth.requireUser);
      for (const plugin of options.routes.user) await users.register(plugin);
    });

    await scope.register(async (workers) => {
      workers.addHook('onRequest', options.auth.requireWorker);
      for (const plugin of options.routes.worker) await workers.register(plugin);
    });
  });

  await app.register(async (scope) => {
    for (const plugin of options.routes.preview) await scope.register(plugin);
  });

  return app;
}
