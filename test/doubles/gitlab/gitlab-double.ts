import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
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

/**
 * A GitLab double (gitlab.com or self-managed): the REST API v4 paths the GitLab adapter uses,
 * with the status codes, headers and bodies of GitLab's REST API documentation
 * (docs.gitlab.com/api: users, personal_access_tokens, groups, members, projects,
 * repository_files, repositories, tags, rest/index for pagination, and the rate-limit headers of
 * user/gitlab_com and security/rate_limits), read through the documentation search. Its shapes
 * keep the fields the docs' example responses show for those calls. Git smart HTTP is served
 * from real bare repositories at `/<namespace>/<project>.git`.
 *
 * GitLab's surprises are kept: a taken project name answers 400 with a `message` object, not
 * 409; a token without the `api` scope gets 403 `insufficient_scope`; archives are named
 * `<project>-<ref>-<sha>`; a push moves `last_activity_at` only when it is more than an hour
 * old (GitLab throttles that write to once an hour per project).
 */
export interface GitLabDouble extends ProviderDouble {
  /** Adds a user to a group with an access level (10 guest … 50 owner). */
  addMember(group: string, login: string, accessLevel: number): void;
}

interface UserRecord {
  id: number;
  username: string;
  bot: boolean;
}

interface GroupRecord {
  id: number;
  path: string;
  projectCreationLevel: 'noone' | 'maintainer' | 'developer';
  members: Map<number, number>;
}

interface TokenRecord {
  id: number;
  user: UserRecord;
  kind: 'personal' | 'group' | 'project';
  scopes: string[];
  /** For group and project tokens: the group path or `namespace/project` they belong to. */
  resource: string | null;
}

interface ProjectRecord {
  id: number;
  namespace: { kind: 'user' | 'group'; id: number; path: string };
  path: string;
  visibility: 'private' | 'internal' | 'public';
  topics: string[];
  description: string;
  createdAt: string;
  lastActivityAt: string;
}

// GitLab writes a project's `last_activity_at` at most once in this interval.
const ACTIVITY_INTERVAL_MS = 60 * 60 * 1000;

const ACCESS = { developer: 30, maintainer: 40, owner: 50 } as const;

