import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { GatewayError } from '../../../core/errors.js';
import {
  createFetchClient,
  encodePath,
  joinUrl,
  type FetchAdapterOptions,
} from '../fetch-client.js';
import {
  DEFAULT_BRANCH_REF,
  type FileRead,
  type GitRemote,
  type ProviderAdapter,
  type ProviderConnection,
  type RepoInfo,
  type TagInfo,
  type ValidationReport,
} from '../provider-port.js';
import type { RetryPolicy } from '../rate-limit.js';
import { checkRemoteBaseUrl } from '../remote-url.js';
import { parseBitbucketServerToken } from './bitbucket-server-credential.js';

/**
 * Bitbucket Data Center rate-limits with a token bucket per user, refilled every second, and
 * answers 429 with `Retry-After` when it is empty
 * (https://confluence.atlassian.com/bitbucketserver/improving-instance-stability-with-rate-limiting-976171954.html).
 * Waits are short, so a call waits them out within its bound.
 */
export const BITBUCKET_SERVER_RETRY_POLICY: RetryPolicy = {
  docs: 'https://confluence.atlassian.com/bitbucketserver/improving-instance-stability-with-rate-limiting-976171954.html',
  maxAttempts: 4,
  backoffBaseMs: 500,
  backoffMaxMs: 5_000,
  rateLimitFallbackMs: 5_000,
  resetMarginMs: 100,
  retryReadsOn: ['rate_limited'],
  retryWritesOn: ['rate_limited'],
};

export type BitbucketServerOptions = FetchAdapterOptions;

// The default hard limit of Bitbucket's paged APIs is 1000; 100 keeps answers small.
const PAGE_LIMIT = 100;
const MAX_PAGES = 10_000;
// A project or repository token is sent as Bearer; git ignores the name then, but it must
// not be empty.
const BEARER_GIT_USER = 'http-access-token';

interface BitbucketServerRepository {
  slug: string;
  name: string;
  public?: boolean;
  defaultBranch?: string;
  links?: { self?: { href?: string }[] };
}

interface PagedBody<T> {
  values: T[];
  isLastPage: boolean;
  nextPageStart?: number;
}

/**
 * Bitbucket Data Center (formerly Server) through REST API 1.0
 * (https://developer.atlassian.com/server/bitbucket/rest/). The owner is a project key, or a
 * user whose personal project is `~username`.
 */
