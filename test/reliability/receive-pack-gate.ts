import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the gate does with the next push: `drop` keeps it from the git server (the crash comes
 * before the remote saw anything), `deliver` lets the git server take it whole but never answers
 * the pusher (the remote moved, the gateway never heard).
 */
export type GateMode = 'drop' | 'deliver';

/** An HTTP proxy in front of the git server that can hold one push in flight. */
export interface ReceivePackGate {
  /** Where the gateway is told the git server is. */
  baseUrl: string;
  /**
   * Catches the next `git-receive-pack` POST; settles once the push is in flight (its whole
   * body read; with `deliver`, also applied by the git server). Every other request passes.
   */
  arm(mode: GateMode): Promise<void>;
  close(): Promise<void>;
}

/** Starts the gate on an ephemeral loopback port, forwarding to `upstream`. */
export async function startReceivePackGate(upstream: string): Promise<ReceivePackGate> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  let armed: { mode: GateMode; caught: () => void; failed: (error: Error) => void } | null = null;

  const server = createServer((req, res) => {
    const catching = armed && req.method === 'POST' && req.url?.endsWith('/git-receive-pack');
    if (!catching) {
      const forwarded = forward(req, target);
      forwarded.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forwarded.on('error', () => res.destroy());
      req.pipe(forwarded);
      return;
    }

    const hold = armed!;
    armed = null;
    void readBody(req).then(async (body) => {
      try {
        if (hold.mode === 'deliver') await deliver(req, body, target);
        hold.caught();
      } catch (error) {
        hold.failed(error as Error);
      }
      // The pusher's request stays open and unanswered until its process dies.
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    arm(mode) {
      return new Promise<void>((caught, failed) => {
        armed = { mode, caught, failed };
      });
    },
    async close() {
      const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function forward(req: IncomingMessage, target: URL) {
  return request({
    host: target.hostname,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: { ...req.headers, host: target.host },
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Sends a held push to the git server and reads its whole answer, so the push is applied. */
async function deliver(req: IncomingMessage, body: Buffer, target: URL): Promise<void> {
  const headers = { ...req.headers, host: target.host };
  delete headers['transfer-encoding'];
  headers['content-length'] = String(body.length);
  await new Promise<void>((resolveDelivery, reject) => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: 'POST', path: req.url, headers },
      (answer) => {
        answer.resume();
        answer.on('end', () =>
          answer.statusCode === 200
            ? resolveDelivery()
            : reject(new Error(`the git server answered the held push ${answer.statusCode}`)),
        );
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}