/** Starts a GitLab double on a 127.0.0.1 port chosen by the system. */
export async function startGitLabDouble(): Promise<GitLabDouble> {
  const root = await mkdtemp(join(tmpdir(), 'gitlab-double-'));
  const requests: DoubleRequest[] = [];
  const users = new Map<string, UserRecord>();
  const groups = new Map<string, GroupRecord>();
  const tokens = new Map<string, TokenRecord>();
  const projects = new Map<string, ProjectRecord>();
  const sockets = new Set<Socket>();
  let nextId = 100;
  let mode: DoubleMode = 'ok';
  let maxPageSize = 100;
  let origin = '';
  const clock = createDoubleClock();

  const userByName = (name: string) => users.get(name.toLowerCase()) ?? null;
  const groupByPath = (path: string) => groups.get(path.toLowerCase()) ?? null;
  const projectKey = (ns: string, path: string) => `${ns}/${path}`.toLowerCase();
  const fullPath = (p: ProjectRecord) => `${p.namespace.path}/${p.path}`;
  const diskPath = (p: ProjectRecord) => join(root, p.namespace.path, `${p.path}.git`);

  const ensureUser = (username: string, bot = false) => {
    const found = userByName(username);
    if (found) return found;
    const user = { id: nextId++, username, bot };
    users.set(username.toLowerCase(), user);
    return user;
  };

  const findProject = (ref: string): ProjectRecord | null => {
    if (/^\d+$/.test(ref)) return [...projects.values()].find((p) => p.id === Number(ref)) ?? null;
    return projects.get(ref.toLowerCase()) ?? null;
  };
  const findGroup = (ref: string): GroupRecord | null => {
    if (/^\d+$/.test(ref)) return [...groups.values()].find((g) => g.id === Number(ref)) ?? null;
    return groupByPath(ref);
  };

  // Personal tokens act as their user, who is an owner of every group in the double; group and
  // project tokens act as a bot that is a maintainer of its one group or project only.
  const groupAccess = (token: TokenRecord, group: GroupRecord): number => {
    const explicit = group.members.get(token.user.id);
    if (explicit !== undefined) return explicit;
    if (token.kind === 'personal') return ACCESS.owner;
    if (token.kind === 'group' && token.resource?.toLowerCase() === group.path.toLowerCase()) {
      return ACCESS.maintainer;
    }
    return 0;
  };
  const projectAccess = (token: TokenRecord, project: ProjectRecord): number => {
    if (token.kind === 'project') {
      return token.resource?.toLowerCase() === fullPath(project).toLowerCase()
        ? ACCESS.maintainer
        : 0;
    }
    if (project.namespace.kind === 'user') {
      return project.namespace.id === token.user.id ? ACCESS.owner : 0;
    }
    const group = findGroup(String(project.namespace.id));
    return group ? groupAccess(token, group) : 0;
  };
  const readable = (token: TokenRecord, p: ProjectRecord) =>
    p.visibility === 'public' || projectAccess(token, p) > 0;
  const hasScope = (token: TokenRecord, ...any: string[]) =>
    any.some((s) => token.scopes.includes(s));

  const shapes = {
    user: (u: UserRecord) => ({
      id: u.id,
      username: u.username,
      name: u.username,
      state: 'active',
      locked: false,
      avatar_url: `${origin}/uploads/-/system/user/avatar/${u.id}/avatar.png`,
      web_url: `${origin}/${u.username}`,
      bot: u.bot,
    }),
    currentUser: (u: UserRecord) => ({
      ...shapes.user(u),
      created_at: '2024-01-01T00:00:00.000Z',
      bio: '',
      public_email: null,
      projects_limit: 100000,
      can_create_group: !u.bot,
      can_create_project: !u.bot,
      two_factor_enabled: false,
      external: false,
      private_profile: false,
    }),
    group: (g: GroupRecord) => ({
      id: g.id,
      name: g.path,
      path: g.path,
      full_name: g.path,
      full_path: g.path,
      description: '',
      visibility: 'private',
      web_url: `${origin}/groups/${g.path}`,
      parent_id: null,
      project_creation_level: g.projectCreationLevel,
      created_at: '2024-01-01T00:00:00.000Z',
    }),
    project: (p: ProjectRecord) => ({
      id: p.id,
      description: p.description || null,
      name: p.path,
      name_with_namespace: `${p.namespace.path} / ${p.path}`,
      path: p.path,
      path_with_namespace: fullPath(p),
      created_at: p.createdAt,
      last_activity_at: p.lastActivityAt,
      default_branch: 'main',
      tag_list: p.topics,
      topics: p.topics,
      visibility: p.visibility,
      ssh_url_to_repo: `git@${new URL(origin).host}:${fullPath(p)}.git`,
      http_url_to_repo: `${origin}/${fullPath(p)}.git`,
      web_url: `${origin}/${fullPath(p)}`,
      readme_url: null,
      forks_count: 0,
      star_count: 0,
      archived: false,
      empty_repo: false,
      namespace: {
        id: p.namespace.id,
        name: p.namespace.path,
        path: p.namespace.path,
        kind: p.namespace.kind,
        full_path: p.namespace.path,
        parent_id: null,
        web_url: `${origin}/${p.namespace.kind === 'group' ? 'groups/' : ''}${p.namespace.path}`,
      },
    }),
  };

  // ---- the REST API ----------------------------------------------------------------------

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
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
      if (body === undefined) {
        res.writeHead(status, headers).end();
        return;
      }
      res
        .writeHead(status, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify(body));
    };
    const message = (status: number, text: string) => reply(status, { message: text });

    if (mode === 'down') {
      req.resume();
      record(502);
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
      return;
    }
    if (mode === 'rate_limited_once') {
      mode = 'ok';
      req.resume();
      // GitLab's throttle answer: 429 with the RateLimit-* headers and Retry-After, plain text.
      const reset = Math.ceil((Date.now() + 1000) / 1000);
      record(429);
      res
        .writeHead(429, {
          'content-type': 'text/plain',
          'retry-after': '1',
          'ratelimit-limit': '2000',
          'ratelimit-observed': '2001',
          'ratelimit-remaining': '0',
          'ratelimit-reset': String(reset),
          'ratelimit-resettime': new Date(reset * 1000).toUTCString(),
          'ratelimit-name': 'throttle_authenticated_api',
        })
        .end('Retry later\n');
      return;
    }

    const presented =
      (req.headers['private-token'] as string | undefined) ??
      /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = presented ? tokens.get(presented) : undefined;
    const body = req.method === 'GET' ? {} : await readJsonBody(req);
    if (req.method === 'GET') req.resume();
    if (!token) return message(401, '401 Unauthorized');
    if (body === null) return message(400, '400 Bad request - body is not JSON');

    const path = url.pathname.slice('/api/v4'.length);
    const method = req.method ?? 'GET';
    const query = url.searchParams;
    const writes = method !== 'GET';
    // Reads need read_api or api; anything that changes something needs api.
    if ((writes && !hasScope(token, 'api')) || !hasScope(token, 'api', 'read_api')) {
      reply(403, {
        error: 'insufficient_scope',
        error_description:
          'The request requires higher privileges than provided by the access token.',
        scope: writes ? 'api' : 'api read_api',
      });
      return;
    }
    let m: RegExpExecArray | null;

    if (method === 'GET' && path === '/user') return reply(200, shapes.currentUser(token.user));

    if (method === 'GET' && path === '/personal_access_tokens/self') {
      return reply(200, {
        id: token.id,
        name: `${token.kind} token`,
        revoked: false,
        created_at: '2024-01-01T00:00:00.000Z',
        description: null,
        scopes: token.scopes,
        user_id: token.user.id,
        last_used_at: new Date().toISOString(),
        active: true,
        expires_at: '2099-01-01',
      });
    }

    if (method === 'GET' && path === '/users') {
      const found = userByName(query.get('username') ?? '');
      return reply(200, found ? [shapes.user(found)] : []);
    }

    if (method === 'GET' && (m = /^\/groups\/([^/]+)$/.exec(path))) {
      const group = findGroup(decodeURIComponent(m[1]));
      if (!group) return message(404, '404 Group Not Found');
      return reply(200, shapes.group(group));
    }

    if (method === 'GET' && (m = /^\/groups\/([^/]+)\/members\/all\/(\d+)$/.exec(path))) {
      const group = findGroup(decodeURIComponent(m[1]));
      if (!group) return message(404, '404 Group Not Found');
      const user = [...users.values()].find((u) => u.id === Number(m![2]));
      const holder = user && [...tokens.values()].find((t) => t.user.id === user.id);
      const level = holder ? groupAccess(holder, group) : 0;
      if (!user || level === 0) return message(404, '404 Not found');
      return reply(200, { ...shapes.user(user), access_level: level, expires_at: null });
    }

    if (method === 'POST' && path === '/projects') {
      const name = typeof body.name === 'string' ? body.name : '';
      const projectPath = typeof body.path === 'string' ? body.path : name;
      let namespace: ProjectRecord['namespace'];
      if (body.namespace_id !== undefined) {
        const group = findGroup(String(body.namespace_id));
        if (!group) return message(404, '404 Namespace Not Found');
        const needed =
          group.projectCreationLevel === 'developer'
            ? ACCESS.developer
            : group.projectCreationLevel === 'maintainer'
              ? ACCESS.maintainer
              : Infinity;
        if (groupAccess(token, group) < needed) return message(403, '403 Forbidden');
        namespace = { kind: 'group', id: group.id, path: group.path };
      } else {
        if (token.user.bot) return message(403, '403 Forbidden');
        namespace = { kind: 'user', id: token.user.id, path: token.user.username };
      }
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(projectPath)) {
        return reply(400, { message: { path: ['can contain only letters, digits, ...'] } });
      }
      if (projects.has(projectKey(namespace.path, projectPath))) {
        return reply(400, {
          message: {
            'project_namespace.name': ['has already been taken'],
            name: ['has already been taken'],
            path: ['has already been taken'],
          },
        });
      }
      const visibility =
        body.visibility === 'public'
          ? 'public'
          : body.visibility === 'internal'
            ? 'internal'
            : 'private';
      const project = await addProject(namespace, projectPath, {
        private: visibility === 'private',
        description: typeof body.description === 'string' ? body.description : '',
      });
      project.visibility = visibility;
      return reply(201, shapes.project(project));
    }

    if ((m = /^\/projects\/([^/]+)$/.exec(path))) {
      const project = findProject(decodeURIComponent(m[1]));
      if (!project || !readable(token, project)) return message(404, '404 Project Not Found');
      if (method === 'GET') return reply(200, shapes.project(project));
      if (method === 'PUT') {
        if (projectAccess(token, project) < ACCESS.maintainer) return message(403, '403 Forbidden');
        if (Array.isArray(body.topics)) project.topics = [...new Set(body.topics.map(String))];
        if (typeof body.description === 'string') project.description = body.description;
        return reply(200, shapes.project(project));
      }
    }

    if (method === 'GET' && (m = /^\/groups\/([^/]+)\/projects$/.exec(path))) {
      const group = findGroup(decodeURIComponent(m[1]));
      if (!group) return message(404, '404 Group Not Found');
      const list = [...projects.values()].filter(
        (p) => p.namespace.kind === 'group' && p.namespace.id === group.id && readable(token, p),
      );
      return page(list);
    }

    if (method === 'GET' && (m = /^\/users\/([^/]+)\/projects$/.exec(path))) {
      const ref = decodeURIComponent(m[1]);
      const user = /^\d+$/.test(ref)
        ? [...users.values()].find((u) => u.id === Number(ref))
        : userByName(ref);
      if (!user) return message(404, '404 User Not Found');
      const list = [...projects.values()].filter(
        (p) => p.namespace.kind === 'user' && p.namespace.id === user.id && readable(token, p),
      );
      return page(list);
    }

    if (method === 'GET' && (m = /^\/projects\/([^/]+)\/repository\/files\/([^/]+)$/.exec(path))) {
      const project = findProject(decodeURIComponent(m[1]));
      if (!project || !readable(token, project)) return message(404, '404 Project Not Found');
      const filePath = decodeURIComponent(m[2]);
      const ref = query.get('ref');
      if (!ref) return message(400, '400 Bad request - ref is missing');
      const commit = await resolveCommit(diskPath(project), ref);
      if (!commit) return message(404, '404 Commit Not Found');
      const file = await readGitFile(diskPath(project), commit, filePath);
      if (!file) return message(404, '404 File Not Found');
      const json = {
        file_name: filePath.split('/').pop(),
        file_path: filePath,
        size: file.content.length,
        encoding: 'base64',
        content_sha256: createHash('sha256').update(file.content).digest('hex'),
        ref,
        blob_id: file.blobSha,
        commit_id: commit,
        last_commit_id: commit,
        execute_filemode: false,
        content: file.content.toString('base64'),
      };
      // GitLab's API answers carry a weak ETag over the body (Rack::ETag) and honour
      // If-None-Match with 304.
      const etag = `W/"${createHash('md5').update(JSON.stringify(json)).digest('hex')}"`;
      const cache = { etag, 'cache-control': 'max-age=0, private, must-revalidate' };
      if (req.headers['if-none-match'] === etag) return reply(304, undefined, cache);
      return reply(200, json, cache);
    }

    if (
      method === 'GET' &&
      (m = /^\/projects\/([^/]+)\/repository\/archive\.tar\.gz$/.exec(path))
    ) {
      const project = findProject(decodeURIComponent(m[1]));
      if (!project || !readable(token, project)) return message(404, '404 Project Not Found');
      const ref = query.get('sha') ?? 'main';
      const commit = await resolveCommit(diskPath(project), ref);
      if (!commit) return message(404, '404 File Not Found');
      const prefix = `${project.path}-${ref.replace(/\//g, '-')}-${commit}`;
      record(200);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${prefix}.tar.gz"`,
      });
      gitArchiveStream(diskPath(project), commit, prefix).pipe(res);
      return;
    }

    if (method === 'GET' && (m = /^\/projects\/([^/]+)\/repository\/tags$/.exec(path))) {
      const project = findProject(decodeURIComponent(m[1]));
      if (!project || !readable(token, project)) return message(404, '404 Project Not Found');
      const tags = (await listGitTags(diskPath(project))).reverse();
      return page(tags, (t) => ({
        name: t.name,
        message: t.name,
        target: t.commitSha,
        commit: { id: t.commitSha, short_id: t.commitSha.slice(0, 8), title: 'seed' },
        release: null,
        protected: false,
        created_at: null,
      }));
    }

    return message(404, '404 Not Found');

    function page<T>(
      items: T[],
      shape: (item: T) => unknown = (p) => shapes.project(p as ProjectRecord),
    ) {
      const topic = query.get('topic');
      const filtered = topic
        ? items.filter((p) => (p as unknown as ProjectRecord).topics?.includes(topic))
        : items;
      const perPage = Math.max(
        1,
        Math.min(Number(query.get('per_page') ?? 20) || 20, 100, maxPageSize),
      );
      const current = Math.max(1, Number(query.get('page') ?? 1) || 1);
      const totalPages = Math.max(1, Math.ceil(filtered.length / perPage));
      const slice = filtered.slice((current - 1) * perPage, current * perPage);
      const link = (n: number, rel: string) => {
        const params = new URLSearchParams(query);
        params.set('page', String(n));
        params.set('per_page', String(perPage));
        return `<${origin}${url.pathname}?${params.toString()}>; rel="${rel}"`;
      };
      const links = [link(1, 'first'), link(totalPages, 'last')];
      if (current < totalPages) links.unshift(link(current + 1, 'next'));
      if (current > 1) links.unshift(link(current - 1, 'prev'));
      reply(200, slice.map(shape), {
        'x-page': String(current),
        'x-per-page': String(perPage),
        'x-total': String(filtered.length),
        'x-total-pages': String(totalPages),
        'x-next-page': current < totalPages ? String(current + 1) : '',
        'x-prev-page': current > 1 ? String(current - 1) : '',
        link: links.join(', '),
      });
    }
  };

  const addProject = async (
    namespace: ProjectRecord['namespace'],
    path: string,
    options: SeedRepoOptions,
  ) => {
    const createdAt = clock.now().toISOString();
    const project: ProjectRecord = {
      id: nextId++,
      namespace,
      path,
      visibility: options.private === false ? 'public' : 'private',
      topics: [...(options.topics ?? [])],
      description: options.description ?? '',
      createdAt,
      lastActivityAt: createdAt,
    };
    await createSeededRepo(diskPath(project), options);
    projects.set(projectKey(namespace.path, path), project);
    return project;
  };

  // ---- git smart HTTP --------------------------------------------------------------------

  const handleGit = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const match = /^\/(.+)\/([^/]+?)\.git(\/.*)$/.exec(url.pathname);
    const credential = parseBasicAuth(req.headers.authorization);
    const refuse = (status: number, text: string, headers: Record<string, string> = {}) => {
      req.resume();
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search.replace(/^\?/, ''),
        status,
        kind: 'git',
        gitUser: credential?.user ?? null,
      });
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(text);
    };

    if (mode === 'down') return refuse(502, 'Bad Gateway\n');
    if (!match) return refuse(404, 'Not Found\n');

    // GitLab takes a token as the password; `oauth2` is the user name its docs give for every
    // kind of token (the account's own name works for personal tokens too).
    const token = credential ? tokens.get(credential.pass) : undefined;
    const userOk =
      token && (credential!.user === 'oauth2' || credential!.user === token.user.username);
    if (!credential || !token || !userOk) {
      return refuse(401, 'HTTP Basic: Access denied.\n', {
        'www-authenticate': 'Basic realm="GitLab"',
      });
    }
    const project = projects.get(projectKey(match[1], match[2]));
    if (!project || !readable(token, project))
      return refuse(404, 'The project you were looking for could not be found.\n');
    const pushing =
      match[3] === '/git-receive-pack' || url.searchParams.get('service') === 'git-receive-pack';
    const mayPush =
      hasScope(token, 'api', 'write_repository') &&
      projectAccess(token, project) >= ACCESS.developer;
    const mayPull = hasScope(token, 'api', 'read_repository', 'write_repository');
    if ((pushing && !mayPush) || !mayPull) {
      return refuse(403, 'You are not allowed to push code to this project.\n');
    }

    const pushed = () => {
      const now = clock.now();
      if (now.getTime() - Date.parse(project.lastActivityAt) < ACTIVITY_INTERVAL_MS) return;
      project.lastActivityAt = now.toISOString();
    };
    void serveTrackingPush(req, res, diskPath(project), pushed, () =>
      serveGit(req, res, {
        projectRoot: root,
        pathInfo: `/${fullPath(project)}.git${match[3]}`,
        remoteUser: credential.user,
        log: gitRequestLog(requests, url),
      }),
    );
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (mode === 'unreachable') {
      req.socket.destroy();
      return;
    }
    if (url.pathname.startsWith('/api/v4/')) {
      void handleApi(req, res, url);
      return;
    }
    handleGit(req, res, url);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    provider: 'gitlab',
    baseUrl: origin,
    apiOrigin: origin,
    gitOrigin: origin,
    requests,
    addToken(t: DoubleToken) {
      const kind = t.kind === 'group' || t.kind === 'project' ? t.kind : 'personal';
      const write = (t.access ?? 'write') === 'write';
      const scopes = t.scopes ?? (write ? ['api'] : ['read_api', 'read_repository']);
      const user = ensureUser(t.login, kind !== 'personal');
      tokens.set(t.value, { id: nextId++, user, kind, scopes, resource: t.resource ?? null });
    },
    addOwner(name: string, type: OwnerType) {
      if (type === 'user') {
        ensureUser(name);
        return;
      }
      if (groupByPath(name)) return;
      groups.set(name.toLowerCase(), {
        id: nextId++,
        path: name,
        projectCreationLevel: 'maintainer',
        members: new Map(),
      });
    },
    addMember(group, login, accessLevel) {
      const g = groupByPath(group);
      if (!g) throw new Error(`the GitLab double has no group ${group}`);
      g.members.set(ensureUser(login).id, accessLevel);
    },
    async seedRepo(owner, name, options = {}) {
      const group = groupByPath(owner);
      const user = userByName(owner);
      if (!group && !user) throw new Error(`the GitLab double has no owner ${owner}`);
      const namespace: ProjectRecord['namespace'] = group
        ? { kind: 'group', id: group.id, path: group.path }
        : { kind: 'user', id: user!.id, path: user!.username };
      await addProject(namespace, name, options);
    },
    repoState(owner, name): DoubleRepoState | null {
      const project = projects.get(projectKey(owner, name));
      if (!project) return null;
      return {
        owner: project.namespace.path,
        name: project.path,
        private: project.visibility === 'private',
        topics: [...project.topics],
        description: project.description,
        changedAt: project.lastActivityAt,
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
      const project = projects.get(projectKey(owner, name));
      return project ? diskPath(project) : join(root, owner, `${name}.git`);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await rm(root, { recursive: true, force: true });
    },
  };
}
