import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { GatewayError } from '../../../core/errors.js';
import {
  createFetchClient,
  encodePath,
  joinUrl,
  type FetchAdapterOptions,
} from '../fetch-client.js';
import type {
  FileRead,
  GitRemote,
  ProviderAdapter,
  ProviderConnection,
  RepoInfo,
  TagInfo,
  ValidationReport,
} from '../provider-port.js';
import type { RetryPolicy } from '../rate-limit.js';
import { checkRemoteBaseUrl } from '../remote-url.js';
import { missingScopesFrom } from './gitea-scopes.js';

/**
 * Gitea and Forgejo ship no API rate limiter of their own; a 429 comes from a reverse proxy in
 * front of them, with or without `Retry-After` (https://docs.gitea.com/development/api-usage).
 * A short wait is taken when named, a rate limit is otherwise reported for the sync queue.
 */
export const GITEA_RETRY_POLICY: RetryPolicy = {
  docs: 'https://docs.gitea.com/development/api-usage',
  maxAttempts: 3,
  backoffBaseMs: 500,
  backoffMaxMs: 5_000,
  rateLimitFallbackMs: 30_000,
  resetMarginMs: 100,
  retryReadsOn: ['rate_limited'],
  retryWritesOn: ['rate_limited'],
};

export type GiteaOptions = FetchAdapterOptions;

// Gitea's default `[api] MAX_RESPONSE_ITEMS`; a smaller setting shortens pages, which the
// Link header then covers.
const PAGE_LIMIT = 50;
const MAX_PAGES = 10_000;
// Any non-empty user name works for git when the password is a token; the login is used where
// it is known so the provider's logs name the account.
const GIT_USER_FOR_ORGS = 'second-gateway';
// Gitea repository names are letters, digits, `-`, `_` and `.`, so no repository has this one.
const UNUSABLE_REPO_NAME = 'second-gateway!probe';

interface GiteaRepository {
  name: string;
  owner?: { login?: string; username?: string };
  html_url?: string;
  default_branch?: string;
  private: boolean;
  empty?: boolean;
  topics?: string[] | null;
  updated_at?: string | null;
}

interface GiteaTag {
  name: string;
  commit?: { sha?: string };
}

