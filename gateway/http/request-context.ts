import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { GatewayError } from '../../core/errors.js';
import type { WorkspaceReader, WorkspaceStore, Store } from '../../adapters/store/store-port.js';
import type { Principal, UserPrincipal, WorkerPrincipal } from '../auth/principal.js';
import type { GatewayMetrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the credential names; set by the auth hooks, null on public routes. */
    principal: Principal | null;
    /** The stable error code of the answer, when it is an error; for the access log. */
    errorCode: string | null;
  }
}

const UNMATCHED_ROUTE = '<unmatched>';

/**
 * Request decorations and the one access-log line per request: level by outcome (5xx error,
 * 4xx info, successful reads debug, successful changes info), with the workspace when known,
 * and the request duration metric by route pattern.
 */
export function installRequestContext(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('errorCode', null);

  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const elapsed = reply.elapsedTime;
    metrics.observeRequest(request.method, route, status, elapsed / 1000);

    const level =
      status >= 500 ? 'error' : status >= 400 ? 'info' : isRead(request) ? 'debug' : 'info';
    if ((request.log as unknown as Logger).isLevelEnabled(level)) {
      request.log[level](
        {
          method: request.method,
          route,
          status,
          ms: Math.round(elapsed * 10) / 10,
          code: request.errorCode ?? undefined,
        },
        `${request.method} ${route} answered ${status}`,
      );
    }
    done();
  });
}

function isRead(request: FastifyRequest): boolean {
  return request.method === 'GET' || request.method === 'HEAD';
}

/** The principal set by the auth hook of the route's scope; a route without one is a bug. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = request.principal;
  if (principal === null) throw new GatewayError('unauthenticated');
  return principal;
}

export function userOf(request: FastifyRequest): UserPrincipal {
  const principal = principalOf(request);
  if (principal.kind !== 'user') throw new GatewayError('forbidden');
  return principal;
}

export function workerOf(request: FastifyRequest): WorkerPrincipal {
  const principal = principalOf(request);
  if (principal.kind !== 'worker') throw new GatewayError('forbidden');
  return principal;
}

/** The read-only view of the caller's workspace: all a read route may touch. */
export function readerOf(store: Store, request: FastifyRequest): WorkspaceReader {
  return store.reader(principalOf(request).workspaceId);
}

/** The read-write view of the caller's workspace, for routes that change something. */
export function writerOf(store: Store, request: FastifyRequest): WorkspaceStore {
  return store.workspace(principalOf(request).workspaceId);
}

/** Sends a JSON body with a status; the one way routes answer. */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
