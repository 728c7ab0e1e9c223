import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real HTTP proxy in front of a GitHub Enterprise double that forwards every request as it
 * is, except archive downloads (`/_codeload/...`, where the tarball's 302 leads), which it can
 * answer with chosen bytes (how a provider that serves a hostile archive looks to the gateway),
 * and one path it can fail (how one repository the provider cannot read looks).
 * Redirects from the double are rewritten to come back through the proxy.
 */
export interface ArchiveSwapProxy {
  /** The proxy's origin, `http://127.0.0.1:<port>`. */
  origin: string;
  /** The bytes the next archive downloads get (gzip or plain tar), or null to pass through. */
  serveArchive(bytes: Buffer | null): void;
  /** Answers requests to these exact paths with a GitHub-shaped server error. */
  failPaths(paths: string[]): void;
  close(): Promise<void>;
}

export async function startArchiveSwapProxy(targetOrigin: string): Promise<ArchiveSwapProxy> {
  const target = new URL(targetOrigin);
  const sockets = new Set<Socket>();
  let swapped: Buffer | null = null;
  let failing = new Set<string>();
  let origin = '';

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        const headers = { ...answer.headers };
        if (typeof headers.location === 'string' && headers.location.startsWith(targetOrigin)) {
          headers.location = origin + headers.location.slice(targetOrigin.length);
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    if (failing.has(path)) {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ message: 'Server Error' }));
      return;
    }
    if (swapped !== null && path.startsWith('/_codeload/')) {
      req.resume();
      res.writeHead(200, {
        'content-type': 'application/x-gzip',
        'content-length': String(swapped.length),
      });
      res.end(swapped);
      return;
    }
    forward(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    serveArchive(bytes) {
      swapped = bytes;
    },
    failPaths(paths) {
      failing = new Set(paths);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
