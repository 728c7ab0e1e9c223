/** A failed call: the gateway's error code and message, or `network` when nothing answered. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

let onSignedOut: () => void = () => undefined;

/** What to do when the gateway says the session is gone (expired token, signed out elsewhere). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

/**
 * Calls the gateway's API with the session cookie. Every change carries `X-Second-Request: 1`:
 * the gateway refuses cookie-borne changes without it, which is what keeps other sites' pages
 * from acting with the user's cookie.
 */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-second-request'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The gateway did not answer.');
  }

  if (response.status === 204) return undefined as T;
  const payload = await response.json().catch(() => null);

  if (!response.ok) {
    const error = (payload as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${response.status}`;
    const message = typeof error?.message === 'string' ? error.message : response.statusText;
    // A session that died while the page was open sends the person back to sign in; the sign-in
    // call itself answers 401 for a bad token and must show that error instead.
    if (response.status === 401 && path !== '/api/v1/session') onSignedOut();
    throw new ApiError(response.status, code, message);
  }
  return payload as T;
}
