import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OwnerType } from '../../../core/model.js';
import { serveGit } from '../../support/git-http-backend.js';
import {
  createDoubleClock,
  createSeededRepo,
  gitArchiveStream,
  listGitTags,
  gitRequestLog,
  parseBasicAuth,
  readGitFile,
  readJsonBody,
  resolveCommit,
  serveTrackingPush,
  type DoubleMode,
  type DoubleRepoState,
  type DoubleRequest,
  type DoubleToken,
  type ProviderDouble,
  type SeedRepoOptions,
} from '../provider-double.js';
import {
  contentFile,
  errorBody,
  fullRepository,
  minimalRepository,
  organizationFull,
  privateUser,
  publicUser,
  repository,
  tag,
  type AccountRecord,
  type GitHubUrls,
  type RepoRecord,
} from './github-shapes.js';

/**
 * A GitHub double: the REST API v3 paths, status codes, headers and error bodies the GitHub
 * adapter uses, as documented at docs.github.com and described by GitHub's OpenAPI file, with
 * real bare repositories served over git smart HTTP.
 *
 * `dotcom` runs three servers like github.com does: the API (api.github.com), the web and git
 * host (github.com) and the archive host (codeload.github.com), so the tarball's 302 crosses
 * origins. `ghes` runs one server like GitHub Enterprise Server: the API under `/api/v3`, git at
 * the root and archives under `/_codeload`.
 */
export interface GitHubDouble extends ProviderDouble {
  readonly variant: 'dotcom' | 'ghes';
  readonly urls: GitHubUrls;
  /** Requests to the archive host that carried an `Authorization` header. */
  readonly archiveRequestsWithAuthorization: number;
}

type ClassicScope = string;
type FineGrainedPermissions = Record<string, 'read' | 'write'>;

interface TokenRecord {
  login: string;
  kind: 'classic' | 'fine-grained';
  scopes: ClassicScope[];
  permissions: FineGrainedPermissions;
}

const DOCS = {
  createOrgRepo: 'https://docs.github.com/rest/repos/repos#create-an-organization-repository',
  createUserRepo:
    'https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user',
  topics: 'https://docs.github.com/rest/repos/repos#replace-all-repository-topics',
  rateLimit: 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api',
};

