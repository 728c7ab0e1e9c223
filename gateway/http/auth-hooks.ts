import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { GatewayError } from '../../core/errors.js';
import type { Role } from '../../core/model.js';
import {
  credentialOf,
  hasCsrfProof,
  needsCsrfProof,
  type CredentialSource,
} from '../auth/credentials.js';
import { roleAtLeast, type Principal } from '../auth/principal.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { userOf } from './request-context.js';

export interface Authenticated {
  principal: Principal;
  source: CredentialSource;
}

/** The hooks that guard each scope of routes. */
export interface AuthHooks {
  /** Verifies the request's credential (bearer or session cookie); throws `unauthenticated`. */
  authenticate(request: FastifyRequest): Promise<Authenticated>;
  /** `/api/v1` and `/preview`: a user token, with the CSRF header on cookie-borne changes. */
  requireUser: onRequestAsyncHookHandler;
  /** `/internal/v1`: a worker token, by bearer only. */
  requireWorker: onRequestAsyncHookHandler;
  /** A route-level check of the user's role, after `requireUser`. */
  requireRole(role: Role): onRequestAsyncHookHandler;
}

/** Builds the auth hooks over one token verifier. */
export function createAuthHooks(verifier: TokenVerifier): AuthHooks {
  const authenticate = async (request: FastifyRequest): Promise<Authenticated> => {
    const credential = credentialOf(request.headers);
    if (credential === null) throw new GatewayError('unauthenticated');
    if (credential === 'malformed') {
      throw new GatewayError(
        'unauthenticated',
        'The Authorization header must be "Bearer <token>".',
      );
    }

    const principal = await verifier.verify(credential.token);
    return { principal, source: credential.source };
  };

  const bind = (request: FastifyRequest, principal: Principal): void => {
    request.principal = principal;
    request.log = request.log.child({ ws: principal.workspaceId });
  };

  const requireUser: onRequestAsyncHookHandler = async (request) => {
    const { principal, source } = await authenticate(request);
    if (principal.kind !== 'user') {
      throw new GatewayError('forbidden', 'Worker tokens are accepted on /internal/v1 only.');
    }
    if (needsCsrfProof(request.method, source) && !hasCsrfProof(request.headers)) {
      throw new GatewayError(
        'forbidden',
        'A change made with the session cookie needs the header X-Second-Request: 1.',
      );
    }
    bind(request, principal);
  };

  const requireWorker: onRequestAsyncHookHandler = async (request) => {
    const { principal, source } = await authenticate(request);
    if (principal.kind !== 'worker' || source !== 'bearer') {
      throw new GatewayError('forbidden', 'Only worker tokens are accepted on /internal/v1.');
    }
    bind(request, principal);
  };

  const requireRole = (role: Role): onRequestAsyncHookHandler => {
    return async (request) => {
      if (!roleAtLeast(userOf(request).role, role)) {
        throw new GatewayError('forbidden', `This action needs the ${role} role or above.`);
      }
    };
  };

  return { authenticate, requireUser, requireWorker, requireRole };
}
