/**
 * A Bitbucket Data Center double: REST API 1.0 under `/rest/api/1.0` and git smart HTTP under
 * `/scm/<project>/<repo>.git` on one loopback server, as one instance serves both.
 *
 * Shapes, paths and codes were checked against Atlassian's Data Center REST reference and
 * administration pages read through the search tool (no npm package ships its OpenAPI
 * document):
 * - Paged APIs: `start`/`limit` in, `{size, limit, isLastPage, start, values, nextPageStart}`
 *   out (developer.atlassian.com/server/bitbucket/rest, "Paged APIs").
 * - Errors: `{"errors": [{"context", "message", "exceptionName"}]}`; 401 for a refused token,
 *   403 AuthorisationException, 404 for an unknown project or repository, 409 for a repository
 *   name already taken in the project.
 * - HTTP access tokens: personal tokens as Bearer or as the Basic password of their user;
 *   project and repository tokens as Bearer only, for REST and git ("don't use this token with
 *   a username in Basic authentication", http-access-tokens).
 * - `X-AUSERNAME` names the authenticated account on every answer.
 * - `GET /projects?name=&permission=PROJECT_ADMIN` lists the projects the caller administers.
 * - `raw/{path}?at=`: raw bytes, no ETag and no conditional answers.
 * - `archive?at=&format=tar.gz&prefix=`: `git archive` with the prefix given (a trailing `/`
 *   added when missing).
 * - `tags`: `{id: "refs/tags/…", displayId, type: "TAG", latestCommit, hash}`.
 * - Rate limiting: 429 with `Retry-After` and `X-RateLimit-Limit`,
 *   `X-RateLimit-Interval-Seconds`, `X-RateLimit-Fill-Rate` (improving instance stability with
 *   rate limiting).
 * - Personal projects are `~username`; clone URLs use the project key in lower case.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBareRepo, serveGit } from '../../support/git-http-backend.js';
import {
  createSeededRepo,
  gitArchiveStream,
  listGitTags,
  parseBasicAuth,
  readGitFile,
  readJsonBody,
  resolveCommit,
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

/**
 * Token kinds: `personal` (the default; the token's `login` is its user), `project`
 * (`resource` = the project key) and `repository` (`resource` = `KEY/slug`).
 */
export type BitbucketServerTokenKind = 'personal' | 'project' | 'repository';

export interface BitbucketServerDouble extends ProviderDouble {
  /** The token as an admin saves it: `username:secret` for a personal token, else the secret. */
  connectionToken(secret: string): string;
}

interface Project {
  key: string;
  name: string;
  personal: boolean;
  /** The owner a test knows it by: the user name for a personal project, else the key. */
  owner: string;
}

// The repository JSON of Data Center carries no time at all, so there is no stamp to keep.
interface RepoRecord extends Omit<DoubleRepoState, 'changedAt'> {
  projectKey: string;
  path: string;
}

const SLUG = /^[a-z0-9][a-z0-9._-]*$/;