export function createBitbucketServerAdapter(
  conn: ProviderConnection,
  options: BitbucketServerOptions = {},
): ProviderAdapter {
  if (!conn.baseUrl) {
    throw new GatewayError(
      'invalid_remote',
      'Bitbucket Data Center needs the address of the instance as its base URL.',
    );
  }
  const host = checkRemoteBaseUrl(conn.baseUrl);
  const api = joinUrl(host, 'rest', 'api', '1.0');
  const credential = parseBitbucketServerToken(conn.token);
  const logger = options.logger ?? pino({ level: 'silent' });
  const isUser = conn.ownerType === 'user';
  const userSlug = conn.owner.replace(/^~/, '');
  const projectKey = isUser ? `~${userSlug}` : conn.owner;

  const rest = createFetchClient({
    providerName: 'Bitbucket Data Center',
    authorization: `Bearer ${credential.secret}`,
    secrets: [conn.token, credential.secret],
    policy: BITBUCKET_SERVER_RETRY_POLICY,
    timeoutMs: options.timeoutMs,
    maxRateLimitWaitMs: options.maxRateLimitWaitMs,
    userAgent: options.userAgent,
    fetch: options.fetch,
    logger,
  });

  const noOwner = (status: number) =>
    new GatewayError(
      'owner_not_found',
      isUser
        ? `Bitbucket Data Center has no user ${userSlug} (personal project ${projectKey}).`
        : `Bitbucket Data Center has no project ${projectKey}.`,
      { providerStatus: status },
    );
  const projectUrl = (...rest: string[]) => joinUrl(api, 'projects', projectKey, ...rest);
  const repoUrl = (slug: string, ...rest: string[]) => projectUrl('repos', slug, ...rest);

  const toRepoInfo = (repo: BitbucketServerRepository): RepoInfo => {
    const browse = isUser
      ? joinUrl(host, 'users', userSlug, 'repos', repo.slug, 'browse')
      : joinUrl(host, 'projects', projectKey, 'repos', repo.slug, 'browse');
    return {
      owner: conn.owner,
      name: repo.slug,
      htmlUrl: repo.links?.self?.[0]?.href ?? browse.href,
      // The repository listing of Data Center does not name the default branch, and asking for
      // it costs a request per repository; the raw endpoint reads it when no `at` is given.
      defaultBranch: repo.defaultBranch ?? DEFAULT_BRANCH_REF,
      private: repo.public !== true,
      topics: null,
      // The repository listing of Data Center carries no time of any kind.
      changedAt: null,
    };
  };

  // Walks a paged API by `nextPageStart`, as Bitbucket asks: ids of adjacent pages need not be
  // contiguous, so the next start is never computed.
  async function* pages<T>(first: URL, action: string, onNotFound: () => GatewayError) {
    let start: number | null = 0;
    for (let page = 0; start !== null && page < MAX_PAGES; page += 1) {
      const url = new URL(first.href);
      url.searchParams.set('start', String(start));
      url.searchParams.set('limit', String(PAGE_LIMIT));
      const answer: { status: number; data: PagedBody<T> } = await rest.json<PagedBody<T>>({
        url,
        action,
        expect: [404],
      });
      if (answer.status === 404) throw onNotFound();
      for (const value of answer.data.values ?? []) yield value;
      const next = answer.data.nextPageStart;
      start = answer.data.isLastPage || typeof next !== 'number' || next <= start ? null : next;
    }
  }

  return {
    id: 'bitbucket-server',
    supportsTopics: false,
    supportsListing: true,

    async validate(): Promise<ValidationReport> {
      const project = await rest.request({
        url: projectUrl(),
        action: `reading project ${projectKey}`,
        expect: [404],
      });
      if (project.status === 404) throw noOwner(404);

      // Every authenticated answer names the account in `X-AUSERNAME`; a project or
      // repository token answers with the service user Bitbucket made for it.
      const header = project.headers.get('x-ausername');
      const account =
        (header ? safeDecode(header) : null) ??
        (credential.kind === 'personal' ? credential.username : null);
      const missingPermissions: string[] = [];

      if (isUser) {
        if (!account || account.toLowerCase() !== userSlug.toLowerCase()) {
          missingPermissions.push(
            `Ownership of personal project ${projectKey}: only ${userSlug} can create repositories there, and the token acts as ${account ?? 'another account'}`,
          );
        }
        return { account, missingPermissions };
      }

      const { name } = JSON.parse(project.body.toString('utf8')) as { name?: string };
      if (!(await hasProjectAdmin(name ?? projectKey))) {
        missingPermissions.push(
          `Project admin on project ${projectKey}, to create repositories (a personal token of a project admin, or a project token with admin permission)`,
        );
      }
      return { account, missingPermissions };
    },

    async createRepo({ name, visibility }): Promise<RepoInfo> {
      const response = await rest.request({
        method: 'POST',
        url: projectUrl('repos'),
        action: `creating repository ${projectKey}/${name}`,
        json: {
          name,
          scmId: 'git',
          forkable: false,
          defaultBranch: 'main',
          public: visibility === 'public',
        },
        expect: [404, 409],
      });

      if (response.status === 409) {
        throw new GatewayError(
          'repo_name_taken',
          `Bitbucket Data Center already has ${projectKey}/${name}.`,
          {
            providerStatus: 409,
          },
        );
      }
      if (response.status === 404) throw noOwner(404);
      return toRepoInfo(JSON.parse(response.body.toString('utf8')) as BitbucketServerRepository);
    },

    async getRepo(name) {
      const response = await rest.request({
        url: repoUrl(name),
        action: `reading repository ${projectKey}/${name}`,
        expect: [404],
      });
      if (response.status === 404) return null;
      return toRepoInfo(JSON.parse(response.body.toString('utf8')) as BitbucketServerRepository);
    },

    async addTopic() {
      return false;
    },

    async *listRepos() {
      const action = `listing repositories of ${projectKey}`;
      for await (const repo of pages<BitbucketServerRepository>(projectUrl('repos'), action, () =>
        noOwner(404),
      )) {
        yield toRepoInfo(repo);
      }
    },

    // Bitbucket's raw endpoint answers no conditional requests, so no ETag is sent or kept;
    // a caller re-reads the manifest of a tag it has seen (tags are not moved by the gateway).
    async readFile(repo, path, ref): Promise<FileRead> {
      const url = repoUrl(repo, 'raw');
      url.pathname += `/${encodePath(path)}`;
      if (ref !== DEFAULT_BRANCH_REF) url.searchParams.set('at', ref);
      const response = await rest.request({
        url,
        action: `reading ${path} of ${projectKey}/${repo} at ${ref}`,
        accept: '*/*',
        expect: [404],
      });
      if (response.status === 404) return { status: 'not_found' };
      return { status: 'ok', content: response.body, etag: null };
    },

    async downloadArchive(repo, tag): Promise<Readable> {
      // The prefix makes the repository slug the one top folder of the archive.
      const url = repoUrl(repo, 'archive');
      url.search = new URLSearchParams({
        at: tag,
        format: 'tar.gz',
        prefix: `${repo}/`,
      }).toString();
      const response = await rest.stream({
        url,
        action: `downloading ${projectKey}/${repo} at ${tag}`,
        accept: '*/*',
      });
      return response.body;
    },

    async listTags(repo): Promise<TagInfo[]> {
      const noRepo = () =>
        new GatewayError(
          'provider_error',
          `Bitbucket Data Center has no repository ${projectKey}/${repo}.`,
          {
            providerStatus: 404,
          },
        );
      const tags: TagInfo[] = [];
      const action = `listing tags of ${projectKey}/${repo}`;
      type Tag = { displayId: string; latestCommit?: string };
      for await (const tag of pages<Tag>(repoUrl(repo, 'tags'), action, noRepo)) {
        if (tag.latestCommit) tags.push({ name: tag.displayId, commitSha: tag.latestCommit });
      }
      return tags;
    },

    gitRemote(repo): GitRemote {
      // Clone URLs name the project key in lower case, and a personal project as `~user`.
      const url = joinUrl(host, 'scm', projectKey.toLowerCase(), `${repo}.git`).href;
      if (credential.kind === 'personal') {
        return {
          url,
          username: credential.username,
          password: credential.secret,
          authScheme: 'basic',
        };
      }
      return { url, username: BEARER_GIT_USER, password: credential.secret, authScheme: 'bearer' };
    },
  };

  // Lists the projects the token administers whose name matches, and looks for the key: the
  // project's permission list itself is readable by admins only, and a 403 there would not
  // tell a missing permission from a token that may not read permissions.
  async function hasProjectAdmin(projectName: string): Promise<boolean> {
    const first = joinUrl(api, 'projects');
    first.searchParams.set('name', projectName);
    first.searchParams.set('permission', 'PROJECT_ADMIN');
    const action = `checking project admin permission on ${projectKey}`;
    type Project = { key: string };
    for await (const project of pages<Project>(first, action, () => noOwner(404))) {
      if (project.key.toLowerCase() === projectKey.toLowerCase()) return true;
    }
    return false;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
