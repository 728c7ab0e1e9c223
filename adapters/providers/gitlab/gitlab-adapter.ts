import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Gitlab } from '@gitbeaker/rest';
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
  providerHttpError,
  providerNetworkError,
  type ProviderCallContext,
} from '../provider-errors.js';
import { DEFAULT_MAX_RATE_LIMIT_WAIT_MS, withRetries, type RetryPolicy } from '../rate-limit.js';
import { createGitLabHttp, GitLabHttpFailure } from './gitlab-http.js';
import {
  gitLabTokenKind,
  missingGroupRole,
  missingScopes,
  type GitLabTokenKind,
} from './gitlab-permissions.js';
import { gitbeakerRequester } from './gitlab-requester.js';

/**
 * GitLab's limits: throttled requests answer 429 with `Retry-After` (seconds) and
 * `RateLimit-Reset` (epoch seconds); GitLab.com allows 2,000 authenticated API requests a
 * minute, self-managed instances what their admins set.
 * https://docs.gitlab.com/ee/administration/settings/user_and_ip_rate_limits.html
 * https://docs.gitlab.com/ee/user/gitlab_com/index.html#gitlabcom-specific-rate-limits
 */
export const GITLAB_RETRY_POLICY: RetryPolicy = {
  docs: 'https://docs.gitlab.com/ee/administration/settings/user_and_ip_rate_limits.html',
  maxAttempts: 3,
  backoffBaseMs: 250,
  backoffMaxMs: 2_000,
  rateLimitFallbackMs: 60_000,
  resetMarginMs: 250,
  retryReadsOn: ['rate_limited', 'provider_unavailable'],
  retryWritesOn: ['rate_limited'],
};

/** Factory options of the GitLab adapter. */
export interface GitLabAdapterOptions extends ProviderOptions {
  /** Replaces the global `fetch` for every request. */
  fetch?: typeof fetch;
  logger?: Logger;
}

const PAGE_SIZE = 100;

interface UserJson {
  id: number;
  username: string;
  bot?: boolean;
  can_create_project?: boolean;
}
interface GroupJson {
  id: number;
  full_path: string;
  project_creation_level?: string;
}
interface ProjectJson {
  id: number;
  path: string;
  web_url: string;
  default_branch?: string | null;
  visibility: string;
  topics?: string[];
  tag_list?: string[];
  last_activity_at?: string | null;
  namespace: { full_path: string };
}
interface TagJson {
  name: string;
  commit: { id: string };
}
interface Page<T> {
  data: T[];
  paginationInfo: { next: number | null };
}

