import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pino, type Logger } from 'pino';
import { GatewayError, type ErrorCode } from '../../core/errors.js';
import {
  isRateLimitResponse,
  providerHttpError,
  providerNetworkError,
  scrubSecrets,
  type ProviderCallContext,
} from './provider-errors.js';
import { DEFAULT_MAX_RATE_LIMIT_WAIT_MS, withRetries, type RetryPolicy } from './rate-limit.js';
import { checkRemoteBaseUrl } from './remote-url.js';

/** Factory options of the adapters built on this client. */
export interface FetchAdapterOptions {
  /** Timeout of one REST request (for a streamed body: the longest silence), in ms. */
  timeoutMs?: number;
  /** Upper bound of the time spent waiting on rate limits within one call, in ms. */
  maxRateLimitWaitMs?: number;
  userAgent?: string;
  /** Replaces the global `fetch` (tests). */
  fetch?: typeof fetch;
  logger?: Logger;
}

/** The defaults every fetch-based adapter starts from. */
export const FETCH_ADAPTER_DEFAULTS = {
  timeoutMs: 10_000,
  maxRateLimitWaitMs: DEFAULT_MAX_RATE_LIMIT_WAIT_MS,
  userAgent: 'second-scm-gateway',
} as const;

export interface FetchClientOptions {
  /** The provider as a person names it, for messages: "Bitbucket Cloud". */
  providerName: string;
  /** The `Authorization` header value sent with every request to the provider's origin. */
  authorization: string;
  /** Values that must never appear in a message: the token and anything derived from it. */
  secrets: readonly string[];
  policy: RetryPolicy;
  timeoutMs?: number;
  maxRateLimitWaitMs?: number;
  userAgent?: string;
  fetch?: typeof fetch;
  logger?: Logger;
}

export interface RequestSpec {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: URL;
  /** What the call is for, in words for messages and logs: "creating repository acme/app". */
  action: string;
  json?: unknown;
  /** Makes the request conditional (`If-None-Match`); a 304 answer is then handed back. */
  etag?: string | null;
  /** Statuses handed back to the caller rather than thrown (2xx always are). */
  expect?: readonly number[];
  /** A code for a status that means more at this endpoint than the shared mapping says. */
  codes?: Partial<Record<number, ErrorCode>>;
  accept?: string;
  /** Follow redirects of a GET, dropping the credential when one leaves the origin. */
  followRedirects?: boolean;
}

/** A buffered answer. The body is the provider's and stays inside the adapter. */
export interface ProviderResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** An answer whose body is still arriving. */
export interface StreamedResponse {
  status: number;
  headers: Headers;
  body: Readable;
}

export interface FetchClient {
  /** One call, rate-limit waits included; the whole body read into memory. */
  request(spec: RequestSpec): Promise<ProviderResponse>;
  /** Like `request`, the body parsed as JSON. */
  json<T>(spec: RequestSpec): Promise<{ status: number; headers: Headers; data: T }>;
  /** One call whose body is streamed; the timeout then counts the silence between chunks. */
  stream(spec: RequestSpec): Promise<StreamedResponse>;
}

// Buffered bodies are manifests, listings and small JSON documents; anything larger is not a
// provider answering the question asked.
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const MAX_REDIRECTS = 3;

/**
 * The one HTTP client of the fetch-based adapters: a timeout per request through an
 * AbortSignal, rate limits waited out under the adapter's policy, conditional reads, and
 * errors normalized where they are made, so no token, header, URL or body travels on.
 */
