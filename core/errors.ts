/**
 * The one registry of error codes. Every failure the gateway reports carries one of these codes;
 * the HTTP layer maps a code to its status here and nowhere else. Domain code throws
 * `GatewayError` and never thinks about HTTP.
 */
export const ERROR_REGISTRY = {
  invalid_request: { status: 400, message: 'The request is not valid.' },
  unauthenticated: { status: 401, message: 'Sign in: a valid token is required.' },
  forbidden: { status: 403, message: 'Your role does not allow this action.' },
  not_found: { status: 404, message: 'Not found.' },
  not_connected: { status: 409, message: 'Source control is not connected for this workspace.' },
  no_draft: { status: 409, message: 'The app has no draft build yet.' },
  no_version: { status: 409, message: 'The app has no source-control version yet.' },
  nothing_to_retry: {
    status: 409,
    message: 'The last sync did not fail; there is nothing to retry.',
  },
  local_changes: {
    status: 409,
    message:
      'The app was built locally since it was installed; updating would replace those changes.',
  },
  up_to_date: { status: 409, message: 'The installed copy is already at the upstream version.' },
  not_installed: { status: 409, message: 'The app was not installed from Available Apps.' },
  catalog_disabled: { status: 409, message: 'Available Apps is turned off in this deployment.' },
  not_supported: { status: 409, message: 'This action is not supported here.' },
  too_large: { status: 413, message: 'The upload is larger than the gateway accepts.' },
  unsafe_path: { status: 422, message: 'The archive holds a path the gateway refuses.' },
  unsupported_entry: {
    status: 422,
    message: 'The archive holds an entry type the gateway refuses.',
  },
  invalid_archive: { status: 422, message: 'The body is not a complete tar or tar.gz archive.' },
  dist_index_missing: { status: 422, message: 'The snapshot has no dist/index.html.' },
  invalid_manifest: { status: 422, message: 'second-app.json is missing or not valid.' },
  hash_mismatch: {
    status: 422,
    message: 'The files do not match the source hash of the manifest.',
  },
  auth_failed: { status: 422, message: 'The provider refused the token.' },
  insufficient_permissions: {
    status: 422,
    message: 'The token lacks a permission this action needs.',
  },
  owner_not_found: { status: 422, message: 'The provider has no such owner.' },
  repo_name_taken: { status: 422, message: 'A repository with that name already exists.' },
  invalid_remote: { status: 422, message: 'The provider address is not allowed.' },
  rate_limited: { status: 429, message: 'The provider rate limit was reached.' },
  provider_error: { status: 502, message: 'The provider answered with an error.' },
  remote_diverged: { status: 502, message: 'The remote repository does not match the mirror.' },
  provider_unavailable: { status: 503, message: 'The provider did not answer.' },
  storage_full: { status: 507, message: 'The gateway ran out of disk space.' },
  secret_store_unavailable: { status: 503, message: 'The secret store did not answer.' },
  internal: { status: 500, message: 'Something went wrong inside the gateway.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

/** Codes that a retry of the same work cannot mend (DESIGN §12, `nextRetryAt` null). */
export const PERMANENT_SYNC_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'not_connected',
  'auth_failed',
  'insufficient_permissions',
  'owner_not_found',
  'invalid_remote',
  'hash_mismatch',
]);

export interface GatewayErrorOptions {
  /** The provider's HTTP status, 0 when nothing answered; absent for local failures. */
  providerStatus?: number;
  /** When a rate-limited call may be tried again (epoch ms). */
  retryAt?: number;
  /** Safe, structured detail for the caller (never secrets, headers or provider bodies). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** A failure with a stable code and a message that is safe to show and store. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly providerStatus?: number;
  readonly retryAt?: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, options: GatewayErrorOptions = {}) {
    super(message ?? ERROR_REGISTRY[code].message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.providerStatus = options.providerStatus;
    this.retryAt = options.retryAt;
    this.details = options.details;
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return ERROR_REGISTRY[this.code].status;
  }

  /** The compact form stored on records and shown in the API. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
