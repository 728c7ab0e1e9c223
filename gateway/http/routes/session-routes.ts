import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../../../core/errors.js';
import type { DeploymentMode } from '../../../core/model.js';
import { hasCsrfProof, SESSION_COOKIE, sessionCookieValue } from '../../auth/credentials.js';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import type { AuthHooks } from '../auth-hooks.js';
import { sendJson, userOf } from '../request-context.js';

export interface SessionRouteDeps {
  auth: AuthHooks;
  verifier: TokenVerifier;
  mode: DeploymentMode;
}

const signInBody = z.object({ token: z.string().min(1).max(4096) });

/**
 * The web UI's session: sign in with a user token (`POST`), who am I (`GET`), sign out
 * (`DELETE`). The cookie holds the signed token itself: httpOnly so page scripts never see it,
 * SameSite=Strict so other sites' pages never send it, and it dies with the token's `exp`.
 */
export async function sessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): Promise<void> {
  const { auth, verifier, mode } = deps;

  app.post('/api/v1/session', async (request, reply) => {
    const { token } = signInBody.parse(request.body);
    const principal = await verifier.verify(token);
    if (principal.kind !== 'user') {
      throw new GatewayError(
        'forbidden',
        'Sign in with a user token; worker tokens have no session.',
      );
    }

    const maxAge = Math.max(0, principal.exp - Math.floor(Date.now() / 1000));
    reply.setCookie(SESSION_COOKIE, token, { ...cookieOptions(request), maxAge });
    request.principal = principal;
    return sendJson(reply, 200, sessionView(principal, mode));
  });

  app.get('/api/v1/session', { onRequest: auth.requireUser }, async (request, reply) => {
    return sendJson(reply, 200, sessionView(userOf(request), mode));
  });

  // Signing out needs no valid session (an expired cookie must still be cleared), but a request
  // carrying the cookie must prove it comes from the gateway's pages, like every change.
  app.delete('/api/v1/session', async (request, reply) => {
    const cookie = request.headers.cookie;
    const hasSession = cookie !== undefined && sessionCookieValue(cookie) !== null;
    if (hasSession && !hasCsrfProof(request.headers)) {
      throw new GatewayError('forbidden', 'Signing out needs the header X-Second-Request: 1.');
    }
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    return reply.code(204).send();
  });
}

function sessionView(principal: ReturnType<typeof userOf>, mode: DeploymentMode) {
  return { sub: principal.sub, role: principal.role, workspaceId: principal.workspaceId, mode };
}

function cookieOptions(request: FastifyRequest) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/',
    secure: cameOverHttps(request),
  };
}

/**
 * True when the browser reached the gateway over TLS: directly, or through a proxy that says so.
 * A client that lies about the proxy header only changes the flags of its own cookie.
 */
function cameOverHttps(request: FastifyRequest): boolean {
  if ((request.raw.socket as { encrypted?: boolean }).encrypted === true) return true;
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first === 'https';
}
