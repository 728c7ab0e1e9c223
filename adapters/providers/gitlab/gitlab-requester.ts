import { snakeKeys, type GitLabHttp } from './gitlab-http.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface GitbeakerRequestOptions {
  searchParams?: Record<string, unknown>;
  body?: unknown;
  asStream?: boolean;
}

/**
 * A gitbeaker `requesterFn` over the adapter's own HTTP path. gitbeaker's default requester
 * retries 429 and 502 ten times with sub-second waits, ignoring `Retry-After`, and keeps the
 * request (with the token header) in its errors; this one sends each request once, leaves
 * retries to the adapter's policy, and fails with `GitLabHttpFailure`, which the adapter
 * normalizes before anything leaves it.
 */
export function gitbeakerRequester(http: GitLabHttp) {
  return (serviceOptions: { url: string }) => {
    // Resources such as GroupMembers keep a prefix (`groups/`) in their URL and pass the rest as
    // the endpoint.
    const prefix = /\/api\/v4\/(.*)$/.exec(serviceOptions.url)?.[1] ?? '';
    const base = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;

    const verb =
      (method: Method) =>
      async (endpoint: string, options: GitbeakerRequestOptions = {}) => {
        if (options.asStream) {
          throw new Error('streamed gitbeaker calls are not used by the GitLab adapter');
        }
        const response = await http.request({
          method: method.toUpperCase() as 'GET',
          path: `${base}${endpoint}`,
          query: snakeKeys(options.searchParams) as Record<string, string>,
          body:
            options.body && typeof options.body === 'object'
              ? snakeKeys(options.body as Record<string, unknown>)
              : undefined,
        });
        const headers: Record<string, string> = {};
        response.headers.forEach((value, key) => (headers[key] = value));
        return { body: response.body, headers, status: response.status };
      };
    return {
      get: verb('get'),
      post: verb('post'),
      put: verb('put'),
      patch: verb('patch'),
      delete: verb('delete'),
    };
  };
}
