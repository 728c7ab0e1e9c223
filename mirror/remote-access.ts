import { checkRemoteBaseUrl, isLoopbackHost } from '../adapters/providers/remote-url.js';
import type { GitRemote } from '../adapters/providers/provider-port.js';
import { GatewayError } from '../core/errors.js';

/** How one git process reaches a remote: the plain URL for argv, the credential for its env. */
export interface RemoteAccess {
  url: string;
  allowHttp: boolean;
  env: Record<string, string>;
  /** Strings to scrub from anything git prints. */
  secrets: string[];
}

/**
 * Checks the remote and puts its credential into `GIT_CONFIG_*` variables: an auth header scoped
 * to the remote's URL, so the token is in the env of this one process and never in argv, the
 * URL, the repository config or a credential store.
 */
export function remoteAccess(remote: GitRemote, timeoutMs: number): RemoteAccess {
  const url = checkRemoteBaseUrl(remote.url);
  if (
    /[\r\n\0]/.test(remote.username) ||
    /[\r\n\0]/.test(remote.password) ||
    remote.username.includes(':')
  ) {
    throw new GatewayError(
      'invalid_remote',
      'The git credential contains characters git cannot send.',
    );
  }

  const basic = Buffer.from(`${remote.username}:${remote.password}`, 'utf8').toString('base64');
  // Some tokens (Bitbucket Data Center project and repository tokens) are refused in Basic auth
  // and must be sent as a Bearer header instead.
  const authorization =
    remote.authScheme === 'bearer' ? `Bearer ${remote.password}` : `Basic ${basic}`;
  const scope = url.toString();
  const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  return {
    url: scope,
    allowHttp: url.protocol === 'http:' && isLoopbackHost(url.hostname),
    env: {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${scope}.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: ${authorization}`,
      // A server that stops sending data mid-transfer is given up on, not waited for forever.
      GIT_HTTP_LOW_SPEED_LIMIT: '1',
      GIT_HTTP_LOW_SPEED_TIME: seconds,
    },
    secrets: [remote.password, basic].filter((value) => value.length > 0),
  };
}
