import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { GatewayError } from '../../../core/errors.js';
import {
  basicAuthorization,
  createFetchClient,
  encodePath,
  joinUrl,
  type FetchAdapterOptions,
} from '../fetch-client.js';
import type { RetryPolicy } from '../rate-limit.js';
import { checkRemoteBaseUrl } from '../remote-url.js';
import type {
  FileRead,
  GitRemote,
  ProviderAdapter,
  ProviderConnection,
  RepoInfo,
  TagInfo,
  ValidationReport,
} from '../provider-port.js';
import {
  gitUserName,
  parseBitbucketCloudToken,
  restAuthorization,
} from './bitbucket-cloud-credential.js';

/**
 * Bitbucket Cloud's limits are hourly rolling windows per user or access token, answered with
 * 429 (https://support.atlassian.com/bitbucket-cloud/docs/api-request-limits/). A 429 rarely
 * names a time, and a spent window stays spent for minutes, so a call waits only when the
 * answer says the wait is short; otherwise it reports `rate_limited` a minute ahead for the
 * sync queue. A write is retried only on a rate limit, which Bitbucket answers before acting.
 */
export const BITBUCKET_CLOUD_RETRY_POLICY: RetryPolicy = {
  docs: 'https://support.atlassian.com/bitbucket-cloud/docs/api-request-limits/',
  maxAttempts: 3,
  backoffBaseMs: 1_000,
  backoffMaxMs: 10_000,
  rateLimitFallbackMs: 60_000,
  resetMarginMs: 250,
  retryReadsOn: ['rate_limited'],
  retryWritesOn: ['rate_limited'],
};

export interface BitbucketCloudOptions extends FetchAdapterOptions {
  /** The REST root; `https://api.bitbucket.org/2.0` unless a test points elsewhere. */
  apiUrl?: string;
  /** The web host that serves git and archive downloads; `https://bitbucket.org` by default. */
  webUrl?: string;
}

const DEFAULT_API_URL = 'https://api.bitbucket.org/2.0';
const DEFAULT_WEB_URL = 'https://bitbucket.org';
// The largest page Bitbucket Cloud serves for repository and ref listings.
const PAGE_LENGTH = 100;
const MAX_PAGES = 10_000;

// Scopes as `x-oauth-scopes` lists them: Atlassian API tokens use the `…:bitbucket` names,
// access tokens and OAuth the short ones. Each need is met by any one of its names.
const REQUIRED_SCOPES = [
  {
    anyOf: ['admin:repository:bitbucket', 'repository:admin'],
    words:
      'Repositories: Admin (admin:repository:bitbucket, or repository:admin for an access token), to create repositories',
  },
  {
    anyOf: ['write:repository:bitbucket', 'repository:write'],
    words:
      'Repositories: Write (write:repository:bitbucket, or repository:write for an access token), to push versions',
  },
];

interface BitbucketRepository {
  slug?: string;
  name: string;
  is_private: boolean;
  mainbranch?: { name: string } | null;
  links?: { html?: { href?: string } };
  workspace?: { slug?: string };
  updated_on?: string | null;
}

interface Paginated<T> {
  values: T[];
  next?: string;
}

interface BitbucketErrorBody {
  error?: { message?: string };
}