/** Gitea or Forgejo through the REST API at `<host>/api/v1` (the instance's `/api/swagger`). */
export function createGiteaAdapter(
  conn: ProviderConnection,
  options: GiteaOptions = {},
): ProviderAdapter {
  if (!conn.baseUrl) {
    throw new GatewayError(
      'invalid_remote',
      'Gitea needs the address of the instance as its base URL.',
    );
  }
  const host = checkRemoteBaseUrl(conn.baseUrl);
  const api = joinUrl(host, 'api', 'v1');
  const logger = options.logger ?? pino({ level: 'silent' });
  const owner = conn.owner;
  const isOrg = conn.ownerType === 'org';

  const rest = createFetchClient({
    providerName: 'Gitea',
    authorization: `token ${conn.token}`,
    secrets: [conn.token],
    policy: GITEA_RETRY_POLICY,
    timeoutMs: options.timeoutMs,
    maxRateLimitWaitMs: options.maxRateLimitWaitMs,
    userAgent: options.userAgent,
    fetch: options.fetch,
    logger,
  });

  const noOwner = (status: number) =>
    new GatewayError(
      'owner_not_found',
      `Gitea has no ${isOrg ? 'organization' : 'user'} ${owner}.`,
      {
        providerStatus: status,
      },
    );
  const repoUrl = (name: string, ...rest: string[]) => joinUrl(api, 'repos', owner, name, ...rest);

  const toRepoInfo = (repo: GiteaRepository): RepoInfo => ({
    owner: repo.owner?.login ?? repo.owner?.username ?? owner,
    name: repo.name,
    htmlUrl: repo.html_url ?? joinUrl(host, owner, repo.name).href,
    defaultBranch: repo.empty ? null : (repo.default_branch ?? null),
    private: repo.private,
    topics: repo.topics ?? [],
    changedAt: repo.updated_at ?? null,
  });
  const ownedHere = (repo: GiteaRepository) =>
    (repo.owner?.login ?? repo.owner?.username ?? owner).toLowerCase() === owner.toLowerCase();

  // Walks a listing by its `Link: <…>; rel="next"` header, on the instance's own API only.
  async function* pages<T>(first: URL, action: string, unwrap: (body: unknown) => T[]) {
    let url: URL | null = first;
    for (let page = 0; url && page < MAX_PAGES; page += 1) {
      const answer: { status: number; headers: Headers; data: unknown } = await rest.json({
        url,
        action,
        expect: [404],
      });
      if (answer.status === 404) throw noOwner(404);
      const items = unwrap(answer.data);
      for (const item of items) yield item;
      url = items.length === 0 ? null : nextLink(answer.headers.get('link'), api);
    }
  }

  // The token's login, read once: user-owned repositories are created as that user.
  let login: Promise<string> | null = null;
  const tokenLogin = () => {
    login ??= rest
      .json<{ login: string }>({
        url: joinUrl(api, 'user'),
        action: 'reading the account of the token',
      })
      .then((answer) => answer.data.login);
    login.catch(() => (login = null));
    return login;
  };

  return {
    id: 'gitea',
    supportsTopics: true,
    supportsListing: true,

    async validate(): Promise<ValidationReport> {
      const missing: string[] = [];

      const user = await rest.request({
        url: joinUrl(api, 'user'),
        action: 'reading the account of the token',
        expect: [403],
      });
      let account: string | null = null;
      if (user.status === 403) missing.push(...missingScopesFrom(user.body, 'to read the account'));
      else account = (JSON.parse(user.body.toString('utf8')) as { login: string }).login;

      if (isOrg) {
        const org = await rest.request({
          url: joinUrl(api, 'orgs', owner),
          action: `reading organization ${owner}`,
          expect: [403, 404],
        });
        if (org.status === 404) throw noOwner(404);
        if (org.status === 403)
          missing.push(...missingScopesFrom(org.body, 'to read the organization'));
      } else {
        const found = await rest.request({
          url: joinUrl(api, 'users', owner),
          action: `reading user ${owner}`,
          expect: [403, 404],
        });
        if (found.status === 404) throw noOwner(404);
        if (account && account.toLowerCase() !== owner.toLowerCase()) {
          missing.push(
            `Ownership of user ${owner}: the token belongs to ${account}, and only ${owner} can create repositories there`,
          );
        }
      }

      // Gitea lists a token's scopes nowhere, and checks them before it reads a request body.
      // Creating a repository with an empty body is therefore a safe probe: a token with the
      // scopes gets 422 for the missing name and nothing is created, a token without them
      // gets 403 naming the scopes it lacks.
      const probe = await rest.request({
        method: 'POST',
        url: isOrg ? joinUrl(api, 'orgs', owner, 'repos') : joinUrl(api, 'user', 'repos'),
        action: 'checking the token may create repositories',
        json: {},
        expect: [400, 403, 404, 409, 422],
      });
      if (probe.status === 403) {
        missing.push(...missingScopesFrom(probe.body, 'to create repositories and push'));
      }

      // Pushing needs write:repository, which the creation probe may not reach when an owner
      // scope is refused first. Gitea checks it on every non-GET repository route before it
      // looks the repository up, so a topic change on a name no repository can have is refused
      // with 403 or answered 404, and changes nothing.
      const pushProbe = await rest.request({
        method: 'PUT',
        url: repoUrl(UNUSABLE_REPO_NAME, 'topics', 'second-app'),
        action: 'checking the token may write to repositories',
        expect: [403, 404, 422],
      });
      if (pushProbe.status === 403) {
        missing.push(...missingScopesFrom(pushProbe.body, 'to push versions and set topics'));
      }

      if (isOrg && account && probe.status !== 403) {
        const permissions = await rest.request({
          url: joinUrl(api, 'users', account, 'orgs', owner, 'permissions'),
          action: `reading the permissions of ${account} in ${owner}`,
          expect: [403, 404],
        });
        const granted =
          permissions.status === 200
            ? (JSON.parse(permissions.body.toString('utf8')) as { can_create_repository?: boolean })
            : null;
        if (granted && granted.can_create_repository === false) {
          missing.push(
            `Permission to create repositories in organization ${owner} (a team with "Create repositories", or owner)`,
          );
        }
        if (!granted) {
          logger.info(
            { provider: 'gitea', owner },
            `Gitea did not show the permissions of ${account} in ${owner}; skipping that check`,
          );
        }
      }
      return { account, missingPermissions: [...new Set(missing)] };
    },

    async createRepo({ name, visibility, description }): Promise<RepoInfo> {
      if (!isOrg) {
        const me = await tokenLogin();
        if (me.toLowerCase() !== owner.toLowerCase()) {
          throw new GatewayError(
            'insufficient_permissions',
            `The Gitea token belongs to ${me}, so it cannot create repositories for user ${owner}.`,
            { providerStatus: 200 },
          );
        }
      }

      const response = await rest.request({
        method: 'POST',
        url: isOrg ? joinUrl(api, 'orgs', owner, 'repos') : joinUrl(api, 'user', 'repos'),
        action: `creating repository ${owner}/${name}`,
        json: {
          name,
          private: visibility === 'private',
          auto_init: false,
          default_branch: 'main',
          ...(description ? { description } : {}),
        },
        expect: [404, 409, 422],
      });

      if (response.status === 409) {
        throw new GatewayError('repo_name_taken', `Gitea already has ${owner}/${name}.`, {
          providerStatus: 409,
        });
      }
      if (response.status === 404) throw noOwner(404);
      if (response.status === 422) {
        // Gitea answers 422 rather than 404 for an organization it does not know on this
        // route; the body is read only to tell that apart from a refused name.
        const message = bodyMessage(response.body);
        if (/(org|user) does not exist/i.test(message)) throw noOwner(422);
        throw new GatewayError(
          'provider_error',
          `Gitea refused the repository name ${name} (HTTP 422).`,
          {
            providerStatus: 422,
          },
        );
      }
      return toRepoInfo(JSON.parse(response.body.toString('utf8')) as GiteaRepository);
    },

    async getRepo(name) {
      const response = await rest.request({
        url: repoUrl(name),
        action: `reading repository ${owner}/${name}`,
        expect: [404],
      });
      if (response.status === 404) return null;
      return toRepoInfo(JSON.parse(response.body.toString('utf8')) as GiteaRepository);
    },

    async addTopic(repo, topic) {
      await rest.request({
        method: 'PUT',
        url: repoUrl(repo, 'topics', topic),
        action: `adding topic ${topic} to ${owner}/${repo}`,
      });
      return true;
    },

    async *listRepos(listOptions = {}) {
      const topic = listOptions.topic?.toLowerCase();
      if (topic) {
        // The search narrows by topic on the server; the topics in each answer are checked
        // again because Gitea matches a topic keyword by prefix on some versions.
        const ownerRecord = await rest.json<{ id: number }>({
          url: joinUrl(api, 'users', owner),
          action: `reading ${owner}`,
          expect: [404],
        });
        if (ownerRecord.status === 404) throw noOwner(404);

        const first = joinUrl(api, 'repos', 'search');
        first.search = new URLSearchParams({
          q: topic,
          topic: 'true',
          uid: String(ownerRecord.data.id),
          exclusive: 'true',
          limit: String(PAGE_LIMIT),
          page: '1',
        }).toString();
        const unwrap = (body: unknown) => (body as { data?: GiteaRepository[] })?.data ?? [];
        for await (const repo of pages(first, `searching ${owner} for topic ${topic}`, unwrap)) {
          const topics = (repo.topics ?? []).map((t) => t.toLowerCase());
          if (ownedHere(repo) && topics.includes(topic)) yield toRepoInfo(repo);
        }
        return;
      }

      const first = isOrg
        ? joinUrl(api, 'orgs', owner, 'repos')
        : joinUrl(api, 'users', owner, 'repos');
      first.search = new URLSearchParams({ limit: String(PAGE_LIMIT), page: '1' }).toString();
      const unwrap = (body: unknown) => (Array.isArray(body) ? (body as GiteaRepository[]) : []);
      for await (const repo of pages(first, `listing repositories of ${owner}`, unwrap)) {
        if (ownedHere(repo)) yield toRepoInfo(repo);
      }
    },

    async readFile(repo, path, ref, etag): Promise<FileRead> {
      const url = repoUrl(repo, 'raw');
      url.pathname += `/${encodePath(path)}`;
      url.searchParams.set('ref', ref);
      const response = await rest.request({
        url,
        action: `reading ${path} of ${owner}/${repo} at ${ref}`,
        accept: '*/*',
        etag,
        expect: [404],
      });
      if (response.status === 404) return { status: 'not_found' };
      if (response.status === 304) return { status: 'not_modified' };
      return { status: 'ok', content: response.body, etag: response.headers.get('etag') };
    },

    async downloadArchive(repo, tag): Promise<Readable> {
      // Gitea names the one top folder after the repository.
      const response = await rest.stream({
        url: repoUrl(repo, 'archive', `${tag}.tar.gz`),
        action: `downloading ${owner}/${repo} at ${tag}`,
        accept: '*/*',
      });
      return response.body;
    },

    async listTags(repo): Promise<TagInfo[]> {
      const first = repoUrl(repo, 'tags');
      first.search = new URLSearchParams({ limit: String(PAGE_LIMIT), page: '1' }).toString();
      const unwrap = (body: unknown) => (Array.isArray(body) ? (body as GiteaTag[]) : []);
      const tags: TagInfo[] = [];
      for await (const tag of pages(first, `listing tags of ${owner}/${repo}`, unwrap)) {
        if (tag.commit?.sha) tags.push({ name: tag.name, commitSha: tag.commit.sha });
      }
      return tags;
    },

    gitRemote(repo): GitRemote {
      return {
        url: joinUrl(host, owner, `${repo}.git`).href,
        username: isOrg ? GIT_USER_FOR_ORGS : owner,
        password: conn.token,
      };
    },
  };
}

/** The `rel="next"` target of a Link header, when it stays on the API's origin and path. */
function nextLink(header: string | null, api: URL): URL | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (!match) continue;
    const next = new URL(match[1], api);
    const apiPath = api.pathname.replace(/\/+$/, '');
    if (next.origin !== api.origin || !next.pathname.startsWith(`${apiPath}/`)) {
      throw new GatewayError('provider_error', 'Gitea gave a next-page link outside its API.', {
        providerStatus: 200,
      });
    }
    return next;
  }
  return null;
}

function bodyMessage(body: Buffer): string {
  try {
    return String((JSON.parse(body.toString('utf8')) as { message?: unknown }).message ?? '');
  } catch {
    return '';
  }
}
