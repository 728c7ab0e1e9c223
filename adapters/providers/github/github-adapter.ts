import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Octokit } from '@octokit/rest';
import { pino, type Logger } from 'pino';
import { GatewayError, isGatewayError, type ErrorCode } from '../../../core/errors.js';
import type {
  FileRead,
  GitRemote,
  ProviderAdapter,
  ProviderConnection,
  ProviderOptions,
  RepoInfo,
  TagInfo,
  ValidationReport,
} from '../provider-port.js';
import {
  headerValue,
  providerHttpError,
  providerNetworkError,
  type HeaderSource,
  type ProviderCallContext,
} from '../provider-errors.js';
import { DEFAULT_MAX_RATE_LIMIT_WAIT_MS, withRetries, type RetryPolicy } from '../rate-limit.js';
import { fetchStreamFollowing, timedFetch } from '../timed-fetch.js';
import { resolveGitHubEndpoints, type GitHubEndpoints } from './github-endpoints.js';
import { missingGitHubPermissions } from './github-permissions.js';

/**
 * GitHub's limits: 5,000 requests an hour for a token (primary; `x-ratelimit-remaining: 0` and
 * `x-ratelimit-reset` in epoch seconds, on a 403 or 429) and secondary limits that answer 403 or
 * 429 with `retry-after`, or with neither header, in which case GitHub asks for at least a
 * minute's wait.
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
 */
export const GITHUB_RETRY_POLICY: RetryPolicy = {
  docs: 'https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api',
  maxAttempts: 3,
  backoffBaseMs: 250,
  backoffMaxMs: 2_000,
  rateLimitFallbackMs: 60_000,
  resetMarginMs: 250,
  retryReadsOn: ['rate_limited', 'provider_unavailable'],
  retryWritesOn: ['rate_limited'],
};

/** Factory options of the GitHub adapter. */
export interface GitHubAdapterOptions extends ProviderOptions {
  /** Replaces the global `fetch` for every request. */
  fetch?: typeof fetch;
  logger?: Logger;
  /**
   * Where github.com's API and web hosts are reached when the connection has no `baseUrl`.
   * Only tests (and egress proxies) change it.
   */
  dotComEndpoints?: GitHubEndpoints;
}

const PAGE_SIZE = 100;
const API_VERSION = '2022-11-28';

interface OctokitFailure {
  status: number;
  headers: HeaderSource;
  data: unknown;
}

