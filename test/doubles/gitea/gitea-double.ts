/**
 * A Gitea (and Forgejo) double: the REST API under `/api/v1` and git smart HTTP at
 * `/<owner>/<repo>.git` on one loopback server, as a Gitea instance serves both.
 *
 * Shapes, paths and codes were checked against Gitea's own swagger annotations and handlers
 * read through the search tool (go-gitea/gitea `routers/api/v1/**`, the source of
 * `/api/swagger`), not against a copy of the swagger document: no npm package ships it as a
 * file (gitea-js ships TypeScript types generated from it, not the document).
 * - `Authorization: token <t>` (Bearer accepted too); 401 `{"message": …, "url": …}`.
 * - Scoped tokens (1.19+): every route checks its scope category before anything else — level
 *   `read` for GET, `write` otherwise — and refuses with 403 "token does not have at least one
 *   of required scope(s): [write:user]". No header lists a token's scopes.
 * - `POST /user/repos`, `POST /orgs/{org}/repos`: 201 Repository, 409 for a taken name, 422
 *   for a body that fails validation, and 422 "org does not exist [id: 0, name: …]" for an
 *   unknown organization on the create route (`CreateOrgRepo`), while `GET /orgs/{org}` answers
 *   404.
 * - `GET /users/{username}/orgs/{org}/permissions`: `can_create_repository` and friends.
 * - `PUT /repos/{owner}/{repo}/topics/{topic}`: 204; 422 for an invalid topic.
 * - Listings (`/orgs/{org}/repos`, `/users/{username}/repos`, `/repos/{o}/{r}/tags`) take
 *   `page`/`limit` and answer `Link` (next, last) and `X-Total-Count`; `/repos/search` answers
 *   `{ok, data}` and filters by topic with `topic=true`, owner with `uid` and `exclusive`.
 * - Repository JSON carries `created_at` and `updated_at` (whole seconds); a push that lands
 *   moves `updated_at` (Gitea's push handler updates the repository's time).
 * - `GET /repos/{o}/{r}/raw/{filepath}?ref=`: raw bytes with `ETag: "<blob sha>"`, 304 on a
 *   matching `If-None-Match` (Gitea's ServeBlob).
 * - `GET /repos/{o}/{r}/archive/{tag}.tar.gz`: `git archive` with the one top folder named
 *   after the repository.
 * - Git over HTTPS: Basic auth with the token as the password and any non-empty user name.
 * - Rate limits: Gitea has no API rate limiter; a 429 with `Retry-After` stands for a reverse
 *   proxy in front of it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OwnerType } from '../../../core/model.js';
import { createBareRepo, serveGit } from '../../support/git-http-backend.js';
import {
  createDoubleClock,
  createSeededRepo,
  gitArchiveStream,
  listGitTags,
  parseBasicAuth,
  readGitFile,
  readJsonBody,
  resolveCommit,
  serveTrackingPush,
  type DoubleRepoState,
  type DoubleToken,
  type ProviderDouble,
  type SeedRepoOptions,
} from '../provider-double.js';
import {
  createDoubleServers,
  pageSize,
  parseBearer,
  sendJson,
} from '../bitbucket-cloud/loopback-double-server.js';

interface Account {
  id: number;
  name: string;
  type: OwnerType;
}

interface RepoRecord extends DoubleRepoState {
  id: number;
  path: string;
  createdAt: string;
  /** `updated_at`: creation, then every push that lands. */
  changedAt: string;
}

type Category = 'user' | 'organization' | 'repository';

const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const TOPIC = /^[a-z0-9][a-z0-9-]{0,34}$/;
const DEFAULT_LIMIT = 30;

