import { ApiError } from './api.js';

/** What happened and what to do about it, in words for a person rather than a code. */
export interface ErrorText {
  what: string;
  todo: string;
}

const TEXTS: Record<string, ErrorText> = {
  network: {
    what: 'The gateway did not answer.',
    todo: 'Check that the gateway is running and your network is up, then try again.',
  },
  invalid_request: {
    what: 'Some of what was sent is not valid.',
    todo: 'Check the highlighted values and try again.',
  },
  unauthenticated: {
    what: 'The token is not valid, or it has expired.',
    todo: 'Ask an operator for a fresh one: "second-gateway token --workspace <id> --role <role>" prints it.',
  },
  forbidden: {
    what: 'Your role does not allow this.',
    todo: 'Ask a workspace owner or admin to do it, or to give you a role that can.',
  },
  not_found: {
    what: 'This no longer exists, or it belongs to another workspace.',
    todo: 'Go back to the list and pick it again.',
  },
  not_connected: {
    what: 'Source control is not connected for this workspace.',
    todo: 'An owner or admin connects a provider under Settings → Source control.',
  },
  no_draft: {
    what: 'The app has no build yet, so there is nothing to publish.',
    todo: 'Build the app once, then publish.',
  },
  no_version: {
    what: 'The app has no source-control version yet.',
    todo: 'Publish the app first; sharing applies to its versions.',
  },
  nothing_to_retry: {
    what: 'The last sync did not fail, so there is nothing to retry.',
    todo: 'No action is needed.',
  },
  local_changes: {
    what: 'This copy was built locally since it was installed.',
    todo: 'Updating replaces those changes. Choose "Update anyway" if that is what you want.',
  },
  up_to_date: {
    what: 'The installed copy is already at the latest version.',
    todo: 'No action is needed.',
  },
  not_installed: {
    what: 'This app was not installed from Available Apps.',
    todo: 'Use Get to install a copy first.',
  },
  catalog_disabled: {
    what: 'Available Apps is turned off in this deployment.',
    todo: 'An operator turns it on with CATALOG_ENABLED=true.',
  },
  not_supported: {
    what: 'The connected provider or this deployment mode does not support this.',
    todo: 'Plain git servers have no API to list repositories; connect a hosted provider for this.',
  },
  too_large: {
    what: 'The upload is larger than the gateway accepts.',
    todo: 'Remove large generated files from the app and build again.',
  },
  auth_failed: {
    what: 'The provider refused the token.',
    todo: 'Check that the token is pasted whole and has not expired or been revoked, then save again.',
  },
  insufficient_permissions: {
    what: 'The token lacks a permission the gateway needs.',
    todo: 'Grant the permissions listed under Settings → Source control, then Retry.',
  },
  owner_not_found: {
    what: 'The provider has no such owner.',
    todo: 'Check the owner name and whether it is a user or an organization.',
  },
  repo_name_taken: {
    what: 'A repository with that name already exists and is not this app’s.',
    todo: 'Rename the app or change the repository prefix, then Retry.',
  },
  invalid_remote: {
    what: 'The provider address is not allowed.',
    todo: 'Use an https:// address (http:// only for this machine), with no user name or password in it.',
  },
  rate_limited: {
    what: 'The provider’s rate limit was reached.',
    todo: 'Wait until the limit resets, then try again.',
  },
  provider_error: {
    what: 'The provider answered with an error.',
    todo: 'Try again in a moment; if it keeps failing, check the provider’s status page.',
  },
  remote_diverged: {
    what: 'The repository on the provider no longer matches the gateway’s copy.',
    todo: 'Check who changed the repository (a moved or deleted tag), then Retry.',
  },
  provider_unavailable: {
    what: 'The provider did not answer.',
    todo: 'Check that the provider is up and reachable from the gateway, then try again.',
  },
  hash_mismatch: {
    what: 'The files in the repository do not match their manifest.',
    todo: 'The repository was changed by hand; restore it or publish a fresh version.',
  },
  invalid_manifest: {
    what: 'The repository’s second-app.json is missing or not valid.',
    todo: 'Fix or remove the repository; it cannot be installed as it is.',
  },
  unsafe_path: {
    what: 'The archive holds a file name the gateway refuses.',
    todo: 'Remove that file from the app or repository and try again.',
  },
  unsupported_entry: {
    what: 'The archive holds a link or special file the gateway refuses.',
    todo: 'Replace links with plain files and try again.',
  },
  invalid_archive: {
    what: 'The archive is not a complete tar or tar.gz file.',
    todo: 'Try again; if it keeps failing, the repository’s archive is damaged.',
  },
  dist_index_missing: {
    what: 'The build has no dist/index.html, so there is nothing to preview.',
    todo: 'Fix the app’s build so it writes dist/index.html.',
  },
  storage_full: {
    what: 'The gateway ran out of disk space.',
    todo: 'Ask an operator to free space, then try again.',
  },
  secret_store_unavailable: {
    what: 'The gateway could not reach its secret store.',
    todo: 'Try again shortly; an operator can check the secret store.',
  },
  internal: {
    what: 'Something went wrong inside the gateway.',
    todo: 'Try again; if it keeps happening, an operator can find the details in the gateway log.',
  },
};

/** Plain words for an error code, with a generic reading for codes this page does not know. */
export function errorText(code: string, message?: string): ErrorText {
  const known = TEXTS[code];
  if (known) return known;
  return {
    what: message ? message : 'Something went wrong.',
    todo: 'Try again; if it keeps happening, tell an operator the code “' + code + '”.',
  };
}

/** The words for whatever a call threw. */
export function describeError(error: unknown): ErrorText & { code: string; detail: string } {
  if (error instanceof ApiError) {
    return { ...errorText(error.code, error.message), code: error.code, detail: error.message };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return { ...errorText('internal'), code: 'internal', detail };
}