/** Starts a GitHub double on 127.0.0.1 ports chosen by the system. */
export async function startGitHubDouble(
  variant: 'dotcom' | 'ghes' = 'dotcom',
): Promise<GitHubDouble> {
  const root = await mkdtemp(join(tmpdir(), `github-double-${variant}-`));
  const requests: DoubleRequest[] = [];
  const accounts = new Map<string, AccountRecord>();
  const tokens = new Map<string, TokenRecord>();
  const repos = new Map<string, RepoRecord>();
  const archiveTokens = new Set<string>();
  const sockets = new Set<Socket>();
  let nextId = 1000;
  const clock = createDoubleClock();
  const stamp = () => clock.wholeSeconds();
  let mode: DoubleMode = 'ok';
  let maxPageSize = 100;
  let archiveAuthorizationCount = 0;

  const apiPrefix = variant === 'ghes' ? '/api/v3' : '';
  const codeloadPrefix = variant === 'ghes' ? '/_codeload' : '';

  const servers: Server[] = [];
  const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const server = createServer((req, res) => {
      handler(req, res);
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const account = (login: string) => accounts.get(login.toLowerCase()) ?? null;
  const repoKey = (owner: string, name: string) => `${owner}/${name}`.toLowerCase();
  const findRepo = (owner: string, name: string) => repos.get(repoKey(owner, name)) ?? null;
  const diskPath = (repo: RepoRecord) => join(root, repo.owner.login, `${repo.name}.git`);

  const ensureAccount = (login: string, type: AccountRecord['type']) => {
    const existing = account(login);
    if (existing) return existing;
    const created = { id: nextId++, login, type };
    accounts.set(login.toLowerCase(), created);
    return created;
  };

  // What a token may do. Classic tokens: `repo` covers private repositories, `public_repo` only
  // public ones. Fine-grained tokens: Administration write creates, Contents write pushes.
  const can = {
    readPrivate: (t: TokenRecord) =>
      t.kind === 'classic' ? t.scopes.includes('repo') : Boolean(t.permissions.contents),
    create: (t: TokenRecord, isPrivate: boolean) =>
      t.kind === 'classic'
        ? t.scopes.includes('repo') || (!isPrivate && t.scopes.includes('public_repo'))
        : t.permissions.administration === 'write',
    write: (t: TokenRecord, repo: RepoRecord) =>
      t.kind === 'classic'
        ? t.scopes.includes('repo') || (!repo.private && t.scopes.includes('public_repo'))
        : t.permissions.contents === 'write',
    editTopics: (t: TokenRecord, repo: RepoRecord) =>
      t.kind === 'classic'
        ? t.scopes.includes('repo') || (!repo.private && t.scopes.includes('public_repo'))
        : t.permissions.administration === 'write',
  };
  const visible = (t: TokenRecord, repo: RepoRecord) => !repo.private || can.readPrivate(t);

  let urls: GitHubUrls = { api: '', web: '' };

  // ---- the REST API ----------------------------------------------------------------------

  const handleApi = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record = (status: number) =>
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search.replace(/^\?/, ''),
        status,
        kind: 'api',
        gitUser: null,
      });
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record(status);
      const all: Record<string, string> = {
        'x-github-media-type': 'github.v3; format=json',
        'x-github-api-version-selected': '2022-11-28',
        ...rateLimitHeaders(4999),
        ...headers,
      };
      if (body === undefined) {
        res.writeHead(status, all).end();
        return;
      }
      res
        .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...all })
        .end(JSON.stringify(body));
    };

    if (mode === 'unreachable') {
      req.socket.destroy();
      return;
    }
    if (mode === 'down') {
      req.resume();
      reply(503, errorBody('Service Unavailable'));
      return;
    }
    if (mode === 'rate_limited_once') {
      mode = 'ok';
      req.resume();
      // The primary limit as GitHub answers it: 403, remaining 0, reset in epoch seconds.
      reply(
        403,
        errorBody('API rate limit exceeded for user ID 1.', DOCS.rateLimit),
        rateLimitHeaders(0, Math.ceil((Date.now() + 1000) / 1000)),
      );
      return;
    }

    if (!url.pathname.startsWith(`${apiPrefix}/`)) {
      req.resume();
      reply(404, errorBody('Not Found'));
      return;
    }
    const path = url.pathname.slice(apiPrefix.length);
    const token = tokens.get(bearer(req.headers.authorization) ?? '');
    if (!token) {
      req.resume();
      reply(401, errorBody('Bad credentials', 'https://docs.github.com/rest', { status: '401' }));
      return;
    }
    const me = account(token.login)!;
    const scopeHeaders: Record<string, string> =
      token.kind === 'classic'
        ? { 'x-oauth-scopes': token.scopes.join(', '), 'x-accepted-oauth-scopes': '' }
        : {};
    const ok = (body: unknown, headers: Record<string, string> = {}) =>
      reply(200, body, { ...scopeHeaders, ...headers });
    const notFound = () =>
      reply(404, errorBody('Not Found', 'https://docs.github.com/rest'), scopeHeaders);
    const body = req.method === 'GET' ? {} : await readJsonBody(req);
    if (req.method === 'GET') req.resume();
    if (body === null) {
      reply(400, errorBody('Problems parsing JSON'));
      return;
    }

    const route = matchRoute(req.method ?? 'GET', path);
    switch (route?.name) {
      case 'user':
        ok(privateUser(urls, me, reposOf(me.login)));
        return;

      case 'users.get': {
        const found = account(route.params.username);
        if (!found || found.type !== 'User') return notFound();
        ok(publicUser(urls, found, reposOf(found.login).filter((r) => !r.private).length));
        return;
      }

      case 'orgs.get': {
        const org = account(route.params.org);
        if (!org || org.type !== 'Organization') return notFound();
        ok(organizationFull(urls, org, reposOf(org.login).filter((r) => !r.private).length));
        return;
      }

      case 'repos.createInOrg':
      case 'repos.createForUser': {
        const inOrg = route.name === 'repos.createInOrg';
        const owner = inOrg ? account(route.params.org) : me;
        if (!owner || (inOrg && owner.type !== 'Organization')) return notFound();
        const name = typeof body.name === 'string' ? body.name : '';
        const isPrivate = body.visibility ? body.visibility !== 'public' : body.private === true;
        if (!can.create(token, isPrivate)) {
          // Classic tokens without the scope get 404 on organization creation, as GitHub does
          // to avoid confirming what the token cannot see; fine-grained tokens get 403 and the
          // header naming the permission.
          if (token.kind === 'classic') return notFound();
          reply(403, errorBody('Resource not accessible by personal access token'), {
            'x-accepted-github-permissions': 'administration=write',
          });
          return;
        }
        const docs = inOrg ? DOCS.createOrgRepo : DOCS.createUserRepo;
        if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
          reply(
            422,
            errorBody('Repository creation failed.', docs, {
              errors: [
                {
                  resource: 'Repository',
                  code: 'custom',
                  field: 'name',
                  message: 'name is invalid',
                },
              ],
              status: '422',
            }),
          );
          return;
        }
        if (findRepo(owner.login, name)) {
          reply(
            422,
            errorBody('Repository creation failed.', docs, {
              errors: [
                {
                  resource: 'Repository',
                  code: 'custom',
                  field: 'name',
                  message: 'name already exists on this account',
                },
              ],
              status: '422',
            }),
          );
          return;
        }
        const repo = await addRepo(owner.login, name, {
          private: isPrivate,
          description: typeof body.description === 'string' ? body.description : '',
        });
        reply(201, fullRepository(urls, repo), {
          ...scopeHeaders,
          location: `${urls.api}/repos/${owner.login}/${name}`,
        });
        return;
      }

      case 'repos.get': {
        const repo = findRepo(route.params.owner, route.params.repo);
        if (!repo || !visible(token, repo)) return notFound();
        ok(fullRepository(urls, repo));
        return;
      }

      case 'repos.getTopics': {
        const repo = findRepo(route.params.owner, route.params.repo);
        if (!repo || !visible(token, repo)) return notFound();
        ok({ names: repo.topics });
        return;
      }

      case 'repos.replaceTopics': {
        const repo = findRepo(route.params.owner, route.params.repo);
        if (!repo || !visible(token, repo)) return notFound();
        if (!can.editTopics(token, repo)) {
          reply(403, errorBody('Resource not accessible by personal access token'), {
            'x-accepted-github-permissions': 'administration=write',
          });
          return;
        }
        const names = Array.isArray(body.names) ? body.names : null;
        const valid = names?.every(
          (n) => typeof n === 'string' && /^[a-z0-9][a-z0-9-]{0,49}$/.test(n),
        );
        if (!names || !valid) {
          reply(422, errorBody('Invalid request.', DOCS.topics, { status: '422' }));
          return;
        }
        repo.topics = [...new Set(names as string[])];
        ok({ names: repo.topics });
        return;
      }

      case 'repos.listForOrg': {
        const org = account(route.params.org);
        if (!org || org.type !== 'Organization') return notFound();
        const list = reposOf(org.login).filter((r) => visible(token, r));
        page(list, (r) => minimalRepository(urls, r));
        return;
      }

      case 'repos.listForAuthenticatedUser': {
        const list = reposOf(me.login).filter((r) => visible(token, r));
        page(list, (r) => repository(urls, r));
        return;
      }

      case 'repos.listForUser': {
        const user = account(route.params.username);
        if (!user) return notFound();
        page(
          reposOf(user.login).filter((r) => !r.private),
          (r) => minimalRepository(urls, r),
        );
        return;
      }

      case 'repos.getContent': {
        const repo = findRepo(route.params.owner, route.params.repo);
        if (!repo || !visible(token, repo)) return notFound();
        const ref = url.searchParams.get('ref') ?? 'main';
        const commit = await resolveCommit(diskPath(repo), ref);
        if (!commit) {
          reply(404, errorBody(`No commit found for the ref ${ref}`), scopeHeaders);
          return;
        }
        const file = await readGitFile(diskPath(repo), commit, route.params.path);
        if (!file) return notFound();
        const etag = `W/"${createHash('sha1').update(`${file.blobSha}:${commit}`).digest('hex')}"`;
        const cache = { etag, 'cache-control': 'private, max-age=60, s-maxage=60' };
        if (req.headers['if-none-match'] === etag) {
          reply(304, undefined, { ...scopeHeaders, ...cache });
          return;
        }
        ok(contentFile(urls, repo, route.params.path, ref, file), cache);
        return;
      }

      case 'repos.downloadTarballArchive': {
        const repo = findRepo(route.params.owner, route.params.repo);
        if (!repo || !visible(token, repo)) return notFound();
        const ref = route.params.ref;
        if (!(await resolveCommit(diskPath(repo), ref))) return notFound();
        const signed = randomBytes(12).toString('hex');
        archiveTokens.add(signed);
        const location =
          `${codeloadOrigin}${codeloadPrefix}/${repo.owner.login}/${repo.name}` +
          `/legacy.tar.gz/${encodeURIComponent(ref)}?token=${signed}`;
        reply(302, undefined, { ...scopeHeaders, location });
        return;
      }

      case 'repos.listTags': {
        const repo = findRepo(route.params.owner, route.params.repo);
        if (!repo || !visible(token, repo)) return notFound();
        const tags = (await listGitTags(diskPath(repo))).reverse();
        page(tags, (t) => tag(urls, repo, t.name, t.commitSha));
        return;
      }

      default:
        notFound();
    }

    function page<T>(items: T[], shape: (item: T) => unknown): void {
      const requested = Number(url.searchParams.get('per_page') ?? 30);
      const perPage = Math.max(1, Math.min(requested || 30, 100, maxPageSize));
      const current = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      const last = Math.max(1, Math.ceil(items.length / perPage));
      const slice = items.slice((current - 1) * perPage, current * perPage);
      const link = (n: number, rel: string) => {
        const params = new URLSearchParams(url.searchParams);
        params.set('per_page', String(perPage));
        params.set('page', String(n));
        return `<${urls.api}${path}?${params.toString()}>; rel="${rel}"`;
      };
      const links: string[] = [];
      if (current > 1) links.push(link(current - 1, 'prev'), link(1, 'first'));
      if (current < last) links.push(link(current + 1, 'next'), link(last, 'last'));
      ok(slice.map(shape), links.length ? { link: links.join(', ') } : {});
    }
  };

  const reposOf = (login: string) =>
    [...repos.values()]
      .filter((r) => r.owner.login.toLowerCase() === login.toLowerCase())
      .sort((a, b) => a.name.localeCompare(b.name));

  const addRepo = async (owner: string, name: string, options: SeedRepoOptions) => {
    const ownerRecord = account(owner);
    if (!ownerRecord) throw new Error(`the GitHub double has no owner ${owner}`);
    const createdAt = stamp();
    const repo: RepoRecord = {
      id: nextId++,
      owner: ownerRecord,
      name,
      private: options.private ?? true,
      topics: [...(options.topics ?? [])],
      description: options.description ?? '',
      createdAt,
      pushedAt: createdAt,
    };
    await createSeededRepo(diskPath(repo), options);
    repos.set(repoKey(owner, name), repo);
    return repo;
  };

  // ---- git smart HTTP on the web host ----------------------------------------------------

  const handleGit = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/([^/]+)\/([^/]+?)\.git(\/.*)$/.exec(url.pathname);
    const credential = parseBasicAuth(req.headers.authorization);
    const record = (status: number) =>
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search.replace(/^\?/, ''),
        status,
        kind: 'git',
        gitUser: credential?.user ?? null,
      });
    const refuse = (status: number, text: string, headers: Record<string, string> = {}) => {
      req.resume();
      record(status);
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(text);
    };

    if (mode === 'unreachable') {
      req.socket.destroy();
      return;
    }
    if (mode === 'down') return refuse(503, 'Service Unavailable\n');
    if (!match) return refuse(404, 'Not Found\n');

    // GitHub takes a token as the password with `x-access-token` (or the owner's login) as the
    // user name; without credentials it asks for them.
    const token = credential ? tokens.get(credential.pass) : undefined;
    const userOk =
      credential &&
      token &&
      (credential.user === 'x-access-token' || credential.user === token.login);
    if (!credential || !token || !userOk) {
      return refuse(401, 'Invalid username or token.\n', {
        'www-authenticate': 'Basic realm="GitHub"',
      });
    }
    const repo = findRepo(match[1], match[2]);
    if (!repo || !visible(token, repo)) return refuse(404, 'Repository not found.\n');
    const pushing =
      match[3] === '/git-receive-pack' || url.searchParams.get('service') === 'git-receive-pack';
    if (pushing && !can.write(token, repo)) {
      return refuse(403, `Permission to ${repo.owner.login}/${repo.name}.git denied.\n`);
    }

    const pushed = () => (repo.pushedAt = stamp());
    void serveTrackingPush(req, res, diskPath(repo), pushed, () =>
      serveGit(req, res, {
        projectRoot: root,
        pathInfo: `/${repo.owner.login}/${repo.name}.git${match[3]}`,
        remoteUser: credential.user,
        log: gitRequestLog(requests, url),
      }),
    );
  };

  // ---- the archive host (codeload) -------------------------------------------------------

  const handleCodeload = async (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.headers.authorization) archiveAuthorizationCount += 1;
    const record = (status: number) =>
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: '',
        status,
        kind: 'archive',
        gitUser: null,
      });
    const path = url.pathname.slice(codeloadPrefix.length);
    const match = /^\/([^/]+)\/([^/]+)\/legacy\.tar\.gz\/(.+)$/.exec(path);
    const signed = url.searchParams.get('token') ?? '';
    const repo = match ? findRepo(match[1], match[2]) : null;
    if (!match || !repo || !archiveTokens.has(signed)) {
      record(404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    const ref = decodeURIComponent(match[3]);
    const commit = await resolveCommit(diskPath(repo), ref);
    if (!commit) {
      record(404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
      return;
    }
    // GitHub names the one top folder `<owner>-<repo>-<short sha>`.
    const prefix = `${repo.owner.login}-${repo.name}-${commit.slice(0, 7)}`;
    record(200);
    res.writeHead(200, {
      'content-type': 'application/x-gzip',
      'content-disposition': `attachment; filename=${prefix}.tar.gz`,
    });
    gitArchiveStream(diskPath(repo), commit, prefix).pipe(res);
  };

  // ---- servers ---------------------------------------------------------------------------

  let codeloadOrigin: string;
  let webOrigin: string;
  let apiOrigin: string;
  if (variant === 'ghes') {
    apiOrigin = await listen((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path.startsWith('/api/v3/')) return void handleApi(req, res);
      if (path.startsWith('/_codeload/')) return void handleCodeload(req, res);
      handleGit(req, res);
    });
    webOrigin = apiOrigin;
    codeloadOrigin = apiOrigin;
    urls = { api: `${apiOrigin}/api/v3`, web: apiOrigin };
  } else {
    apiOrigin = await listen((req, res) => void handleApi(req, res));
    webOrigin = await listen(handleGit);
    codeloadOrigin = await listen((req, res) => void handleCodeload(req, res));
    urls = { api: apiOrigin, web: webOrigin };
  }

  return {
    provider: 'github',
    variant,
    urls,
    baseUrl: variant === 'ghes' ? urls.api : null,
    apiOrigin,
    gitOrigin: webOrigin,
    requests,
    get archiveRequestsWithAuthorization() {
      return archiveAuthorizationCount;
    },
    addToken(t: DoubleToken) {
      ensureAccount(t.login, 'User');
      const kind = t.kind === 'fine-grained' ? 'fine-grained' : 'classic';
      const write = (t.access ?? 'write') === 'write';
      const scopes = t.scopes ?? (write ? ['repo', 'read:org'] : ['read:org', 'read:user']);
      const permissions: FineGrainedPermissions = write
        ? { administration: 'write', contents: 'write', metadata: 'read' }
        : { contents: 'read', metadata: 'read' };
      if (kind === 'fine-grained' && t.scopes) {
        for (const key of Object.keys(permissions)) delete permissions[key];
        for (const entry of t.scopes) {
          const [name, level] = entry.split('=');
          permissions[name] = level === 'write' ? 'write' : 'read';
        }
      }
      tokens.set(t.value, { login: t.login, kind, scopes, permissions });
    },
    addOwner(name: string, type: OwnerType) {
      ensureAccount(name, type === 'org' ? 'Organization' : 'User');
    },
    async seedRepo(owner, name, options = {}) {
      await addRepo(owner, name, options);
    },
    repoState(owner, name): DoubleRepoState | null {
      const repo = findRepo(owner, name);
      if (!repo) return null;
      return {
        owner: repo.owner.login,
        name: repo.name,
        private: repo.private,
        topics: [...repo.topics],
        description: repo.description,
        changedAt: repo.pushedAt,
      };
    },
    setMaxPageSize(size) {
      maxPageSize = size;
    },
    setMode(next) {
      mode = next;
    },
    advanceClock(ms) {
      clock.advance(ms);
    },
    gitRepoPath(owner, name) {
      const repo = findRepo(owner, name);
      return repo ? diskPath(repo) : join(root, owner, `${name}.git`);
    },
    async close() {
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
      await rm(root, { recursive: true, force: true });
    },
  };
}