/** Starts the double on 127.0.0.1. */
export async function startGiteaDouble(): Promise<ProviderDouble> {
  const root = await mkdtemp(join(tmpdir(), 'gitea-double-'));
  const servers = createDoubleServers();
  const tokens: DoubleToken[] = [];
  const accounts = new Map<string, Account>();
  const repos = new Map<string, RepoRecord>();
  let nextId = 1;
  let maxPageSize = 50;
  let origin = '';
  const clock = createDoubleClock();
  const stamp = () => clock.wholeSeconds();

  const key = (name: string) => name.toLowerCase();
  const account = (name: string) => accounts.get(key(name));
  const ensureAccount = (name: string, type: OwnerType) => {
    const existing = account(name);
    if (existing) return existing;
    const created: Account = { id: nextId++, name, type };
    accounts.set(key(name), created);
    return created;
  };
  const repoKey = (owner: string, name: string) => `${key(owner)}/${key(name)}`;
  const repoPath = (owner: string, name: string) => join(root, key(owner), `${key(name)}.git`);

  const scopesOf = (token: DoubleToken) =>
    token.scopes ??
    (token.access === 'read'
      ? ['read:user', 'read:repository', 'read:organization']
      : ['write:user', 'write:repository', 'write:organization']);
  const hasScope = (token: DoubleToken, category: Category, level: 'read' | 'write') => {
    const scopes = scopesOf(token);
    if (scopes.includes('all') || scopes.includes(`write:${category}`)) return true;
    return level === 'read' && scopes.includes(`read:${category}`);
  };

  const apiToken = (req: IncomingMessage) => {
    const header = req.headers.authorization ?? '';
    const value = header.startsWith('token ') ? header.slice(6).trim() : parseBearer(header);
    return value ? (tokens.find((t) => t.value === value) ?? null) : null;
  };

  const fail = (res: ServerResponse, status: number, message: string) =>
    sendJson(res, status, { message, url: `${origin}/api/swagger` });

  // Gitea's middleware order: the scope of each route's category comes first.
  const refuseScopes = (
    res: ServerResponse,
    token: DoubleToken,
    method: string,
    categories: Category[],
  ) => {
    const level = method === 'GET' ? 'read' : 'write';
    const lacking = categories.find((category) => !hasScope(token, category, level));
    if (!lacking) return false;
    fail(res, 403, `token does not have at least one of required scope(s): [${level}:${lacking}]`);
    return true;
  };

  const mayCreateIn = (token: DoubleToken, org: Account) =>
    org.type === 'org' && token.access !== 'read';

  const repoJson = async (repo: RepoRecord) => {
    const owner = account(repo.owner);
    const hasMain = Boolean(await resolveCommit(repo.path, 'refs/heads/main'));
    return {
      id: repo.id,
      owner: { id: owner?.id ?? 0, login: repo.owner, username: repo.owner },
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      description: repo.description,
      empty: !hasMain,
      private: repo.private,
      html_url: `${origin}/${repo.owner}/${repo.name}`,
      clone_url: `${origin}/${repo.owner}/${repo.name}.git`,
      default_branch: 'main',
      topics: [...repo.topics],
      created_at: repo.createdAt,
      updated_at: repo.changedAt,
    };
  };

  // A page of a listing with Gitea's Link and X-Total-Count headers.
  const sendPage = async <T>(
    res: ServerResponse,
    url: URL,
    all: T[],
    render: (items: T[]) => Promise<unknown>,
  ) => {
    const limit = pageSize(url.searchParams.get('limit'), DEFAULT_LIMIT, maxPageSize);
    const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
    const items = all.slice((page - 1) * limit, page * limit);
    const lastPage = Math.max(1, Math.ceil(all.length / limit));
    const link = (n: number, rel: string) => {
      const target = new URL(`${origin}${url.pathname}${url.search}`);
      target.searchParams.set('page', String(n));
      target.searchParams.set('limit', String(limit));
      return `<${target.href}>; rel="${rel}"`;
    };
    const links = [];
    if (page < lastPage) links.push(link(page + 1, 'next'), link(lastPage, 'last'));
    if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
    const headers: Record<string, string> = { 'x-total-count': String(all.length) };
    if (links.length) headers.link = links.join(',');
    sendJson(res, 200, await render(items), headers);
  };

  const ownedBy = (owner: string) =>
    [...repos.values()]
      .filter((r) => key(r.owner) === key(owner))
      .sort((a, b) => a.name.localeCompare(b.name));

  // Gitea binds and validates the body before the handler looks at the owner or permissions.
  const createRepo = async (
    req: IncomingMessage,
    res: ServerResponse,
    owner: Account | undefined,
    ownerName: string,
    may: () => boolean,
  ) => {
    const body = await readJsonBody(req);
    const name = typeof body?.name === 'string' ? body.name : '';
    if (!body || !name) return fail(res, 422, '[Name]: Required');
    if (!NAME.test(name)) return fail(res, 422, '[Name]: AlphaDashDot');
    if (!owner) return fail(res, 422, `org does not exist [id: 0, name: ${ownerName}]`);
    if (!may()) {
      return fail(
        res,
        403,
        `Given user is not allowed to create repository in organization ${owner.name}.`,
      );
    }
    if (repos.has(repoKey(owner.name, name))) {
      return fail(res, 409, 'The repository with the same name already exists.');
    }
    const created = stamp();
    const record: RepoRecord = {
      id: nextId++,
      owner: owner.name,
      name,
      private: body.private === true,
      topics: [],
      description: typeof body.description === 'string' ? body.description : '',
      path: repoPath(owner.name, name),
      createdAt: created,
      changedAt: created,
    };
    await createBareRepo(record.path);
    repos.set(repoKey(owner.name, name), record);
    sendJson(res, 201, await repoJson(record));
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (servers.takeRateLimit()) {
      req.resume();
      res
        .writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' })
        .end('Too Many Requests\n');
      return;
    }
    const token = apiToken(req);
    if (!token) {
      req.resume();
      return fail(res, 401, 'token is required');
    }
    const me = ensureAccount(token.login, 'user');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent).slice(2);
    const [first, second, third, fourth, fifth, ...rest] = parts;

    if (first === 'user' && parts.length === 1 && method === 'GET') {
      if (refuseScopes(res, token, method, ['user'])) return;
      return sendJson(res, 200, {
        id: me.id,
        login: me.name,
        username: me.name,
        full_name: me.name,
      });
    }
    if (first === 'user' && second === 'repos' && parts.length === 2 && method === 'POST') {
      if (refuseScopes(res, token, method, ['user', 'repository'])) return void req.resume();
      return createRepo(req, res, me, me.name, () => true);
    }

    if (first === 'users' && second) {
      if (refuseScopes(res, token, method, ['user'])) return;
      const user = account(second);
      if (!user) return fail(res, 404, `user redirect does not exist [name: ${second}]`);
      if (parts.length === 2)
        return sendJson(res, 200, { id: user.id, login: user.name, username: user.name });
      if (third === 'repos' && parts.length === 3) {
        if (refuseScopes(res, token, method, ['repository'])) return;
        return sendPage(res, url, ownedBy(user.name), (items) => Promise.all(items.map(repoJson)));
      }
      if (third === 'orgs' && fifth === 'permissions' && fourth) {
        const org = account(fourth);
        if (!org || org.type !== 'org')
          return fail(res, 404, `org does not exist [id: 0, name: ${fourth}]`);
        const tokenOfUser = tokens.find((t) => key(t.login) === key(user.name)) ?? token;
        const create = mayCreateIn(tokenOfUser, org);
        return sendJson(res, 200, {
          is_owner: create,
          is_admin: create,
          can_write: create,
          can_read: true,
          can_create_repository: create,
        });
      }
    }

    if (first === 'orgs' && second) {
      if (refuseScopes(res, token, method, ['organization'])) return void req.resume();
      const org = account(second);
      if (parts.length === 2 && method === 'GET') {
        if (!org || org.type !== 'org')
          return fail(res, 404, `org does not exist [id: 0, name: ${second}]`);
        return sendJson(res, 200, {
          id: org.id,
          name: org.name,
          username: org.name,
          visibility: 'public',
        });
      }
      if (third === 'repos' && parts.length === 3 && method === 'GET') {
        if (!org || org.type !== 'org')
          return fail(res, 404, `org does not exist [id: 0, name: ${second}]`);
        if (refuseScopes(res, token, method, ['repository'])) return;
        return sendPage(res, url, ownedBy(org.name), (items) => Promise.all(items.map(repoJson)));
      }
      if (third === 'repos' && parts.length === 3 && method === 'POST') {
        if (refuseScopes(res, token, method, ['repository'])) return void req.resume();
        const known = org?.type === 'org' ? org : undefined;
        return createRepo(req, res, known, second, () =>
          Boolean(known && mayCreateIn(token, known)),
        );
      }
    }

    if (first === 'repos' && second === 'search' && parts.length === 2) {
      if (refuseScopes(res, token, method, ['repository'])) return;
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      const uid = Number(url.searchParams.get('uid') ?? 0);
      const owner = [...accounts.values()].find((a) => a.id === uid);
      const byTopic = url.searchParams.get('topic') === 'true';
      const matches = [...repos.values()]
        .filter((r) => !owner || key(r.owner) === key(owner.name))
        .filter((r) =>
          byTopic ? r.topics.some((t) => t.startsWith(q)) : r.name.toLowerCase().includes(q),
        )
        .sort((a, b) => a.name.localeCompare(b.name));
      return sendPage(res, url, matches, async (items) => ({
        ok: true,
        data: await Promise.all(items.map(repoJson)),
      }));
    }

    if (first === 'repos' && second && third) {
      if (refuseScopes(res, token, method, ['repository'])) return void req.resume();
      const repo = repos.get(repoKey(second, third));
      if (!repo) {
        req.resume();
        return fail(res, 404, 'GetRepositoryByName');
      }
      if (parts.length === 3 && method === 'GET') return sendJson(res, 200, await repoJson(repo));

      if (fourth === 'topics' && fifth && parts.length === 5 && method === 'PUT') {
        const topic = fifth.toLowerCase();
        if (!TOPIC.test(topic))
          return sendJson(res, 422, { invalidTopics: [topic], message: 'Topic names are invalid' });
        if (!repo.topics.includes(topic)) repo.topics.push(topic);
        res.writeHead(204).end();
        return;
      }

      if (fourth === 'raw' && fifth && method === 'GET') {
        const ref = url.searchParams.get('ref') ?? 'main';
        const file = await readGitFile(repo.path, ref, [fifth, ...rest].join('/'));
        if (!file) return fail(res, 404, 'object does not exist');
        const etag = `"${file.blobSha}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag }).end();
          return;
        }
        res
          .writeHead(200, {
            'content-type': 'text/plain; charset=utf-8',
            'content-length': String(file.content.length),
            etag,
          })
          .end(file.content);
        return;
      }

      if (
        fourth === 'archive' &&
        fifth?.endsWith('.tar.gz') &&
        parts.length === 5 &&
        method === 'GET'
      ) {
        const ref = fifth.slice(0, -'.tar.gz'.length);
        const commit = await resolveCommit(repo.path, ref);
        if (!commit) return fail(res, 404, `GetCommit: object does not exist [id: ${ref}]`);
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-disposition': `attachment; filename="${repo.name}-${ref}.tar.gz"`,
        });
        gitArchiveStream(repo.path, commit, repo.name).pipe(res);
        return;
      }

      if (fourth === 'tags' && parts.length === 4 && method === 'GET') {
        const tags = (await listGitTags(repo.path)).reverse();
        return sendPage(res, url, tags, async (items) =>
          items.map((tag) => ({
            name: tag.name,
            message: tag.name,
            commit: {
              sha: tag.commitSha,
              url: `${origin}/api/v1/repos/${repo.owner}/${repo.name}/git/commits/${tag.commitSha}`,
            },
            zipball_url: `${origin}/${repo.owner}/${repo.name}/archive/${tag.name}.zip`,
            tarball_url: `${origin}/${repo.owner}/${repo.name}/archive/${tag.name}.tar.gz`,
          })),
        );
      }
    }

    req.resume();
    return fail(res, 404, 'Not found');
  };

  const handleGit = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [owner, repoPart, ...rest] = parts;
    const name = repoPart?.replace(/\.git$/, '');
    const repo = owner && name ? repos.get(repoKey(owner, name)) : undefined;
    const basic = parseBasicAuth(req.headers.authorization);
    const token =
      basic && basic.user !== '' ? tokens.find((t) => t.value === basic.pass) : undefined;
    if (!repo || !token) {
      req.resume();
      res
        .writeHead(401, { 'www-authenticate': 'Basic realm="Gitea"', 'content-type': 'text/plain' })
        .end('Unauthorized\n');
      return;
    }
    const pushing =
      rest.at(-1) === 'git-receive-pack' || url.searchParams.get('service') === 'git-receive-pack';
    if (!hasScope(token, 'repository', pushing ? 'write' : 'read')) {
      req.resume();
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end('token does not have at least one of required scope(s)\n');
      return;
    }
    const pushed = () => (repo.changedAt = stamp());
    await serveTrackingPush(req, res, repo.path, pushed, () =>
      serveGit(req, res, {
        projectRoot: root,
        pathInfo: `/${key(repo.owner)}/${key(repo.name)}.git/${rest.join('/')}`,
        remoteUser: token.login,
      }),
    );
  };

  origin = await servers.start(
    (req, res, url) =>
      url.pathname.startsWith('/api/') ? handleApi(req, res, url) : handleGit(req, res, url),
    (path) => (path.startsWith('/api/') ? 'api' : 'git'),
  );

  return {
    provider: 'gitea',
    baseUrl: origin,
    apiOrigin: origin,
    gitOrigin: origin,
    requests: servers.requests,

    addToken(token) {
      tokens.push({ kind: 'personal', access: 'write', ...token });
      ensureAccount(token.login, 'user');
    },
    addOwner(name, type) {
      ensureAccount(name, type);
    },
    async seedRepo(owner, name, options: SeedRepoOptions = {}) {
      if (!account(owner)) throw new Error(`no owner ${owner} in the double`);
      const path = repoPath(owner, name);
      await createSeededRepo(path, options);
      const created = stamp();
      repos.set(repoKey(owner, name), {
        id: nextId++,
        owner,
        name,
        private: options.private ?? true,
        topics: [...(options.topics ?? [])],
        description: options.description ?? '',
        path,
        createdAt: created,
        changedAt: created,
      });
    },
    repoState(owner, name) {
      const repo = repos.get(repoKey(owner, name));
      if (!repo) return null;
      return {
        owner: repo.owner,
        name: repo.name,
        private: repo.private,
        topics: [...repo.topics],
        description: repo.description,
        changedAt: repo.changedAt,
      };
    },
    setMaxPageSize(size) {
      maxPageSize = size;
    },
    setMode(mode) {
      servers.mode = mode;
    },
    advanceClock(ms) {
      clock.advance(ms);
    },
    gitRepoPath: repoPath,
    async close() {
      await servers.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
