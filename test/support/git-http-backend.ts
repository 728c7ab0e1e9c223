import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request answered by git's smart-HTTP server, as a test can inspect it afterwards. */
export interface GitRequestLogEntry {
  method: string;
  /** The path inside the project root, e.g. `/acme/app.git/info/refs`. */
  path: string;
  /** The authenticated user, or null when the request carried none. */
  user: string | null;
  status: number;
}

export interface ServeGitOptions {
  /** The folder that holds the bare repositories (`GIT_PROJECT_ROOT`). */
  projectRoot: string;
  /** The repository path and service, e.g. `/acme/app.git/git-upload-pack`. */
  pathInfo: string;
  remoteUser?: string;
  log?: (entry: GitRequestLogEntry) => void;
}

// The test server's own git must not read the machine's or the user's config either: a
// developer's global `url.insteadOf` or hooks would otherwise change what the tests see.
const HARDENED_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

/** Runs git's own smart-HTTP server (`git http-backend`, CGI) for one request. */
export function serveGit(req: IncomingMessage, res: ServerResponse, opts: ServeGitOptions): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: opts.projectRoot,
    ...HARDENED_ENV,
    GIT_PROJECT_ROOT: opts.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: opts.pathInfo,
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: url.search.replace(/^\?/, ''),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
  };
  if (opts.remoteUser) env.REMOTE_USER = opts.remoteUser;
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;

  const child = spawn('git', ['-c', 'http.receivepack=true', 'http-backend'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const finish = (status: number) =>
    opts.log?.({
      method: req.method ?? 'GET',
      path: opts.pathInfo,
      user: opts.remoteUser ?? null,
      status,
    });

  // A client that goes away mid-request must not leave the CGI process behind.
  res.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.on('error', () => {
    if (!res.headersSent) {
      res.writeHead(500).end();
      finish(500);
    }
  });
  child.stderr.resume();
  child.stdin.on('error', () => undefined);
  req.pipe(child.stdin);

  let head = Buffer.alloc(0);
  let headerDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headerDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const split = findHeaderEnd(head);
    if (!split) return;

    headerDone = true;
    const { status, headers } = parseCgiHeaders(head.subarray(0, split.at).toString('latin1'));
    res.writeHead(status, headers);
    finish(status);
    const rest = head.subarray(split.at + split.length);
    if (rest.length > 0) res.write(rest);
  });
  child.stdout.on('end', () => {
    if (!headerDone) {
      res.writeHead(502).end();
      finish(502);
      return;
    }
    res.end();
  });
}

function findHeaderEnd(buf: Buffer): { at: number; length: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return null;
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

function parseCgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      status = Number.parseInt(value, 10) || 500;
      continue;
    }
    headers[name] = value;
  }
  return { status, headers };
}

/** Creates a bare repository with branch `main` that accepts pushes over smart HTTP. */
export async function createBareRepo(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
  await runGit(['init', '--quiet', '--bare', '-b', 'main', path]);
  await runGit(['--git-dir', path, 'config', 'http.receivepack', 'true']);
}

function runGit(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: { PATH: process.env.PATH, HOME: '/nonexistent', ...HARDENED_ENV },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`git ${args[0]} failed: ${stderr.trim()}`)),
    );
  });
}
