import { GatewayError } from '../../../core/errors.js';

/**
 * The HTTP access tokens of Bitbucket Data Center, told apart by the form the admin saves
 * (https://confluence.atlassian.com/bitbucketserver/http-access-tokens-939515499.html):
 * - `username:token` — a personal token. REST takes it as a Bearer token; git over HTTPS takes
 *   it as the password of HTTP Basic auth with that username.
 * - a bare token — a project or repository token. It acts as no user, and Bitbucket accepts it
 *   only as `Authorization: Bearer`, for REST and git alike, never in Basic auth.
 */
export type BitbucketServerCredential =
  { kind: 'personal'; username: string; secret: string } | { kind: 'project'; secret: string };

/** Reads the saved token into the credential it stands for. */
export function parseBitbucketServerToken(token: string): BitbucketServerCredential {
  if (token.trim() === '') {
    throw new GatewayError('auth_failed', 'The Bitbucket Data Center token is empty.', {
      providerStatus: 0,
    });
  }

  // Bitbucket's generated tokens are Base64 text, which has no colon, so a colon can only end a
  // username.
  const colon = token.indexOf(':');
  if (colon > 0 && colon < token.length - 1) {
    return { kind: 'personal', username: token.slice(0, colon), secret: token.slice(colon + 1) };
  }
  return { kind: 'project', secret: token };
}