/** Starts the double on 127.0.0.1. */
export async function startBitbucketServerDouble(): Promise<BitbucketServerDouble> {
  const root = await mkdtemp(join(tmpdir(), 'bitbucket-server-double-'));
  const servers = createDoubleServers();
  const tokens: DoubleToken[] = [];
  const projects = new Map<string, Project>();
  const repos = new Map<string, RepoRecord>();
  let maxPageSize = 1000;
  let origin = '';

  const norm = (key: string) => key.toUpperCase();
  const projectFor = (owner: string) =>
    projects.get(norm(owner)) ?? projects.get(norm(`~${owner}`)) ?? null;
  const repoKey = (projectKey: string, slug: string) => `${norm(projectKey)}/${slug.toLowerCase()}`;
  const diskPath = (projectKey: string, slug: string) =>
    join(root, norm(projectKey).replace('~', '_'), `${slug.toLowerCase()}.git`);

  const addProject = (key: string, personal: boolean, owner: string) => {
    if (!projects.has(norm(key)))
      projects.set(norm(key), { key, name: personal ? owner : key, personal, owner });
  };

  const tokenFrom = (req: IncomingMessage): DoubleToken | null => {
    const bearer = parseBearer(req.headers.authorization);
    if (bearer) return tokens.find((t) => t.value === bearer) ?? null;
    const basic = parseBasicAuth(req.headers.authorization);
    if (!basic) return null;
    // Basic auth takes personal tokens only, with the token's own user name.
    const token = tokens.find((t) => t.value === basic.pass && t.kind === 'personal');
    if (!token || token.login.toLowerCase() !== basic.user.toLowerCase()) return null;
    return token;
  };

  // What a token may do in a project: `admin`, `write`, `read` or nothing.
  const permission = (
    token: DoubleToken,
    project: Project,
    slug?: string,
  ): 'admin' | 'write' | 'read' | null => {
    const granted = token.access === 'read' ? 'read' : 'admin';
    if (token.kind === 'project')
      return norm(token.resource ?? '') === norm(project.key) ? granted : null;
    if (token.kind === 'repository') {
      const ok =
        slug !== undefined &&
        token.resource?.toLowerCase() === `${project.key}/${slug}`.toLowerCase();
      return ok ? (granted === 'admin' ? 'write' : 'read') : null;
    }
    if (project.personal)
      return project.owner.toLowerCase() === token.login.toLowerCase() ? granted : 'read';
    return granted;
  };

  const errors = (res: ServerResponse, status: number, message: string, exceptionName: string) =>
    sendJson(res, status, {
      errors: [
        { context: null, message, exceptionName: `com.atlassian.bitbucket.${exceptionName}` },
      ],
    });

  const paged = <T>(url: URL, all: T[]) => {
    const limit = pageSize(url.searchParams.get('limit'), 25, maxPageSize);
    const start = Math.max(0, Number.parseInt(url.searchParams.get('start') ?? '0', 10) || 0);
    const values = all.slice(start, start + limit);
    const isLastPage = start + limit >= all.length;
    return {
      size: values.length,
      limit,
      isLastPage,
      start,
      values,
      ...(isLastPage ? {} : { nextPageStart: start + limit }),
    };
  };

  const projectJson = (project: Project) => ({
    key: project.key,
    id: project.key.length,
    name: project.name,
    public: false,
    type: project.personal ? 'PERSONAL' : 'NORMAL',
    links: { self: [{ href: `${origin}/projects/${project.key}` }] },
  });

  const repoJson = (repo: RepoRecord) => {
    const project = projects.get(norm(repo.projectKey))!;
    const browse = project.personal
      ? `${origin}/users/${project.owner}/repos/${repo.name}/browse`
      : `${origin}/projects/${project.key}/repos/${repo.name}/browse`;
    return {
      slug: repo.name,
      id: repo.name.length,
      name: repo.name,
      scmId: 'git',
      state: 'AVAILABLE',
      forkable: false,
      public: !repo.private,
      project: projectJson(project),
      links: {
        self: [{ href: browse }],
        clone: [
          { href: `${origin}/scm/${project.key.toLowerCase()}/${repo.name}.git`, name: 'http' },
        ],
      },
    };
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (servers.takeRateLimit()) {
      req.resume();
      res
        .writeHead(429, {
          'content-type': 'application/json',
          'retry-after': '1',
          'x-ratelimit-limit': '60',
          'x-ratelimit-interval-seconds': '1',
          'x-ratelimit-fill-rate': '5',
        })
        .end(
          JSON.stringify({
            errors: [{ context: null, message: 'Too many requests', exceptionName: null }],
          }),
        );
      return;
    }
    const token = tokenFrom(req);
    if (!token) {
      req.resume();
      return errors(
        res,
        401,
        'Authentication failed. Please check your credentials and try again.',
        'AuthenticationException',
      );
    }
    res.setHeader('x-ausername', encodeURIComponent(token.login));
    res.setHeader('x-auserid', String(token.login.length));

    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent).slice(3);
    const [first, key, sub, slug, what, ...rest] = parts;
    if (first !== 'projects') {
      req.resume();
      return errors(res, 404, 'Not found', 'NotFoundException');
    }

    if (!key) {
      const name = (url.searchParams.get('name') ?? '').toLowerCase();
      const wanted = url.searchParams.get('permission');
      const rank = { read: 1, write: 2, admin: 3 } as const;
      const needed = wanted === 'PROJECT_ADMIN' ? 3 : wanted === 'PROJECT_WRITE' ? 2 : 1;
      const visible = [...projects.values()]
        .filter((p) => !p.personal && p.name.toLowerCase().includes(name))
        .filter((p) => {
          const has = permission(token, p);
          return has !== null && rank[has] >= needed;
        })
        .sort((a, b) => a.key.localeCompare(b.key));
      const page = paged(url, visible);
      return sendJson(res, 200, { ...page, values: page.values.map(projectJson) });
    }

    const project = projects.get(norm(key));
    if (!project) {
      req.resume();
      return errors(res, 404, `Project ${key} does not exist.`, 'project.NoSuchProjectException');
    }
    if (!sub && method === 'GET') {
      if (!permission(token, project))
        return errors(res, 404, `Project ${key} does not exist.`, 'project.NoSuchProjectException');
      return sendJson(res, 200, projectJson(project));
    }
    if (sub !== 'repos') return errors(res, 404, 'Not found', 'NotFoundException');

    if (!slug && method === 'POST') {
      const body = await readJsonBody(req);
      if (permission(token, project) !== 'admin') {
        return errors(
          res,
          403,
          'You are not permitted to access this resource',
          'AuthorisationException',
        );
      }
      const name = typeof body?.name === 'string' ? body.name : '';
      if (!name || (body?.scmId !== undefined && body.scmId !== 'git')) {
        return errors(
          res,
          400,
          'The repository name is required.',
          'validation.ArgumentValidationException',
        );
      }
      const newSlug = name.toLowerCase().replace(/\s+/g, '-');
      if (!SLUG.test(newSlug))
        return errors(
          res,
          400,
          'Invalid repository name.',
          'validation.ArgumentValidationException',
        );
      if (repos.has(repoKey(project.key, newSlug))) {
        return errors(
          res,
          409,
          `This repository URL is already taken by '${name}' in '${project.name}'`,
          'repository.RepositoryDuplicateNameException',
        );
      }
      const record: RepoRecord = {
        owner: project.owner,
        name: newSlug,
        private: body?.public !== true,
        topics: [],
        description: '',
        projectKey: project.key,
        path: diskPath(project.key, newSlug),
      };
      await createBareRepo(record.path);
      repos.set(repoKey(project.key, newSlug), record);
      return sendJson(res, 201, repoJson(record));
    }

    if (!slug) {
      const all = [...repos.values()]
        .filter(
          (r) => norm(r.projectKey) === norm(project.key) && permission(token, project, r.name),
        )
        .sort((a, b) => a.name.localeCompare(b.name));
      const page = paged(url, all);
      return sendJson(res, 200, { ...page, values: page.values.map(repoJson) });
    }

    const repo = repos.get(repoKey(project.key, slug));
    if (!repo || !permission(token, project, slug)) {
      req.resume();
      return errors(
        res,
        404,
        `Repository ${project.key}/${slug} does not exist.`,
        'repository.NoSuchRepositoryException',
      );
    }
    if (!what) return sendJson(res, 200, repoJson(repo));

    if (what === 'raw' && rest.length > 0) {
      // Without `at`, Data Center reads the repository's default branch.
      const at = url.searchParams.get('at') ?? 'HEAD';
      const file = await readGitFile(repo.path, at, rest.join('/'));
      if (!file)
        return errors(
          res,
          404,
          `The path "${rest.join('/')}" does not exist at revision "${at}"`,
          'content.NoSuchPathException',
        );
      res
        .writeHead(200, {
          'content-type': 'text/plain;charset=UTF-8',
          'content-length': String(file.content.length),
        })
        .end(file.content);
      return;
    }

    if (what === 'archive' && rest.length === 0) {
      const at = url.searchParams.get('at') ?? 'main';
      const commit = await resolveCommit(repo.path, at);
      if (!commit)
        return errors(
          res,
          404,
          `Commit '${at}' does not exist in repository '${repo.name}'.`,
          'commit.NoSuchCommitException',
        );
      if ((url.searchParams.get('format') ?? 'zip') !== 'tar.gz')
        return errors(
          res,
          400,
          'Only tar.gz is served by this double.',
          'validation.ArgumentValidationException',
        );
      const prefix = (url.searchParams.get('prefix') ?? '').replace(/\/+$/, '');
      res.writeHead(200, {
        'content-type': 'application/x-gzip',
        'content-disposition': `attachment; filename="${repo.name}.tar.gz"`,
      });
      gitArchiveStream(repo.path, commit, prefix).pipe(res);
      return;
    }

    if (what === 'tags' && rest.length === 0) {
      const tags = await listGitTags(repo.path);
      const page = paged(url, tags);
      return sendJson(res, 200, {
        ...page,
        values: page.values.map((tag) => ({
          id: `refs/tags/${tag.name}`,
          displayId: tag.name,
          type: 'TAG',
          latestCommit: tag.commitSha,
          latestChangeset: tag.commitSha,
          hash: null,
        })),
      });
    }

    return errors(res, 404, 'Not found', 'NotFoundException');
  };

  const handleGit = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [, key, repoPart, ...rest] = parts;
    const slug = repoPart?.replace(/\.git$/, '');
    const project = key ? projects.get(norm(key)) : undefined;
    const repo = project && slug ? repos.get(repoKey(project.key, slug)) : undefined;
    const token = tokenFrom(req);
    const level = project && token ? permission(token, project, slug) : null;
    if (!repo || !token || !level) {
      req.resume();
      res
        .writeHead(401, {
          'www-authenticate': 'Basic realm="Atlassian Bitbucket"',
          'content-type': 'text/plain',
        })
        .end('Unauthorized\n');
      return;
    }
    const pushing =
      rest.at(-1) === 'git-receive-pack' || url.searchParams.get('service') === 'git-receive-pack';
    if (pushing && level === 'read') {
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain' }).end('You are not permitted to push\n');
      return;
    }
    const relative = diskPath(repo.projectKey, repo.name).slice(root.length);
    serveGit(req, res, {
      projectRoot: root,
      pathInfo: `${relative}/${rest.join('/')}`,
      remoteUser: token.login,
    });
  };

  origin = await servers.start(
    (req, res, url) =>
      url.pathname.startsWith('/scm/') ? handleGit(req, res, url) : handleApi(req, res, url),
    (path) => (path.startsWith('/scm/') ? 'git' : 'api'),
  );

  return {
    provider: 'bitbucket-server',
    baseUrl: origin,
    apiOrigin: origin,
    gitOrigin: origin,
    requests: servers.requests,

    connectionToken(secret) {
      const token = tokens.find((t) => t.value === secret);
      if (token && token.kind !== 'personal') return secret;
      return `${token?.login ?? 'nobody'}:${secret}`;
    },
    addToken(token) {
      tokens.push({ kind: 'personal', access: 'write', ...token });
      if ((token.kind ?? 'personal') === 'personal')
        addProject(`~${token.login}`, true, token.login);
    },
    addOwner(name, type) {
      if (type === 'user') addProject(`~${name}`, true, name);
      else addProject(name, false, name);
    },
    async seedRepo(owner, name, options: SeedRepoOptions = {}) {
      const project = projectFor(owner);
      if (!project) throw new Error(`no project for ${owner} in the double`);
      const path = diskPath(project.key, name);
      await createSeededRepo(path, options);
      repos.set(repoKey(project.key, name), {
        owner: project.owner,
        name: name.toLowerCase(),
        private: options.private ?? true,
        topics: [],
        description: options.description ?? '',
        projectKey: project.key,
        path,
      });
    },
    repoState(owner, name) {
      const project = projectFor(owner);
      const repo = project ? repos.get(repoKey(project.key, name)) : undefined;
      if (!repo) return null;
      return {
        owner: repo.owner,
        name: repo.name,
        private: repo.private,
        topics: [],
        description: repo.description,
        changedAt: null,
      };
    },
    setMaxPageSize(size) {
      maxPageSize = size;
    },
    setMode(mode) {
      servers.mode = mode;
    },
    advanceClock() {
      // Nothing this double answers carries a time, so there is no clock to move.
    },
    gitRepoPath(owner, name) {
      const project = projectFor(owner);
      return diskPath(project?.key ?? owner, name);
    },
    async close() {
      await servers.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
