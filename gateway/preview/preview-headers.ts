/**
 * The Content-Security-Policy of app pages. They run their own scripts and styles from the same
 * origin (their `dist/` under /preview), so 'self' is allowed for everything an app build loads;
 * inline scripts, plugins, other origins and being framed by another site are not. Inline style
 * attributes stay allowed: component libraries set them at run time.
 *
 * Known cost: app pages share the gateway's origin, so a script in an app can call the gateway
 * API as the person viewing it. A deployment that previews apps it does not trust should serve
 * /preview from a host name of its own.
 */
export const PREVIEW_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "media-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

/** Draft pages change with every build: the browser must revalidate (cheaply, by ETag). */
export const DRAFT_CACHE_CONTROL = 'no-cache';
/** A version's files never change: cache them for a year. */
export const VERSION_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The headers of one served file, computed once per file and reused by every request. */
export function previewHeaders(
  contentType: string,
  etag: string,
  cacheControl: string,
): Readonly<Record<string, string>> {
  return Object.freeze({
    'content-type': contentType,
    etag,
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
    'content-security-policy': PREVIEW_CSP,
    'cross-origin-resource-policy': 'same-origin',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'SAMEORIGIN',
  });
}
