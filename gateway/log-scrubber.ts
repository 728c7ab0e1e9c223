/**
 * The second line of defence against credentials in logs: whatever the redaction paths missed
 * (a token inside an error message, a URL with a password in it) is masked by shape here.
 */

const MASK = '[redacted]';

/**
 * Shapes of credentials, each replaced whole. Prefixed provider tokens are matched on their
 * documented prefixes; JWTs on their base64url JSON header; the rest on the syntax that carries
 * them (an authorization scheme, URL user information, a query parameter).
 */
const TOKEN_SHAPES: readonly [RegExp, string][] = [
  // GitHub: classic and fine-grained personal, OAuth, user-to-server, server-to-server, refresh.
  [/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g, MASK],
  // GitLab: personal, OAuth, deploy, runner, trigger, feed and other prefixed tokens.
  [/\bgl[a-z]{2,6}-[A-Za-z0-9_-]{20,}/g, MASK],
  // Bitbucket and Atlassian API tokens and app passwords.
  [/\bATBB[A-Za-z0-9_=-]{20,}|\bATATT[A-Za-z0-9_=-]{20,}/g, MASK],
  // WorkOS and other `sk_live_`/`sk_test_` API keys.
  [/\bsk_(?:live|test)_[A-Za-z0-9]{16,}/g, MASK],
  // JSON Web Tokens, our own included: a base64url JSON header, a payload and a signature.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, MASK],
  // `Authorization: Basic …`, `Bearer …`, `token …` wherever they were pasted.
  [/\b(Basic|Bearer|token)\s+[A-Za-z0-9+/=._~-]{8,}/gi, `$1 ${MASK}`],
  // `https://user:password@host` and `https://token@host`.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*(?::[^\s/@]*)?@/gi, `$1${MASK}@`],
  // `?access_token=…`, `&private_token=…`, `password=…` in URLs and form bodies.
  [
    /([?&;](?:access_token|private_token|token|password|passwd|secret|client_secret|key)=)[^&\s#"']+/gi,
    `$1${MASK}`,
  ],
];

/** The text with every credential-shaped run replaced by `[redacted]`. */
export function scrubSecrets(text: string): string {
  let result = text;
  for (const [shape, replacement] of TOKEN_SHAPES) {
    shape.lastIndex = 0;
    result = result.replace(shape, replacement);
  }
  return result;
}

const MAX_DEPTH = 8;

/**
 * A copy of a log value with every string scrubbed, at any depth. Errors become plain objects
 * (type, message, stack, code) so their text is scrubbed too; cycles and very deep values are
 * cut rather than followed. Instances of other classes (a request, a socket) are returned as they
 * are: their serializer decides what of them is written.
 */
export function scrubLogValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);

  if (Array.isArray(value)) return value.map((item) => scrubLogValue(item, depth + 1, seen));

  if (value instanceof Error) {
    const error = value as Error & { code?: unknown };
    const plain: Record<string, unknown> = {
      type: error.name,
      message: scrubSecrets(error.message),
      stack: error.stack === undefined ? undefined : scrubSecrets(error.stack),
    };
    if (error.code !== undefined) plain.code = error.code;
    if (error.cause !== undefined) plain.cause = scrubLogValue(error.cause, depth + 1, seen);
    return plain;
  }

  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;

  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = scrubLogValue(item, depth + 1, seen);
  }
  return copy;
}
