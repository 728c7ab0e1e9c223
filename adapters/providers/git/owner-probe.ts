import { GatewayError } from '../../../core/errors.js';

export interface OwnerProbe {
  /** `<baseUrl>/<owner>/`. */
  url: string;
  username: string;
  password: string;
  timeoutMs: number;
  fetch: typeof fetch;
}

/**
 * Asks the git server for the owner's folder with the credential. Any answer but 401/403 means
 * the credential was accepted (the folder itself may well be a 404); 5xx and no answer mean the
 * server could not be asked. Redirects are not followed, so the credential stays on this host.
 */
export async function probeOwnerAccess(probe: OwnerProbe): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${probe.username}:${probe.password}`, 'utf8').toString('base64')}`;
  let status: number;
  try {
    const response = await probe.fetch(probe.url, {
      method: 'GET',
      headers: { authorization, 'user-agent': 'second-scm-gateway' },
      redirect: 'manual',
      signal: AbortSignal.timeout(probe.timeoutMs),
    });
    status = response.status;
    await response.body?.cancel();
  } catch {
    // The cause (a fetch error) can name the URL; it is dropped rather than carried onward.
    throw new GatewayError('provider_unavailable', 'The git server did not answer.', {
      providerStatus: 0,
    });
  }

  if (status === 401 || status === 403) {
    throw new GatewayError('auth_failed', 'The git server refused the credential.', {
      providerStatus: status,
    });
  }
  if (status >= 500) {
    throw new GatewayError('provider_unavailable', `The git server answered ${status}.`, {
      providerStatus: status,
    });
  }
}