/** Builds the adapter for github.com or GitHub Enterprise Server on `@octokit/rest`. */
export function createGitHubAdapter(
  conn: ProviderConnection,
  options: GitHubAdapterOptions = {},
): ProviderAdapter {
  const endpoints = resolveGitHubEndpoints(conn.baseUrl, options.dotComEndpoints);
  const logger = options.logger ?? pino({ level: 'silent' });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const userAgent = options.userAgent ?? 'second-scm-gateway';
  const baseFetch = options.fetch ?? fetch;
  const { owner } = conn;
  const providerName = conn.baseUrl ? 'GitHub Enterprise Server' : 'GitHub';

  const octokit = new Octokit({
    auth: conn.token,
    baseUrl: endpoints.api,
    userAgent,
    request: { fetch: timedFetch(baseFetch, timeoutMs) },
    headers: { 'x-github-api-version': API_VERSION },
    // Octokit's own log lines could name URLs; the adapter logs what a person needs itself.
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
  });

  // One call under the retry policy, every failure normalized as it is caught. `interpret`
  // sees the raw failure first to pick a code that depends on the body (never passed on).
  const call = async <T>(
    action: string,
    idempotent: boolean,
    run: () => Promise<T>,
    interpret?: (failure: OctokitFailure) => ErrorCode | 'pass' | undefined,
  ): Promise<T> => {
    const context: ProviderCallContext = { provider: providerName, action };
    return withRetries(
      GITHUB_RETRY_POLICY,
      { action: `${providerName}: ${action}`, idempotent, maxRateLimitWaitMs, logger },
      async () => {
        try {
          return await run();
        } catch (error) {
          throw normalize(error, context, interpret);
        }
      },
    );
  };

  let login: Promise<{ login: string; scopesHeader: string | null }> | null = null;
  const authenticated = () => {
    login ??= call('reading the token account', true, async () => {
      const response = await octokit.rest.users.getAuthenticated();
      const scopes = response.headers['x-oauth-scopes'];
      return {
        login: response.data.login,
        scopesHeader: typeof scopes === 'string' ? scopes : null,
      };
    }).catch((error: unknown) => {
      login = null;
      throw error;
    });
    return login;
  };

  const ownerIsOrg = conn.ownerType === 'org';

  const orgExists = async (): Promise<boolean> => {
    try {
      await call(`looking up organization ${owner}`, true, () =>
        octokit.rest.orgs.get({ org: owner }),
      );
      return true;
    } catch (error) {
      if (isGatewayError(error) && error.providerStatus === 404) return false;
      throw error;
    }
  };

  const userExists = async (name: string): Promise<boolean> => {
    try {
      await call(`looking up user ${name}`, true, () =>
        octokit.rest.users.getByUsername({ username: name }),
      );
      return true;
    } catch (error) {
      if (isGatewayError(error) && error.providerStatus === 404) return false;
      throw error;
    }
  };

  const toRepoInfo = (data: {
    owner: { login: string };
    name: string;
    html_url: string;
    default_branch?: string | null;
    private: boolean;
    topics?: string[] | null;
    pushed_at?: string | null;
  }): RepoInfo => ({
    owner: data.owner.login,
    name: data.name,
    htmlUrl: data.html_url,
    defaultBranch: data.default_branch ?? null,
    private: data.private,
    topics: data.topics ?? null,
    // Moves with every push to any branch, so the default branch cannot change without it.
    changedAt: data.pushed_at ?? null,
  });

  // Walks a listing through its `Link: rel="next"` URLs, one page per request.
  async function* pages<T>(
    action: string,
    first: () => Promise<{ data: T[]; headers: HeaderSource }>,
  ) {
    let response = await call(action, true, first);
    for (;;) {
      yield* response.data;
      const next = nextLink(response.headers);
      if (!next) return;
      response = await call(
        action,
        true,
        () =>
          octokit.request({ method: 'GET', url: next }) as Promise<{
            data: T[];
            headers: HeaderSource;
          }>,
      );
    }
  }

  return {
    id: 'github',
    supportsTopics: true,
    supportsListing: true,

    async validate(): Promise<ValidationReport> {
      const me = await authenticated();
      const missing = missingGitHubPermissions({ scopesHeader: me.scopesHeader, owner });

      if (ownerIsOrg) {
        if (!(await orgExists())) {
          throw new GatewayError(
            'owner_not_found',
            `${providerName} has no organization ${owner}.`,
            {
              providerStatus: 404,
            },
          );
        }
        return { account: me.login, missingPermissions: missing };
      }

      if (me.login.toLowerCase() !== owner.toLowerCase()) {
        if (!(await userExists(owner))) {
          throw new GatewayError('owner_not_found', `${providerName} has no user ${owner}.`, {
            providerStatus: 404,
          });
        }
        missing.push(
          `The token belongs to ${me.login}; ${providerName} creates repositories only under the ` +
            `token's own account, so set the owner to ${me.login} or to an organization.`,
        );
      }
      return { account: me.login, missingPermissions: missing };
    },

    async createRepo({ name, visibility, description }) {
      const body = {
        name,
        private: visibility === 'private',
        description,
        auto_init: false,
      };
      const action = `creating repository ${owner}/${name}`;
      const taken = (failure: OctokitFailure) =>
        failure.status === 422 && mentions(failure.data, 'already exists')
          ? 'repo_name_taken'
          : undefined;

      if (!ownerIsOrg) {
        const me = await authenticated();
        if (me.login.toLowerCase() !== owner.toLowerCase()) {
          throw new GatewayError(
            'insufficient_permissions',
            `The token belongs to ${me.login}, not ${owner}: ${providerName} creates user repositories only under the token's own account.`,
          );
        }
        const { data } = await call(
          action,
          false,
          () => octokit.rest.repos.createForAuthenticatedUser(body),
          taken,
        );
        return toRepoInfo(data);
      }

      try {
        const { data } = await call(
          action,
          false,
          () => octokit.rest.repos.createInOrg({ org: owner, ...body }),
          taken,
        );
        return toRepoInfo(data);
      } catch (error) {
        // GitHub answers 404, not 403, when a classic token lacks the scope for an
        // organization it can see; only the organization's existence tells the two apart.
        if (!isGatewayError(error) || error.providerStatus !== 404) throw error;
        if (!(await orgExists())) {
          throw new GatewayError(
            'owner_not_found',
            `${providerName} has no organization ${owner}.`,
            {
              providerStatus: 404,
            },
          );
        }
        throw new GatewayError(
          'insufficient_permissions',
          `${providerName} refused to create ${owner}/${name} (HTTP 404 for an organization that exists): the token lacks the "repo" scope or the account may not create repositories in ${owner}.`,
          { providerStatus: 404 },
        );
      }
    },

    async getRepo(name) {
      try {
        const { data } = await call(`reading repository ${owner}/${name}`, true, () =>
          octokit.rest.repos.get({ owner, repo: name }),
        );
        return toRepoInfo(data);
      } catch (error) {
        if (isGatewayError(error) && error.providerStatus === 404) return null;
        throw error;
      }
    },

    async addTopic(repo, topic) {
      const action = `setting topic ${topic} on ${owner}/${repo}`;
      const { data } = await call(action, true, () =>
        octokit.rest.repos.getAllTopics({ owner, repo }),
      );
      if (data.names.includes(topic)) return true;

      // The endpoint replaces the whole list, so the topics already there are sent back too.
      await call(action, true, () =>
        octokit.rest.repos.replaceAllTopics({ owner, repo, names: [...data.names, topic] }),
      );
      return true;
    },

    async *listRepos(listOptions = {}) {
      const action = `listing repositories of ${owner}`;
      let source: AsyncGenerator<Parameters<typeof toRepoInfo>[0]>;
      if (ownerIsOrg) {
        source = pages(action, () =>
          octokit.rest.repos.listForOrg({ org: owner, type: 'all', per_page: PAGE_SIZE }),
        );
      } else {
        const me = await authenticated();
        source =
          me.login.toLowerCase() === owner.toLowerCase()
            ? pages(action, () =>
                octokit.rest.repos.listForAuthenticatedUser({
                  affiliation: 'owner',
                  visibility: 'all',
                  per_page: PAGE_SIZE,
                }),
              )
            : pages(action, () =>
                octokit.rest.repos.listForUser({
                  username: owner,
                  type: 'owner',
                  per_page: PAGE_SIZE,
                }),
              );
      }

      // The topic is filtered here from each listed repository's `topics` rather than through
      // the search API: search is eventually consistent (a repository tagged a moment ago may
      // be missing) and allows 30 requests a minute, while the listing costs the same pages.
      for await (const repo of source) {
        if (listOptions.topic && !(repo.topics ?? []).includes(listOptions.topic)) continue;
        yield toRepoInfo(repo);
      }
    },

    async readFile(repo, path, ref, etag): Promise<FileRead> {
      const action = `reading ${path} of ${owner}/${repo} at ${ref}`;
      try {
        const response = await call(
          action,
          true,
          () =>
            octokit.rest.repos.getContent({
              owner,
              repo,
              path,
              ref,
              headers: etag ? { 'if-none-match': etag } : {},
            }),
          (failure) => (failure.status === 304 ? 'pass' : undefined),
        );
        const data = response.data;
        if (Array.isArray(data) || data.type !== 'file') return { status: 'not_found' };
        if (!('content' in data) || data.encoding !== 'base64') {
          // Files over 1 MB come without content; manifests are far smaller.
          throw new GatewayError(
            'provider_error',
            `${providerName} did not inline ${path} of ${owner}/${repo} (files over 1 MB are not read).`,
            { providerStatus: 200 },
          );
        }
        const etagHeader = response.headers.etag;
        return {
          status: 'ok',
          content: Buffer.from(data.content, 'base64'),
          etag: typeof etagHeader === 'string' ? etagHeader : null,
        };
      } catch (error) {
        if (error instanceof PassThroughStatus && error.status === 304)
          return { status: 'not_modified' };
        if (isGatewayError(error) && error.providerStatus === 404) return { status: 'not_found' };
        throw error;
      }
    },

    async downloadArchive(repo, tag) {
      const action = `downloading ${owner}/${repo} at ${tag}`;
      const url = new URL(
        `${endpoints.api}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/tarball/${encodeURIComponent(tag)}`,
      );
      // Fetched directly rather than through Octokit, which would buffer the whole archive:
      // the 302 to codeload is followed by hand and the token is dropped when the host changes.
      const response = await withRetries(
        GITHUB_RETRY_POLICY,
        { action: `${providerName}: ${action}`, idempotent: true, maxRateLimitWaitMs, logger },
        async () => {
          let answer: Response;
          try {
            answer = await fetchStreamFollowing(baseFetch, url, {
              headers: {
                authorization: `token ${conn.token}`,
                accept: 'application/vnd.github+json',
                'x-github-api-version': API_VERSION,
                'user-agent': userAgent,
              },
              timeoutMs,
            });
          } catch (error) {
            if (isGatewayError(error)) throw error;
            throw providerNetworkError({ provider: providerName, action }, error);
          }
          if (answer.status !== 200 || !answer.body) {
            await answer.body?.cancel().catch(() => undefined);
            throw providerHttpError(
              { provider: providerName, action },
              answer.status,
              answer.headers,
            );
          }
          return answer;
        },
      );
      return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    },

    async listTags(repo): Promise<TagInfo[]> {
      const tags: TagInfo[] = [];
      const listing = pages(`listing tags of ${owner}/${repo}`, () =>
        octokit.rest.repos.listTags({ owner, repo, per_page: PAGE_SIZE }),
      );
      for await (const entry of listing)
        tags.push({ name: entry.name, commitSha: entry.commit.sha });
      return tags;
    },

    gitRemote(repo): GitRemote {
      // GitHub takes any token as the password of the user name `x-access-token`; it is the one
      // form that also works for GitHub App installation tokens.
      return {
        url: `${endpoints.web}/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}.git`,
        username: 'x-access-token',
        password: conn.token,
      };
    },
  };
}