/** Builds the adapter for gitlab.com or a self-managed GitLab on `@gitbeaker/rest`. */
export function createGitLabAdapter(
  conn: ProviderConnection,
  options: GitLabAdapterOptions = {},
): ProviderAdapter {
  const host = (conn.baseUrl ?? 'https://gitlab.com').replace(/\/+$/, '');
  const logger = options.logger ?? pino({ level: 'silent' });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const { owner } = conn;
  const providerName = 'GitLab';

  const http = createGitLabHttp({
    host,
    token: conn.token,
    timeoutMs,
    userAgent: options.userAgent ?? 'second-scm-gateway',
    fetch: options.fetch ?? fetch,
  });
  // gitbeaker names the endpoints; the requester underneath is the adapter's own (see there).
  const api = new Gitlab({
    host,
    token: conn.token,
    requesterFn: gitbeakerRequester(http) as never,
  });

  const call = async <T>(
    action: string,
    idempotent: boolean,
    run: () => Promise<T>,
    interpret?: (failure: GitLabHttpFailure) => ErrorCode | undefined,
  ): Promise<T> => {
    const context: ProviderCallContext = { provider: providerName, action };
    return withRetries(
      GITLAB_RETRY_POLICY,
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

  const projectRef = (repo: string) => `${owner}/${repo}`;
  const encodedProject = (repo: string) => encodeURIComponent(projectRef(repo));

  let me: Promise<UserJson> | null = null;
  const currentUser = () => {
    me ??= call('reading the token account', true, async () => {
      return (await api.Users.showCurrentUser()) as unknown as UserJson;
    }).catch((error: unknown) => {
      me = null;
      throw error;
    });
    return me;
  };

  const findGroup = async (): Promise<GroupJson | null> => {
    try {
      return (await call(`looking up group ${owner}`, true, () =>
        api.Groups.show(owner),
      )) as unknown as GroupJson;
    } catch (error) {
      if (isGatewayError(error) && error.providerStatus === 404) return null;
      throw error;
    }
  };

  const requireGroup = async (): Promise<GroupJson> => {
    const group = await findGroup();
    if (group) return group;
    throw new GatewayError(
      'owner_not_found',
      `${providerName} has no group ${owner}, or the token cannot see it.`,
      { providerStatus: 404 },
    );
  };

  const toRepoInfo = (p: ProjectJson): RepoInfo => ({
    owner: p.namespace.full_path,
    name: p.path,
    htmlUrl: p.web_url,
    defaultBranch: p.default_branch ?? null,
    private: p.visibility === 'private',
    topics: p.topics ?? p.tag_list ?? null,
    // GitLab moves it on a push, but at most about once an hour: a push within the hour of the
    // last activity leaves it where it was. Whoever trusts it must bound that delay.
    changedAt: p.last_activity_at ?? null,
  });

  const tokenScopes = async (): Promise<string[] | null> => {
    try {
      const token = await call('reading the token scopes', true, () =>
        http.request({ path: 'personal_access_tokens/self' }),
      );
      const scopes = (token.body as { scopes?: unknown }).scopes;
      return Array.isArray(scopes) ? scopes.map(String) : null;
    } catch (error) {
      // Older GitLab has no such endpoint; the scopes are then unknown, not missing.
      if (isGatewayError(error) && [403, 404].includes(error.providerStatus ?? 0)) return null;
      throw error;
    }
  };

  const memberAccessLevel = async (groupId: number, userId: number): Promise<number> => {
    try {
      const member = (await call(`reading the token account's role in ${owner}`, true, () =>
        api.GroupMembers.show(groupId, userId, { includeInherited: true }),
      )) as unknown as { access_level?: number };
      return member.access_level ?? 0;
    } catch (error) {
      if (isGatewayError(error) && error.providerStatus === 404) return 0;
      throw error;
    }
  };

  const ownerMismatch = (kind: GitLabTokenKind, user: UserJson): string | null => {
    if (kind !== 'personal') {
      return `A ${kind} access token has no personal namespace: set the owner to a group.`;
    }
    if (user.username.toLowerCase() !== owner.toLowerCase()) {
      return (
        `The token belongs to ${user.username}; ${providerName} creates personal projects only ` +
        `under the token's own account, so set the owner to ${user.username} or to a group.`
      );
    }
    if (user.can_create_project === false) {
      return `The account ${user.username} may not create projects (its project limit is reached).`;
    }
    return null;
  };

  async function* walk<T>(action: string, fetchPage: (page: number) => Promise<Page<T>>) {
    for (let page: number | null = 1; page !== null;) {
      const current: number = page;
      const result = await call(action, true, () => fetchPage(current));
      yield* result.data;
      page = result.paginationInfo.next;
    }
  }

  return {
    id: 'gitlab',
    supportsTopics: true,
    supportsListing: true,

    async validate(): Promise<ValidationReport> {
      const user = await currentUser();
      const kind = gitLabTokenKind(user);
      const missing = missingScopes(await tokenScopes());

      if (conn.ownerType === 'org') {
        const group = await requireGroup();
        const level = await memberAccessLevel(group.id, user.id);
        missing.push(
          ...missingGroupRole({
            group: group.full_path,
            kind,
            accessLevel: level,
            projectCreationLevel: group.project_creation_level,
          }),
        );
        return { account: user.username, missingPermissions: missing };
      }

      if (kind === 'personal' && user.username.toLowerCase() !== owner.toLowerCase()) {
        const found = await call(`looking up user ${owner}`, true, () =>
          http.request({ path: 'users', query: { username: owner } }),
        );
        if (!Array.isArray(found.body) || found.body.length === 0) {
          throw new GatewayError('owner_not_found', `${providerName} has no user ${owner}.`, {
            providerStatus: 404,
          });
        }
      }
      const mismatch = ownerMismatch(kind, user);
      if (mismatch) missing.push(mismatch);
      return { account: user.username, missingPermissions: missing };
    },

    async createRepo({ name, visibility, description }) {
      const action = `creating project ${owner}/${name}`;
      const body: Record<string, unknown> = {
        name,
        path: name,
        visibility,
        description,
        initializeWithReadme: false,
      };

      if (conn.ownerType === 'org') {
        body.namespaceId = (await requireGroup()).id;
      } else {
        const user = await currentUser();
        const mismatch = ownerMismatch(gitLabTokenKind(user), user);
        if (mismatch) throw new GatewayError('insufficient_permissions', mismatch);
      }

      // GitLab answers a taken name with 400 and `{"message": {"name": ["has already been
      // taken"], ...}}`, not 409; a namespace that vanished is a 404.
      const interpret = (failure: GitLabHttpFailure): ErrorCode | undefined => {
        if (failure.status === 400 && saysTaken(failure.body)) return 'repo_name_taken';
        if (failure.status === 404) return 'owner_not_found';
        return undefined;
      };
      const created = await call(
        action,
        false,
        () => api.Projects.create(body as never),
        interpret,
      );
      return toRepoInfo(created as unknown as ProjectJson);
    },

    async getRepo(name) {
      try {
        const project = await call(`reading project ${owner}/${name}`, true, () =>
          api.Projects.show(projectRef(name)),
        );
        return toRepoInfo(project as unknown as ProjectJson);
      } catch (error) {
        if (isGatewayError(error) && error.providerStatus === 404) return null;
        throw error;
      }
    },

    async addTopic(repo, topic) {
      const action = `setting topic ${topic} on ${owner}/${repo}`;
      const project = (await call(action, true, () =>
        api.Projects.show(projectRef(repo)),
      )) as unknown as ProjectJson;
      const topics = project.topics ?? project.tag_list ?? [];
      if (topics.includes(topic)) return true;

      // `topics` replaces the whole list, so the ones already there are sent back too.
      await call(action, true, () =>
        api.Projects.edit(project.id, { topics: [...topics, topic] } as never),
      );
      return true;
    },

    async *listRepos(listOptions = {}) {
      const action = `listing projects of ${owner}`;
      const query = {
        perPage: PAGE_SIZE,
        orderBy: 'path',
        sort: 'asc',
        topic: listOptions.topic,
        showExpanded: true,
      };
      let source: AsyncGenerator<ProjectJson>;
      if (conn.ownerType === 'org') {
        const group = await requireGroup();
        source = walk<ProjectJson>(
          action,
          (page) =>
            api.Groups.allProjects(group.id, {
              ...query,
              page,
              includeSubgroups: false,
              withShared: false,
            } as never) as unknown as Promise<Page<ProjectJson>>,
        );
      } else {
        source = walk<ProjectJson>(
          action,
          (page) =>
            api.Users.allProjects(owner, { ...query, page } as never) as unknown as Promise<
              Page<ProjectJson>
            >,
        );
      }

      // The server filters on `topic`; the check here keeps the answer right on an instance
      // that ignores the parameter.
      for await (const project of source) {
        const topics = project.topics ?? project.tag_list ?? [];
        if (listOptions.topic && !topics.includes(listOptions.topic)) continue;
        yield toRepoInfo(project);
      }
    },

    async readFile(repo, path, ref, etag): Promise<FileRead> {
      const action = `reading ${path} of ${owner}/${repo} at ${ref}`;
      try {
        // Sent without gitbeaker, which has no way to add `If-None-Match` to one request.
        const response = await call(action, true, () =>
          http.request({
            path: `projects/${encodedProject(repo)}/repository/files/${encodeURIComponent(path)}`,
            query: { ref },
            headers: etag ? { 'if-none-match': etag } : {},
          }),
        );
        if (response.status === 304) return { status: 'not_modified' };

        const content = (response.body as { content?: unknown; encoding?: unknown }) ?? {};
        if (typeof content.content !== 'string' || content.encoding !== 'base64') {
          throw new GatewayError(
            'provider_error',
            `${providerName} answered with an unreadable file while ${action}.`,
            { providerStatus: response.status },
          );
        }
        return {
          status: 'ok',
          content: Buffer.from(content.content, 'base64'),
          etag: response.headers.get('etag'),
        };
      } catch (error) {
        if (isGatewayError(error) && error.providerStatus === 404) return { status: 'not_found' };
        throw error;
      }
    },

    async downloadArchive(repo, tag) {
      // Streamed without gitbeaker, whose requester reads the whole body into memory.
      const response = await call(`downloading ${owner}/${repo} at ${tag}`, true, () =>
        http.stream({
          path: `projects/${encodedProject(repo)}/repository/archive.tar.gz`,
          query: { sha: tag },
        }),
      );
      return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    },

    async listTags(repo): Promise<TagInfo[]> {
      const tags: TagInfo[] = [];
      const listing = walk<TagJson>(
        `listing tags of ${owner}/${repo}`,
        (page) =>
          api.Tags.all(projectRef(repo), {
            perPage: PAGE_SIZE,
            page,
            showExpanded: true,
          } as never) as unknown as Promise<Page<TagJson>>,
      );
      for await (const tag of listing) tags.push({ name: tag.name, commitSha: tag.commit.id });
      return tags;
    },

    gitRemote(repo): GitRemote {
      // `oauth2` is the user name GitLab documents for tokens over HTTPS; it works for
      // personal, group and project access tokens alike.
      return {
        url: `${host}/${owner.split('/').map(encodeURIComponent).join('/')}/${encodeURIComponent(repo)}.git`,
        username: 'oauth2',
        password: conn.token,
      };
    },
  };
}

function normalize(
  error: unknown,
  context: ProviderCallContext,
  interpret?: (failure: GitLabHttpFailure) => ErrorCode | undefined,
): Error {
  if (isGatewayError(error)) return error;
  if (error instanceof GitLabHttpFailure) {
    return providerHttpError(context, error.status, error.headers, {
      code: interpret?.(error),
    });
  }
  return providerNetworkError(context, error);
}

function saysTaken(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const message = (body as { message?: unknown }).message;
  if (!message || typeof message !== 'object') return false;
  return Object.entries(message as Record<string, unknown>).some(
    ([field, problems]) =>
      /(^|\.)(name|path)$/.test(field) &&
      Array.isArray(problems) &&
      problems.some((p) => typeof p === 'string' && p.includes('has already been taken')),
  );
}
