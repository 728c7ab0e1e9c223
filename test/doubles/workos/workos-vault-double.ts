import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A WorkOS Vault key-value API on loopback: the object endpoints of
 * https://workos.com/docs/reference/vault/object (create, read by name, update, delete), with
 * the object shape `{id, name, value, metadata}` and the error envelope `{message}`.
 */
export interface WorkosVaultDouble {
  baseUrl: string;
  apiKey: string;
  /** Stored objects by name, as the double holds them. */
  objects: Map<
    string,
    { id: string; name: string; value: string; context: Record<string, string> }
  >;
  requests: { method: string; path: string; status: number; body: string }[];
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startWorkosVaultDouble(apiKey = 'sk_test_vault'): Promise<WorkosVaultDouble> {
  const objects: WorkosVaultDouble['objects'] = new Map();
  const requests: WorkosVaultDouble['requests'] = [];
  let down = false;

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };

  const metadata = (o: { id: string; context: Record<string, string> }) => ({
    id: o.id,
    context: o.context,
    environment_id: 'environment_test',
    key_id: 'key_test',
    updated_at: new Date().toISOString(),
    updated_by: { id: 'key_test', name: 'test' },
    version_id: randomUUID(),
  });

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const path = url.pathname;
    if (down) return send(res, 503, { message: 'Service Unavailable' });
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return send(res, 401, { message: 'Unauthorized' });
    }

    const byName = /^\/vault\/v1\/kv\/name\/([^/]+)$/.exec(path);
    const byId = /^\/vault\/v1\/kv\/([^/]+)$/.exec(path);

    if (req.method === 'POST' && path === '/vault/v1/kv') {
      const body = JSON.parse(raw) as {
        name: string;
        value: string;
        key_context: Record<string, string>;
      };
      if (objects.has(body.name)) return send(res, 409, { message: 'Object already exists' });
      const object = {
        id: `secret_${randomUUID().replace(/-/g, '')}`,
        name: body.name,
        value: body.value,
        context: body.key_context,
      };
      objects.set(body.name, object);
      return send(res, 201, metadata(object));
    }
    if (req.method === 'GET' && byName) {
      const object = objects.get(decodeURIComponent(byName[1]!));
      if (!object) return send(res, 404, { message: 'Object not found' });
      return send(res, 200, {
        id: object.id,
        name: object.name,
        value: object.value,
        metadata: metadata(object),
      });
    }
    const found = byId
      ? [...objects.values()].find((o) => o.id === decodeURIComponent(byId[1]!))
      : undefined;
    if (req.method === 'PUT' && byId) {
      if (!found) return send(res, 404, { message: 'Object not found' });
      found.value = (JSON.parse(raw) as { value: string }).value;
      return send(res, 200, { id: found.id, name: found.name, metadata: metadata(found) });
    }
    if (req.method === 'DELETE' && byId) {
      if (!found) return send(res, 404, { message: 'Object not found' });
      objects.delete(found.name);
      res.writeHead(204).end();
      return;
    }
    return send(res, 404, { message: 'Not Found' });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      res.on('finish', () =>
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          status: res.statusCode,
          body: raw,
        }),
      );
      void handle(req, res, raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey,
    objects,
    requests,
    setDown: (value) => {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
