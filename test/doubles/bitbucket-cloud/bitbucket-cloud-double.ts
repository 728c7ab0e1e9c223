/**
 * A Bitbucket Cloud double: the REST API 2.0 on one loopback server and the web host (git
 * smart HTTP and `/get/<tag>.tar.gz` archive downloads) on a second, as bitbucket.org and
 * api.bitbucket.org are two hosts.
 *
 * Shapes, paths and codes were checked against Atlassian's documentation read through the
 * search tool, not against a machine-readable specification (no npm package ships Bitbucket's
 * OpenAPI document as a file):
 * - REST reference, https://developer.atlassian.com/cloud/bitbucket/rest/ — repository objects
 *   (`slug`, `is_private`, `mainbranch`, `links.html`, `workspace`, `created_on`,
 *   `updated_on`, times with microseconds and `+00:00`), paginated bodies
 *   (`values`, `pagelen`, `page`, `size`, `next`), error bodies (`{type: "error", error:
 *   {message}}`), `GET /repositories/{workspace}/{repo_slug}/src/{commit}/{path}` (raw content
 *   with an ETag based on the content), `refs/tags` (`name`, `target.hash`).
 * - Repository creation answers 400 "Repository with this Slug and Owner already exists." for a
 *   taken slug and 404 for an unknown workspace.
 * - Authentication: API tokens as Basic `email:token` for REST and `x-bitbucket-api-token-auth`
 *   (or the Bitbucket user name) for git; access tokens as Bearer for REST and `x-token-auth`
 *   for git (support.atlassian.com using-api-tokens, using-access-tokens).
 * - Rate limits: 429 "Rate limit for this resource has been exceeded" (api-request-limits). The
 *   documentation names no reset header; this double sends `Retry-After: 1` so the adapter's
 *   wait is exercised, and the adapter also copes without it.
 * - Topics: Bitbucket Cloud has none, so the double has no topic route.
 * - Archives: `git archive` with one top folder `<workspace>-<repo>-<12-hex short sha>`, the
 *   naming bitbucket.org uses for its downloads.
 */
import { rm, mkdtemp } from 'node:fs/promises';
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
import { createDoubleServers, pageSize, parseBearer, sendJson } from './loopback-double-server.js';

/**
 * Token kinds of this double: `api-token` (the default; REST with the account email), `access-token`
 * (a workspace token, `resource` = the workspace) and `repository-access-token` (`resource` =
 * `workspace/repo`).
 */
export type BitbucketCloudTokenKind = 'api-token' | 'access-token' | 'repository-access-token';

export interface BitbucketCloudDouble extends ProviderDouble {
  /**
   * The token as an admin saves it for this secret: `email:secret` for an API token (the
   * email of the token's account; an unknown secret gets an unknown email), the bare secret
   * for an access token.
   */
  connectionToken(secret: string): string;
  /** The API root the adapter is given as `apiUrl`, e.g. `http://127.0.0.1:4567/2.0`. */
  readonly apiUrl: string;
  /** The web host the adapter is given as `webUrl` (git and archives). */
  readonly webUrl: string;
}

interface RepoRecord extends DoubleRepoState {
  path: string;
  createdOn: string;
  /** `updated_on`: creation, then every push that lands. */
  changedAt: string;
}

const MAX_PAGELEN = 100;
const SLUG = /^[a-z0-9._-]+$/;

const DEFAULT_SCOPES: Record<string, { write: string[]; read: string[] }> = {
  'api-token': {
    write: [
      'read:user:bitbucket',
      'read:workspace:bitbucket',
      'read:repository:bitbucket',
      'write:repository:bitbucket',
      'admin:repository:bitbucket',
    ],
    read: ['read:user:bitbucket', 'read:workspace:bitbucket', 'read:repository:bitbucket'],
  },
  'access-token': {
    write: ['repository', 'repository:write', 'repository:admin'],
    read: ['repository'],
  },
};

