import { GatewayError } from '../../../core/errors.js';
import { basicAuthorization } from '../fetch-client.js';

/**
 * The two token kinds Bitbucket Cloud accepts from a service, told apart by the form the admin
 * saves:
 * - `email:api_token` — an Atlassian API token with scopes. REST takes Basic auth with the
 *   account's email; git over HTTPS takes the static user name `x-bitbucket-api-token-auth`
 *   (https://support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/).
 * - a bare token — a workspace, project or repository access token. REST takes it as a Bearer
 *   token; git takes the user name `x-token-auth`
 *   (https://support.atlassian.com/bitbucket-cloud/docs/using-access-tokens/).
 */
export type BitbucketCloudCredential =
  { kind: 'api-token'; email: string; secret: string } | { kind: 'access-token'; secret: string };

/** Reads the saved token into the credential it stands for. */
export function parseBitbucketCloudToken(token: string): BitbucketCloudCredential {
  if (token.trim() === '') {
    throw new GatewayError('auth_failed', 'The Bitbucket Cloud token is empty.', {
      providerStatus: 0,
    });
  }

  // An email has no colon, so the first colon ends it; the API token itself may hold any
  // other character.
  const colon = token.indexOf(':');
  const email = colon > 0 ? token.slice(0, colon) : '';
  if (email.includes('@')) {
    const secret = token.slice(colon + 1);
    if (secret === '') {
      throw new GatewayError(
        'auth_failed',
        'The Bitbucket Cloud API token is missing after the email.',
        {
          providerStatus: 0,
        },
      );
    }
    return { kind: 'api-token', email, secret };
  }
  return { kind: 'access-token', secret: token };
}

/** The `Authorization` header for the REST API. */
export function restAuthorization(credential: BitbucketCloudCredential): string {
  return credential.kind === 'api-token'
    ? basicAuthorization(credential.email, credential.secret)
    : `Bearer ${credential.secret}`;
}

/** The Basic-auth user name git (and the archive download on the web host) must offer. */
export function gitUserName(credential: BitbucketCloudCredential): string {
  return credential.kind === 'api-token' ? 'x-bitbucket-api-token-auth' : 'x-token-auth';
}
