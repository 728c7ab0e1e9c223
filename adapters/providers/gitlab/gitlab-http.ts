import { fetchStreamFollowing, timedFetch } from '../timed-fetch.js';

/**
 * A GitLab answer that is not a success, kept inside the adapter so it can read the status and
 * body (a taken name is a 400 whose body says so) before building the normalized error. It is
 * never thrown past the adapter.
 */
export class GitLabHttpFailure {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: unknown,
  ) {}
}

export interface GitLabHttpOptions {
  /** `https://host`, no trailing slash. */
  host: string;
  token: string;
  timeoutMs: number;
  userAgent: string;
  fetch: typeof fetch;
}

export interface GitLabRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under `/api/v4/`, already percent-encoded, e.g. `projects/acme%2Fapp`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GitLabResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** The one HTTP path to GitLab's REST API v4: token header, timeout, JSON in and out. */
export function createGitLabHttp(options: GitLabHttpOptions) {
  const send = timedFetch(options.fetch, options.timeoutMs);
  const apiRoot = `${options.host}/api/v4/`;
  const baseHeaders = { 'private-token': options.token, 'user-agent': options.userAgent };

  const urlOf = (path: string, query: GitLabRequest['query'] = {}) => {
    const url = new URL(path.replace(/^\/+/, ''), apiRoot);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  };

  return {
    /** Sends one request; throws `GitLabHttpFailure` for any status but 2xx and 304. */
    async request(req: GitLabRequest): Promise<GitLabResponse> {
      const headers: Record<string, string> = { ...baseHeaders, ...req.headers };
      let body: string | undefined;
      if (req.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(req.body);
      }

      const response = await send(urlOf(req.path, req.query), {
        method: req.method ?? 'GET',
        headers,
        body,
        redirect: 'error',
      });
      const parsed = await parseBody(response);
      if (response.status === 304 || response.ok) {
        return { status: response.status, headers: response.headers, body: parsed };
      }
      throw new GitLabHttpFailure(response.status, response.headers, parsed);
    },

    /** Sends a GET whose body is streamed (archives); the timeout covers the headers only. */
    async stream(req: GitLabRequest): Promise<Response> {
      const response = await fetchStreamFollowing(options.fetch, urlOf(req.path, req.query), {
        headers: { ...baseHeaders, ...req.headers },
        timeoutMs: options.timeoutMs,
      });
      if (response.ok && response.body) return response;

      const parsed = await parseBody(response);
      throw new GitLabHttpFailure(response.status, response.headers, parsed);
    },
  };
}

export type GitLabHttp = ReturnType<typeof createGitLabHttp>;

async function parseBody(response: Response): Promise<unknown> {
  if (response.status === 204 || response.status === 304) return null;
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (!type.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** GitLab's option names are snake_case; gitbeaker hands them over in camelCase. */
export function snakeKeys(value: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      v,
    ]),
  );
}