export function createFetchClient(options: FetchClientOptions): FetchClient {
  const doFetch = options.fetch ?? fetch;
  const logger = options.logger ?? pino({ level: 'silent' });
  const timeoutMs = options.timeoutMs ?? FETCH_ADAPTER_DEFAULTS.timeoutMs;
  const maxWait = options.maxRateLimitWaitMs ?? FETCH_ADAPTER_DEFAULTS.maxRateLimitWaitMs;
  const userAgent = options.userAgent ?? FETCH_ADAPTER_DEFAULTS.userAgent;
  const context = (action: string): ProviderCallContext => ({
    provider: options.providerName,
    action: scrubSecrets(action, options.secrets),
  });

  // The message is rebuilt without any secret the adapter knows of; the shared builders
  // already take nothing from the request or the body.
  const safe = (error: GatewayError) =>
    new GatewayError(error.code, scrubSecrets(error.message, options.secrets), {
      providerStatus: error.providerStatus,
      retryAt: error.retryAt,
    });

  const send = async (spec: RequestSpec, url: URL, anonymous: boolean, signal: AbortSignal) => {
    const headers: Record<string, string> = {
      accept: spec.accept ?? 'application/json',
      'user-agent': userAgent,
    };
    if (!anonymous) headers.authorization = options.authorization;
    if (spec.etag) headers['if-none-match'] = spec.etag;
    let body: string | undefined;
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    }

    try {
      return await doFetch(url, {
        method: spec.method ?? 'GET',
        headers,
        body,
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      // The fetch error is not kept: it can hold the request, and the request holds the token.
      throw safe(providerNetworkError(context(spec.action), error));
    }
  };

  // One exchange up to the answer's headers, redirects followed where asked. The body is left
  // for the caller, and a rate limit or any unexpected status becomes a normalized error here.
  const exchange = async (spec: RequestSpec, signal: AbortSignal): Promise<Response> => {
    let url = spec.url;
    let anonymous = false;
    for (let hop = 0; ; hop += 1) {
      const response = await send(spec, url, anonymous, signal);
      const location = response.headers.get('location');
      const redirected = response.status >= 300 && response.status < 400 && response.status !== 304;
      if (spec.followRedirects && redirected && location) {
        await discard(response);
        const next = new URL(location, url);
        if (hop >= MAX_REDIRECTS || !isAllowedRedirect(next)) {
          throw safe(
            providerHttpError(context(spec.action), response.status, undefined, {
              code: 'provider_error',
              detail: 'It redirected to an address the gateway does not follow.',
            }),
          );
        }
        // The credential belongs to the provider's origin; a download host elsewhere gets none.
        if (next.origin !== url.origin) anonymous = true;
        url = next;
        continue;
      }

      if (isAccepted(spec, response.status)) return response;
      await discard(response);
      const code = isRateLimitResponse(response.status, response.headers)
        ? undefined
        : spec.codes?.[response.status];
      throw safe(
        providerHttpError(context(spec.action), response.status, response.headers, { code }),
      );
    }
  };

  const retrying = <T>(spec: RequestSpec, call: () => Promise<T>) =>
    withRetries(
      options.policy,
      {
        action: `${options.providerName}: ${scrubSecrets(spec.action, options.secrets)}`,
        idempotent: (spec.method ?? 'GET') === 'GET',
        maxRateLimitWaitMs: maxWait,
        logger,
      },
      call,
    );

  return {
    request(spec) {
      return retrying(spec, async () => {
        const signal = AbortSignal.timeout(timeoutMs);
        const response = await exchange(spec, signal);
        const body = await readCapped(response, spec, signal);
        return { status: response.status, headers: response.headers, body };
      });
    },

    async json<T>(spec: RequestSpec) {
      const response = await this.request(spec);
      if (response.body.length === 0) {
        return { status: response.status, headers: response.headers, data: undefined as T };
      }
      try {
        const data = JSON.parse(response.body.toString('utf8')) as T;
        return { status: response.status, headers: response.headers, data };
      } catch {
        throw providerHttpError(context(spec.action), response.status, undefined, {
          code: 'provider_error',
          detail: 'The answer was not JSON.',
        });
      }
    },

    stream(spec) {
      return retrying(spec, async () => {
        const control = new AbortController();
        let timer = setTimeout(() => control.abort(), timeoutMs);
        const arm = () => {
          clearTimeout(timer);
          timer = setTimeout(() => control.abort(), timeoutMs);
        };

        let response: Response;
        try {
          response = await exchange(spec, control.signal);
        } catch (error) {
          clearTimeout(timer);
          throw error;
        }
        if (!response.body) {
          clearTimeout(timer);
          return { status: response.status, headers: response.headers, body: Readable.from([]) };
        }

        // From here the timeout is the longest silence between two chunks, so a large archive
        // may take as long as it needs while a stalled one still ends.
        const source = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
        const watched = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            arm();
            done(null, chunk);
          },
        });
        source.on('error', (error) =>
          watched.destroy(safe(providerNetworkError(context(spec.action), error))),
        );
        watched.on('close', () => {
          clearTimeout(timer);
          source.destroy();
        });
        arm();
        source.pipe(watched);
        return { status: response.status, headers: response.headers, body: watched };
      });
    },
  };

  async function readCapped(response: Response, spec: RequestSpec, signal: AbortSignal) {
    if (!response.body) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > MAX_BUFFERED_BYTES) {
          await discard(response);
          throw providerHttpError(context(spec.action), response.status, undefined, {
            code: 'provider_error',
            detail: 'The answer was larger than the gateway reads.',
          });
        }
        chunks.push(Buffer.from(chunk));
      }
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw safe(
        providerNetworkError(context(spec.action), signal.aborted ? signal.reason : error),
      );
    }
    return Buffer.concat(chunks);
  }
}

function isAccepted(spec: RequestSpec, status: number): boolean {
  if (status >= 200 && status < 300) return true;
  if (status === 304 && spec.etag) return true;
  return spec.expect?.includes(status) ?? false;
}

function isAllowedRedirect(url: URL): boolean {
  try {
    checkRemoteBaseUrl(url.origin + url.pathname);
    return true;
  } catch {
    return false;
  }
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** Joins path segments onto a base URL, each segment percent-encoded. */
export function joinUrl(base: URL, ...segments: string[]): URL {
  const url = new URL(base.href);
  const prefix = url.pathname.replace(/\/+$/, '');
  url.pathname = [prefix, ...segments.map((segment) => encodeURIComponent(segment))].join('/');
  return url;
}

/** Percent-encodes each component of a slash-separated file path. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
}

/** Encodes `user:password` for an HTTP Basic `Authorization` header. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
