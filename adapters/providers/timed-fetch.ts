import { GatewayError } from '../../core/errors.js';

/** A `fetch` whose requests give up after `timeoutMs` unless the caller's own signal ends first. */
export function timedFetch(fetchImpl: typeof fetch, timeoutMs: number): typeof fetch {
  return (input, init = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetchImpl(input, { ...init, signal });
  };
}

/**
 * Sends a GET whose answer is streamed: the timeout covers the wait for the headers only, so a
 * large body may take as long as it needs. Redirects are followed by hand, at most `maxHops`,
 * and the `Authorization` header goes only to the origin it was meant for.
 */
export async function fetchStreamFollowing(
  fetchImpl: typeof fetch,
  url: URL,
  options: { headers: Record<string, string>; timeoutMs: number; maxHops?: number },
): Promise<Response> {
  const origin = url.origin;
  let current = url;

  for (let hop = 0; ; hop += 1) {
    const headers = { ...options.headers };
    if (current.origin !== origin) delete headers.authorization;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    let response: Response;
    try {
      response = await fetchImpl(current, {
        headers,
        redirect: 'manual',
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }

    const location = response.headers.get('location');
    const redirected = [301, 302, 303, 307, 308].includes(response.status) && location;
    if (!redirected || hop >= (options.maxHops ?? 3)) return response;

    await response.body?.cancel().catch(() => undefined);
    const next = new URL(location, current);
    if (!isFollowable(next)) {
      throw new GatewayError(
        'provider_error',
        'The provider redirected the download to an address the gateway does not follow.',
        { providerStatus: response.status },
      );
    }
    current = next;
  }
}

// A download may move to another host (GitHub's codeload), but never off https, except to a
// loopback address (tests).
function isFollowable(url: URL): boolean {
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
}
