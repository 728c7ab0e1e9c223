import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * Security headers of the API and the admin UI: a strict Content-Security-Policy (own origin
 * only, no inline script or style, never framed), no MIME sniffing, no referrer leaving the
 * site. App pages under /preview have their own policy (preview/preview-headers.ts).
 */
export const STRICT_HELMET: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'same-origin' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
};
