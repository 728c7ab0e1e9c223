import { GatewayError } from '../core/errors.js';

/** The author, committer and tagger of every object the gateway writes. */
export const GIT_IDENTITY = 'Second <second@localhost>';

/** `<identity> <epoch seconds> +0000` for an ISO date, so equal builds make equal objects. */
export function signatureAt(createdAt: string): string {
  const ms = Date.parse(createdAt);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new GatewayError('invalid_request', 'The version date is not a valid ISO date.');
  }
  return `${GIT_IDENTITY} ${Math.floor(ms / 1000)} +0000`;
}
