import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBareRepo, serveGit } from './git-http-backend.js';

/** What the server does with the next requests. */
export type GitServerMode = 'ok' | 'unavailable' | 'hang';

export interface GitServerRequest {
  method: string;
  path: string;
  /** The Basic-auth user name the request carried, or null. */
  user: string | null;
  status: number;
}

/** A plain git host over smart HTTP on 127.0.0.1: `<baseUrl>/<owner>/<repo>.git`. */
export interface GitServer {
  /** `http://127.0.0.1:<port>`, with no trailing slash. */
  baseUrl: string;
  /** The temporary folder holding `<owner>/<repo>.git`. */
  root: string;
  /** Creates an empty bare repository and answers its path on disk. */
  createRepo(owner: string, name: string): Promise<string>;
  repoPath(owner: string, name: string): string;
  /** Every request answered (or refused), in arrival order. */
  requests: GitServerRequest[];
  setMode(mode: GitServerMode): void;
  /** Ends every connection, the hanging ones included, and removes the root. */
  close(): Promise<void>;
}

export interface GitServerOptions {
  /** Accepts or refuses a Basic-auth pair. Absent: every request must still carry one. */
  checkAuth?: (user: string, pass: string) => boolean;
}

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Starts a git server on an ephemeral loopback port, backed by `git http-backend`. */
export async function startGitServer(opts: GitServerOptions = {}): Promise<GitServer> {
  const root = await mkdtemp(join(tmpdir(), 'git-server-'));
  const requests: GitServerRequest[] = [];
  const sockets = new Set<Socket>();
  let mode: GitServerMode = 'ok';

  const record = (req: IncomingMessage, path: string, user: string | null, status: number) =>
    requests.push({ method: req.method ?? 'GET', path, user, status });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;

    if (mode === 'hang') {
      // Read the body so the client sees a connection that accepted everything and then went
      // silent, the way an overloaded proxy behaves.
      req.resume();
      return;
    }
    if (mode === 'unavailable') {
      req.resume();
      record(req, path, null, 503);
      res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable\n');
      return;
    }

    const credential = parseBasic(req.headers.authorization);
    const accepted = credential && (opts.checkAuth?.(credential.user, credential.pass) ?? true);
    if (!credential || !accepted) {
      req.resume();
      record(req, path, credential?.user ?? null, 401);
      res
        .writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' })
        .end('Unauthorized\n');
      return;
    }

    serveGit(req, res, {
      projectRoot: root,
      pathInfo: path,
      remoteUser: credential.user,
      log: (entry) => requests.push(entry),
    });
  };

  const server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const repoPath = (owner: string, name: string) => {
    if (!SEGMENT.test(owner) || !SEGMENT.test(name) || owner.startsWith('.')) {
      throw new Error(`not a repository name for the test server: ${owner}/${name}`);
    }
    return join(root, owner, `${name}.git`);
  };

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    root,
    requests,
    repoPath,
    async createRepo(owner, name) {
      const path = repoPath(owner, name);
      await createBareRepo(path);
      return path;
    },
    setMode(next) {
      mode = next;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await rm(root, { recursive: true, force: true });
    },
  };
}

function parseBasic(header: string | undefined): { user: string; pass: string } | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice('Basic '.length).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}