function bearer(header: string | undefined): string | null {
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? '');
  return match ? match[1] : null;
}

function rateLimitHeaders(remaining: number, reset = Math.ceil(Date.now() / 1000) + 3600) {
  return {
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(reset),
    'x-ratelimit-used': String(5000 - remaining),
    'x-ratelimit-resource': 'core',
  };
}

interface Route {
  name: string;
  params: Record<string, string>;
}

const ROUTES: [string, string, RegExp, string[]][] = [
  ['GET', 'user', /^\/user$/, []],
  ['GET', 'users.get', /^\/users\/([^/]+)$/, ['username']],
  ['GET', 'orgs.get', /^\/orgs\/([^/]+)$/, ['org']],
  ['POST', 'repos.createInOrg', /^\/orgs\/([^/]+)\/repos$/, ['org']],
  ['POST', 'repos.createForUser', /^\/user\/repos$/, []],
  ['GET', 'repos.listForOrg', /^\/orgs\/([^/]+)\/repos$/, ['org']],
  ['GET', 'repos.listForAuthenticatedUser', /^\/user\/repos$/, []],
  ['GET', 'repos.listForUser', /^\/users\/([^/]+)\/repos$/, ['username']],
  ['GET', 'repos.get', /^\/repos\/([^/]+)\/([^/]+)$/, ['owner', 'repo']],
  ['GET', 'repos.getTopics', /^\/repos\/([^/]+)\/([^/]+)\/topics$/, ['owner', 'repo']],
  ['PUT', 'repos.replaceTopics', /^\/repos\/([^/]+)\/([^/]+)\/topics$/, ['owner', 'repo']],
  [
    'GET',
    'repos.getContent',
    /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/,
    ['owner', 'repo', 'path'],
  ],
  [
    'GET',
    'repos.downloadTarballArchive',
    /^\/repos\/([^/]+)\/([^/]+)\/tarball\/(.+)$/,
    ['owner', 'repo', 'ref'],
  ],
  ['GET', 'repos.listTags', /^\/repos\/([^/]+)\/([^/]+)\/tags$/, ['owner', 'repo']],
];

function matchRoute(method: string, path: string): Route | null {
  for (const [verb, name, pattern, keys] of ROUTES) {
    if (verb !== method) continue;
    const match = pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    keys.forEach((key, i) => (params[key] = decodeURIComponent(match[i + 1])));
    return { name, params };
  }
  return null;
}