/** A status the caller asked to see as it is (a 304), carried past the normalizer. */
class PassThroughStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

function normalize(
  error: unknown,
  context: ProviderCallContext,
  interpret?: (failure: OctokitFailure) => ErrorCode | 'pass' | undefined,
): Error {
  if (isGatewayError(error)) return error;

  const failure = octokitFailure(error);
  if (!failure) return providerNetworkError(context, error);

  const reading = interpret?.(failure) ?? secondaryLimit(failure);
  if (reading === 'pass') return new PassThroughStatus(failure.status);
  return providerHttpError(context, failure.status, failure.headers, { code: reading });
}

// Octokit's RequestError carries `response` only when the provider answered; without it the
// request never got an answer (Octokit reports those as status 500).
function octokitFailure(error: unknown): OctokitFailure | null {
  if (!error || typeof error !== 'object') return null;
  const response = (error as { response?: { status?: unknown; headers?: unknown; data?: unknown } })
    .response;
  if (!response || typeof response.status !== 'number') return null;
  return {
    status: response.status,
    headers: (response.headers ?? {}) as HeaderSource,
    data: response.data,
  };
}

// A secondary limit may come as a bare 403 with no rate-limit header at all; only the message
// says so, and GitHub then asks for at least a minute's wait (the policy's fallback).
function secondaryLimit(failure: OctokitFailure): ErrorCode | undefined {
  if (failure.status !== 403 || !failure.data || typeof failure.data !== 'object') return undefined;
  const message = (failure.data as { message?: unknown }).message;
  return typeof message === 'string' && /rate limit/i.test(message) ? 'rate_limited' : undefined;
}

function mentions(data: unknown, words: string): boolean {
  if (!data || typeof data !== 'object') return false;
  const errors = (data as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return false;
  return errors.some(
    (entry) =>
      entry &&
      typeof entry === 'object' &&
      typeof (entry as { message?: unknown }).message === 'string' &&
      (entry as { message: string }).message.includes(words),
  );
}

function nextLink(headers: HeaderSource): string | null {
  const link = headerValue(headers, 'link');
  const match = link ? /<([^>]+)>;\s*rel="next"/.exec(link) : null;
  return match ? match[1] : null;
}