/** Bitbucket Cloud through its REST API 2.0 (https://developer.atlassian.com/cloud/bitbucket/rest/). */
export function createBitbucketCloudAdapter(
  conn: ProviderConnection,
  options: BitbucketCloudOptions = {},
): ProviderAdapter {
  if (conn.baseUrl) {
    throw new GatewayError('invalid_remote', 'Bitbucket Cloud takes no base URL: leave it empty.');
  }
  const api = checkRemoteBaseUrl(options.apiUrl ?? DEFAULT_API_URL);
  const web = checkRemoteBaseUrl(options.webUrl ?? DEFAULT_WEB_URL);
  const credential = parseBitbucketCloudToken(conn.token);
  const logger = options.logger ?? pino({ level: 'silent' });
  const workspace = conn.owner;

  const common = {
    providerName: 'Bitbucket Cloud',
    secrets: [conn.token, credential.secret],
    timeoutMs: options.timeoutMs,
    maxRateLimitWaitMs: options.maxRateLimitWaitMs,
    userAgent: options.userAgent,
    policy: BITBUCKET_CLOUD_RETRY_POLICY,
    fetch: options.fetch,
    logger,
  };
  const rest = createFetchClient({ ...common, authorization: restAuthorization(credential) });
  // Archive downloads live on the web host, which authenticates the way git does there.
  const downloads = createFetchClient({
    ...common,
    authorization: basicAuthorization(gitUserName(credential), credential.secret),
  });

  const repoUrl = (name: string, ...rest: string[]) =>
    joinUrl(api, 'repositories', workspace, name, ...rest);

  const noWorkspace = () =>
    new GatewayError('owner_not_found', `Bitbucket Cloud has no workspace ${workspace}.`, {
      providerStatus: 404,
    });

  const toRepoInfo = (repo: BitbucketRepository): RepoInfo => {
    const slug = repo.slug ?? repo.name;
    return {
      owner: repo.workspace?.slug ?? workspace,
      name: slug,
      htmlUrl: repo.links?.html?.href ?? joinUrl(web, workspace, slug).href,
      defaultBranch: repo.mainbranch?.name ?? null,
      private: repo.is_private,
      topics: null,
      changedAt: repo.updated_on ?? null,
    };
  };

  // Follows the `next` link of each page, but only on the API's own origin and path: a link
  // elsewhere would carry the credential to a host nobody configured.
  async function* pages<T>(
    first: URL,
    action: string,
    notFound: () => GatewayError,
  ): AsyncGenerator<T> {
    let url: URL | null = first;
    for (let page = 0; url && page < MAX_PAGES; page += 1) {
      const answer: { status: number; data: Paginated<T> } = await rest.json<Paginated<T>>({
        url,
        action,
        expect: [404],
      });
      if (answer.status === 404) throw notFound();
      for (const value of answer.data.values ?? []) yield value;
      url = answer.data.next ? sameApiUrl(answer.data.next, action) : null;
    }
  }

  const sameApiUrl = (link: string, action: string): URL => {
    const next = new URL(link, api);
    const apiPath = api.pathname.replace(/\/+$/, '');
    if (next.origin !== api.origin || !next.pathname.startsWith(`${apiPath}/`)) {
      throw new GatewayError(
        'provider_error',
        `Bitbucket Cloud gave a next-page link outside its API while ${action}.`,
        { providerStatus: 200 },
      );
    }
    return next;
  };

  return {
    id: 'bitbucket-cloud',
    supportsTopics: false,
    supportsListing: true,

    async validate(): Promise<ValidationReport> {
      let account: string | null = null;
      let scopes: string[] | null = null;

      // Access tokens act as no user, so /user answers them with an error; only API tokens
      // have an account to report.
      if (credential.kind === 'api-token') {
        const user = await rest.json<{ username?: string; nickname?: string }>({
          url: joinUrl(api, 'user'),
          action: 'reading the account of the token',
        });
        account = user.data.username ?? user.data.nickname ?? null;
        scopes = scopeHeader(user.headers);
      }

      const ws = await rest.request({
        url: joinUrl(api, 'workspaces', workspace),
        action: `reading workspace ${workspace}`,
        expect: [403, 404],
      });
      if (ws.status === 404) throw noWorkspace();
      if (ws.status === 403) {
        return {
          account,
          missingPermissions: [
            `Access to workspace ${workspace} (a repository access token cannot create repositories; use a workspace access token or an API token)`,
          ],
        };
      }
      scopes ??= scopeHeader(ws.headers);

      if (!scopes) {
        logger.info(
          { provider: 'bitbucket-cloud', workspace },
          'Bitbucket Cloud listed no scopes for the token; permissions will be checked when they are used',
        );
        return { account, missingPermissions: [] };
      }
      const granted = new Set(scopes);
      const missingPermissions = REQUIRED_SCOPES.filter(
        (need) => !need.anyOf.some((scope) => granted.has(scope)),
      ).map((need) => need.words);
      return { account, missingPermissions };
    },

    async createRepo({ name, visibility, description }): Promise<RepoInfo> {
      const action = `creating repository ${workspace}/${name}`;
      const response = await rest.request({
        method: 'POST',
        url: repoUrl(name),
        action,
        json: {
          scm: 'git',
          is_private: visibility === 'private',
          ...(description ? { description } : {}),
        },
        expect: [400, 404],
      });

      if (response.status === 404) throw noWorkspace();
      if (response.status === 400) {
        // The body is read here to tell the documented refusals apart and goes no further.
        const reason = errorMessage(response.body);
        if (/already exists/i.test(reason)) {
          throw new GatewayError(
            'repo_name_taken',
            `Bitbucket Cloud already has ${workspace}/${name}.`,
            {
              providerStatus: 400,
            },
          );
        }
        if (/project/i.test(reason)) {
          throw new GatewayError(
            'provider_error',
            `Bitbucket Cloud needs a project in workspace ${workspace} to hold new repositories: create one, then try again.`,
            { providerStatus: 400 },
          );
        }
        throw new GatewayError(
          'provider_error',
          `Bitbucket Cloud refused the new repository (HTTP 400) while ${action}.`,
          {
            providerStatus: 400,
          },
        );
      }
      return toRepoInfo(JSON.parse(response.body.toString('utf8')) as BitbucketRepository);
    },

    async getRepo(name) {
      const response = await rest.request({
        url: repoUrl(name),
        action: `reading repository ${workspace}/${name}`,
        expect: [404],
      });
      if (response.status === 404) return null;
      return toRepoInfo(JSON.parse(response.body.toString('utf8')) as BitbucketRepository);
    },

    async addTopic() {
      return false;
    },

    async *listRepos() {
      const first = joinUrl(api, 'repositories', workspace);
      first.searchParams.set('pagelen', String(PAGE_LENGTH));
      const action = `listing repositories of ${workspace}`;
      for await (const repo of pages<BitbucketRepository>(first, action, noWorkspace)) {
        yield toRepoInfo(repo);
      }
    },

    async readFile(repo, path, ref, etag): Promise<FileRead> {
      const url = repoUrl(repo, 'src', ref);
      url.pathname += `/${encodePath(path)}`;
      const response = await rest.request({
        url,
        action: `reading ${path} of ${workspace}/${repo} at ${ref}`,
        accept: '*/*',
        etag,
        expect: [404],
      });
      if (response.status === 404) return { status: 'not_found' };
      if (response.status === 304) return { status: 'not_modified' };
      return { status: 'ok', content: response.body, etag: response.headers.get('etag') };
    },

    async downloadArchive(repo, tag): Promise<Readable> {
      // The archive comes from the web host, not the API, with one top folder named
      // `<workspace>-<repo>-<short sha>`.
      const url = joinUrl(web, workspace, repo, 'get', `${tag}.tar.gz`);
      const response = await downloads.stream({
        url,
        action: `downloading ${workspace}/${repo} at ${tag}`,
        accept: '*/*',
        followRedirects: true,
      });
      return response.body;
    },

    async listTags(repo): Promise<TagInfo[]> {
      const first = repoUrl(repo, 'refs', 'tags');
      first.searchParams.set('pagelen', String(PAGE_LENGTH));
      const tags: TagInfo[] = [];
      const action = `listing tags of ${workspace}/${repo}`;
      const noRepo = () =>
        new GatewayError(
          'provider_error',
          `Bitbucket Cloud has no repository ${workspace}/${repo}.`,
          {
            providerStatus: 404,
          },
        );
      for await (const tag of pages<{ name: string; target?: { hash?: string } }>(
        first,
        action,
        noRepo,
      )) {
        if (tag.target?.hash) tags.push({ name: tag.name, commitSha: tag.target.hash });
      }
      return tags;
    },

    gitRemote(repo): GitRemote {
      const url = joinUrl(web, workspace, `${repo}.git`);
      return { url: url.href, username: gitUserName(credential), password: credential.secret };
    },
  };
}

function scopeHeader(headers: Headers): string[] | null {
  const value = headers.get('x-oauth-scopes');
  if (value === null) return null;
  return value
    .split(/[\s,]+/)
    .map((scope) => scope.trim())
    .filter(Boolean);
}

function errorMessage(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as BitbucketErrorBody;
    return parsed.error?.message ?? '';
  } catch {
    return '';
  }
}
