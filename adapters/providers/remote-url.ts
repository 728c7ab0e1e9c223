import { isIP } from 'node:net';
import { GatewayError } from '../../core/errors.js';

/** True for `localhost`, an address in 127.0.0.0/8, or `::1`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Checks a provider base URL or git remote: `https`, or `http` to a loopback host only; no
 * credentials, CR/LF, whitespace or control characters. Answers the parsed URL; throws
 * `invalid_remote` otherwise.
 */
export function checkRemoteBaseUrl(url: string): URL {
  const refuse = (why: string) =>
    new GatewayError('invalid_remote', `The provider address ${why}.`);

  if (typeof url !== 'string' || url.length === 0) throw refuse('is empty');
  if (url.length > 2048) throw refuse('is too long');
  // Checked on the raw text: the URL parser drops tabs and newlines silently, and git would
  // read a CR/LF as the end of a header or a config value.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u0020\u007f]/.test(url)) throw refuse('contains spaces or control characters');

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse('is not a URL');
  }

  if (parsed.username || parsed.password) throw refuse('must not contain credentials');
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    throw refuse('must use https (http is allowed only to this machine)');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw refuse('must use https');
  if (!parsed.hostname) throw refuse('has no host');
  if (parsed.search || parsed.hash) throw refuse('must not have a query or fragment');
  return parsed;
}
