import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { DoubleMode, DoubleRequest } from '../provider-double.js';
import { parseBasicAuth } from '../provider-double.js';

/**
 * The HTTP plumbing the fetch-based provider doubles (Bitbucket Cloud, Bitbucket Data Center,
 * Gitea) share: loopback servers on ephemeral ports, the request log, and the failure modes
 * that need no knowledge of the provider (`down`, `unreachable`). Each double answers its own
 * routes, rate limits included, since those differ per provider.
 */
export interface DoubleServers {
  readonly requests: DoubleRequest[];
  mode: DoubleMode;
  /** Starts one server; `kind` says what it serves when the path does not say otherwise. */
  start(handler: DoubleHandler, classify: (path: string) => DoubleRequest['kind']): Promise<string>;
  /** True once when the double was told to answer the next API request with a rate limit. */
  takeRateLimit(): boolean;
  close(): Promise<void>;
}

export type DoubleHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

/** Creates the shared plumbing; servers start with `start`. */
export function createDoubleServers(): DoubleServers {
  const requests: DoubleRequest[] = [];
  const sockets = new Set<Socket>();
  const servers: ReturnType<typeof createServer>[] = [];

  const state: DoubleServers = {
    requests,
    mode: 'ok',

    async start(handler, classify) {
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const kind = classify(url.pathname);
        const gitUser =
          kind === 'git' ? (parseBasicAuth(req.headers.authorization)?.user ?? null) : null;
        const record = (status: number) =>
          requests.push({
            method: req.method ?? 'GET',
            path: url.pathname,
            query: url.search.replace(/^\?/, ''),
            status,
            kind,
            gitUser,
          });

        if (state.mode === 'unreachable') {
          record(0);
          req.socket.destroy();
          return;
        }
        if (state.mode === 'down') {
          req.resume();
          record(503);
          res
            .writeHead(503, { 'content-type': 'text/html' })
            .end('<h1>503 Service Unavailable</h1>\n');
          return;
        }

        res.on('finish', () => record(res.statusCode));
        handler(req, res, url).catch((error: unknown) => {
          if (res.headersSent) {
            res.destroy();
            return;
          }
          const message = error instanceof Error ? error.message : String(error);
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`double failed: ${message}\n`);
        });
      });
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },

    takeRateLimit() {
      if (state.mode !== 'rate_limited_once') return false;
      state.mode = 'ok';
      return true;
    },

    async close() {
      const closed = servers.map(
        (server) => new Promise<void>((resolve) => server.close(() => resolve())),
      );
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    },
  };
  return state;
}

/** Writes a JSON answer. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    })
    .end(text);
}

/** The page size a listing asks for, bounded by the provider's maximum and the double's cap. */
export function pageSize(raw: string | null, fallback: number, cap: number): number {
  const asked = Number.parseInt(raw ?? '', 10);
  const size = Number.isFinite(asked) && asked > 0 ? asked : fallback;
  return Math.max(1, Math.min(size, cap));
}

/** A Bearer token of an `Authorization` header, or null. */
export function parseBearer(header: string | undefined): string | null {
  if (!header?.startsWith('Bearer ')) return null;
  return header.slice('Bearer '.length).trim();
}
