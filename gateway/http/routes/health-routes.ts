import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../../metrics.js';
import type { Readiness } from '../../readiness.js';

export interface HealthRouteDeps {
  readiness: Readiness;
  metrics: GatewayMetrics;
}

/** `/healthz` (the process answers), `/readyz` (it can do its work) and `/metrics`. */
export async function healthRoutes(app: FastifyInstance, deps: HealthRouteDeps): Promise<void> {
  app.get('/healthz', async (_request, reply) => {
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });

  app.get('/readyz', async (_request, reply) => {
    const report = await deps.readiness.check();
    return reply
      .code(report.ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply
      .header('cache-control', 'no-store')
      .type(deps.metrics.registry.contentType)
      .send(text);
  });
}