/** Starts the double: an API server and a web server on 127.0.0.1. */
export async function startBitbucketCloudDouble(): Promise<BitbucketCloudDouble> {
  const root = await mkdtemp(join(tmpdir(), 'bitbucket-cloud-double-'));
  const servers = createDoubleServers();
  const tokens: DoubleToken[] = [];
  const owners = new Map<string, OwnerType>();
  const repos = new Map<string, RepoRecord>();
  let maxPageSize = MAX_PAGELEN;
  let apiOrigin = '';
  let webOrigin = '';
  const clock = createDoubleClock();
  // Bitbucket Cloud writes times with microseconds and an explicit offset.
  const stamp = () => clock.now().toISOString().replace('Z', '000+00:00');

  const repoPath = (ws: string, slug: string) => join(root, ws, `${slug}.git`);
  const scopesOf = (token: DoubleToken) => {
    if (token.scopes) return token.scopes;
    const table = DEFAULT_SCOPES[token.kind === 'api-token' ? 'api-token' : 'access-token'];
    return token.access === 'read' ? table.read : table.write;
  };

  // An API token authenticates with the account's email, which the double derives from the
  // login; the secret alone is the token's value.
  const emailOf = (token: DoubleToken) => `${token.login}@example.test`;

  // REST credentials: Basic `email:secret` for API tokens, Bearer for access tokens.
  const restToken = (req: IncomingMessage): DoubleToken | null => {
    const basic = parseBasicAuth(req.headers.authorization);
    if (basic) {
      const match = (t: DoubleToken) =>
        t.kind === 'api-token' && basic.user === emailOf(t) && basic.pass === t.value;
      return tokens.find(match) ?? null;
    }
    const bearer = parseBearer(req.headers.authorization);
    if (!bearer) return null;
    return tokens.find((t) => t.kind !== 'api-token' && t.value === bearer) ?? null;
  };

  // Git and downloads: Basic with the user name each token kind documents, the secret as password.
  const gitToken = (req: IncomingMessage): DoubleToken | null => {
    const basic = parseBasicAuth(req.headers.authorization);
    if (!basic) return null;
    const match = (t: DoubleToken) => {
      if (basic.pass !== t.value) return false;
      if (t.kind === 'api-token') {
        return basic.user === 'x-bitbucket-api-token-auth' || basic.user === t.login;
      }
      return basic.user === 'x-token-auth';
    };
    return tokens.find(match) ?? null;
  };

  const canReach = (token: DoubleToken, ws: string, slug?: string) => {
    if (token.kind === 'access-token') return !token.resource || token.resource === ws;
    if (token.kind === 'repository-access-token')
      return slug !== undefined && token.resource === `${ws}/${slug}`;
    return true;
  };

  const error = (
    res: ServerResponse,
    status: number,
    message: string,
    extra: Record<string, unknown> = {},
  ) => sendJson(res, status, { type: 'error', error: { message, ...extra } });

  const lacksScope = (res: ServerResponse, token: DoubleToken, anyOf: string[]) => {
    const granted = scopesOf(token);
    if (anyOf.some((scope) => granted.includes(scope))) return false;
    error(res, 403, 'Your credentials lack one or more required privilege scopes.', {
      detail: { granted, required: anyOf },
    });
    return true;
  };

  const repoJson = (repo: RepoRecord, mainbranch: string | null) => ({
    type: 'repository',
    full_name: `${repo.owner}/${repo.name}`,
    name: repo.name,
    slug: repo.name,
    description: repo.description,
    scm: 'git',
    is_private: repo.private,
    mainbranch: mainbranch ? { type: 'branch', name: mainbranch } : null,
    workspace: { type: 'workspace', slug: repo.owner },
    created_on: repo.createdOn,
    updated_on: repo.changedAt,
    links: {
      html: { href: `${webOrigin}/${repo.owner}/${repo.name}` },
      clone: [{ name: 'https', href: `${webOrigin}/${repo.owner}/${repo.name}.git` }],
    },
  });

  const mainBranchOf = async (repo: RepoRecord) =>
    (await resolveCommit(repo.path, 'refs/heads/main')) ? 'main' : null;

  // A page of a listing in Bitbucket's shape, with `next` pointing at the following page.
  const paginate = <T>(url: URL, all: T[]) => {
    const size = pageSize(url.searchParams.get('pagelen'), 10, Math.min(MAX_PAGELEN, maxPageSize));
    const page = Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1);
    const values = all.slice((page - 1) * size, page * size);
    const body: Record<string, unknown> = { pagelen: size, size: all.length, page, values };
    if (page * size < all.length) {
      const next = new URL(`${apiOrigin}${url.pathname}`);
      next.searchParams.set('pagelen', String(size));
      next.searchParams.set('page', String(page + 1));
      body.next = next.href;
    }
    return body;
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (servers.takeRateLimit()) {
      req.resume();
      res
        .writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' })
        .end('Rate limit for this resource has been exceeded');
      return;
    }
    const token = restToken(req);
    if (!token) {
      req.resume();
      res.setHeader('www-authenticate', 'Basic realm="Bitbucket.org HTTP"');
      error(res, 401, 'Unauthorized');
      return;
    }
    res.setHeader('x-oauth-scopes', scopesOf(token).join(', '));
    if (token.kind !== 'api-token') {
      res.setHeader('x-ratelimit-limit', '1000');
      res.setHeader('x-ratelimit-resource', 'api');
      res.setHeader('x-ratelimit-nearlimit', 'false');
    }

    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== '2.0') return error(res, 404, 'Resource not found');
    const [, resource, ws, slug, sub, ...rest] = parts;
    const method = req.method ?? 'GET';

    if (resource === 'user' && parts.length === 2 && method === 'GET') {
      if (token.kind !== 'api-token')
        return error(
          res,
          401,
          'This API is only accessible with the following authentication types: session, password, apppassword, api_token',
        );
      return sendJson(res, 200, {
        type: 'user',
        username: token.login,
        nickname: token.login,
        display_name: token.login,
        account_id: `557058:${token.login}`,
        uuid: `{${token.login}}`,
      });
    }

    if (resource === 'workspaces' && ws && parts.length === 3 && method === 'GET') {
      if (!owners.has(ws)) return error(res, 404, `No workspace with identifier '${ws}'.`);
      if (!canReach(token, ws))
        return error(res, 403, 'Access denied. You must have access to this workspace.');
      return sendJson(res, 200, { type: 'workspace', slug: ws, name: ws, uuid: `{${ws}}` });
    }

    if (resource !== 'repositories' || !ws) return error(res, 404, 'Resource not found');
    if (!owners.has(ws)) {
      req.resume();
      return error(res, 404, `No workspace with identifier '${ws}'.`);
    }

    if (!slug) {
      if (method !== 'GET') return error(res, 405, 'Method not allowed');
      if (!canReach(token, ws)) return error(res, 403, 'Access denied.');
      const all = [...repos.values()]
        .filter((r) => r.owner === ws)
        .sort((a, b) => a.name.localeCompare(b.name));
      const page = paginate(url, all);
      const values = await Promise.all(
        (page.values as RepoRecord[]).map(async (r) => repoJson(r, await mainBranchOf(r))),
      );
      return sendJson(res, 200, { ...page, values });
    }

    const repo = repos.get(`${ws}/${slug}`);

    if (!sub && method === 'POST') {
      const body = await readJsonBody(req);
      if (!canReach(token, ws)) return error(res, 403, 'Access denied.');
      if (lacksScope(res, token, ['admin:repository:bitbucket', 'repository:admin'])) return;
      if (!body || (body.scm !== undefined && body.scm !== 'git')) {
        return error(res, 400, 'Invalid repository definition.', {
          fields: { scm: ['Only git is supported.'] },
        });
      }
      if (!SLUG.test(slug))
        return error(res, 400, 'Invalid slug.', { fields: { slug: ['Invalid slug.'] } });
      if (repo) {
        return error(res, 400, 'Repository with this Slug and Owner already exists.', {
          fields: { name: ['Repository with this Slug and Owner already exists.'] },
        });
      }
      const created = stamp();
      const record: RepoRecord = {
        owner: ws,
        name: slug,
        private: body.is_private !== false,
        topics: [],
        description: typeof body.description === 'string' ? body.description : '',
        path: repoPath(ws, slug),
        createdOn: created,
        changedAt: created,
      };
      await createBareRepo(record.path);
      repos.set(`${ws}/${slug}`, record);
      return sendJson(res, 200, repoJson(record, null));
    }

    if (!repo || !canReach(token, ws, slug)) {
      req.resume();
      return error(res, 404, `Repository ${ws}/${slug} not found`);
    }
    if (method !== 'GET') return error(res, 405, 'Method not allowed');

    if (!sub) return sendJson(res, 200, repoJson(repo, await mainBranchOf(repo)));

    if (sub === 'src' && rest.length >= 2) {
      const [ref, ...fileParts] = rest;
      const file = await readGitFile(repo.path, ref, fileParts.join('/'));
      if (!file) return error(res, 404, 'No such file or directory: ' + fileParts.join('/'));
      const etag = `"${file.blobSha}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res
        .writeHead(200, {
          'content-type': fileParts.at(-1)?.endsWith('.json')
            ? 'application/json'
            : 'application/octet-stream',
          'content-disposition': 'attachment',
          'content-length': String(file.content.length),
          etag,
        })
        .end(file.content);
      return;
    }

    if (sub === 'refs' && rest[0] === 'tags' && rest.length === 1) {
      const tags = await listGitTags(repo.path);
      const page = paginate(url, tags);
      const values = (page.values as { name: string; commitSha: string }[]).map((tag) => ({
        type: 'tag',
        name: tag.name,
        target: { type: 'commit', hash: tag.commitSha },
      }));
      return sendJson(res, 200, { ...page, values });
    }

    return error(res, 404, 'Resource not found');
  };

  const handleWeb = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [ws, repoPart, ...rest] = parts;
    const slug = repoPart?.replace(/\.git$/, '');
    const repo = ws && slug ? repos.get(`${ws}/${slug}`) : undefined;
    const token = gitToken(req);
    const refuse = () => {
      req.resume();
      res
        .writeHead(401, {
          'www-authenticate': 'Basic realm="Bitbucket.org HTTP"',
          'content-type': 'text/plain',
        })
        .end('Unauthorized\n');
    };

    // Archive downloads: /<ws>/<repo>/get/<tag>.tar.gz
    if (repo && rest[0] === 'get' && rest.length === 2 && rest[1].endsWith('.tar.gz')) {
      if (repo.private && (!token || !canReach(token, ws, slug))) return refuse();
      const tag = rest[1].slice(0, -'.tar.gz'.length);
      const commit = await resolveCommit(repo.path, `refs/tags/${tag}`);
      if (!commit) {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>\n');
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/x-gzip',
        'content-disposition': `attachment; filename="${ws}-${slug}-${commit.slice(0, 12)}.tar.gz"`,
      });
      gitArchiveStream(repo.path, commit, `${ws}-${slug}-${commit.slice(0, 12)}`).pipe(res);
      return;
    }

    // Git smart HTTP: /<ws>/<repo>.git/...
    if (repo && repoPart.endsWith('.git')) {
      if (!token || !canReach(token, ws, slug)) return refuse();
      const pushing =
        rest.at(-1) === 'git-receive-pack' ||
        url.searchParams.get('service') === 'git-receive-pack';
      const writeScopes = ['write:repository:bitbucket', 'repository:write'];
      if (pushing && !writeScopes.some((scope) => scopesOf(token).includes(scope))) {
        req.resume();
        res
          .writeHead(403, { 'content-type': 'text/plain' })
          .end('Your credentials lack the required scope to push.\n');
        return;
      }
      const pushed = () => (repo.changedAt = stamp());
      await serveTrackingPush(req, res, repo.path, pushed, () =>
        serveGit(req, res, {
          projectRoot: root,
          pathInfo: `/${ws}/${slug}.git/${rest.join('/')}`,
          remoteUser: token.login,
        }),
      );
      return;
    }

    req.resume();
    res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>\n');
  };

  apiOrigin = await servers.start(handleApi, () => 'api');
  webOrigin = await servers.start(handleWeb, (path) =>
    path.includes('.git/') ? 'git' : 'archive',
  );

  return {
    provider: 'bitbucket-cloud',
    baseUrl: null,
    apiOrigin,
    gitOrigin: webOrigin,
    apiUrl: `${apiOrigin}/2.0`,
    webUrl: webOrigin,
    requests: servers.requests,

    connectionToken(secret) {
      const token = tokens.find((t) => t.value === secret);
      if (token && token.kind !== 'api-token') return secret;
      return `${token?.login ?? 'nobody'}@example.test:${secret}`;
    },
    addToken(token) {
      tokens.push({ kind: 'api-token', access: 'write', ...token });
    },
    addOwner(name) {
      owners.set(name, 'org');
    },
    async seedRepo(owner, name, options: SeedRepoOptions = {}) {
      if (!owners.has(owner)) throw new Error(`no workspace ${owner} in the double`);
      const path = repoPath(owner, name);
      await createSeededRepo(path, options);
      const created = stamp();
      repos.set(`${owner}/${name}`, {
        owner,
        name,
        private: options.private ?? true,
        topics: [],
        description: options.description ?? '',
        path,
        createdOn: created,
        changedAt: created,
      });
    },
    repoState(owner, name) {
      const repo = repos.get(`${owner}/${name}`);
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
