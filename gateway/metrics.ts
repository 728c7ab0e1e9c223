import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus metrics, in a registry of their own (one per gateway instance). */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Records one answered request. `route` is the route pattern, never the raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Records one accepted build upload. */
  observeIngest(bytes: number, files: number): void;
  /** Counts a preview blob served from memory (`hit`) or read from the store (`miss`). */
  countPreviewCache(result: 'hit' | 'miss'): void;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop); on by default. */
  processMetrics?: boolean;
}

/** Creates the metrics of one gateway. */
export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const requestDuration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Time from the request to the answer, by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const ingestBytes = new Histogram({
    name: 'gateway_ingest_bytes',
    help: 'Bytes of the kept files of each accepted build snapshot.',
    buckets: [1e4, 1e5, 1e6, 1e7, 5e7, 1e8, 5e8, 1e9],
    registers: [registry],
  });

  const ingestFiles = new Histogram({
    name: 'gateway_ingest_files',
    help: 'Kept files of each accepted build snapshot.',
    buckets: [10, 50, 100, 500, 1000, 5000, 10_000, 50_000],
    registers: [registry],
  });

  const previewCache = new Counter({
    name: 'gateway_preview_cache_total',
    help: 'Preview file contents served from the in-process cache (hit) or read from the store (miss).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const previewHit = previewCache.labels('hit');
  const previewMiss = previewCache.labels('miss');

  // Label look-ups hash their values on every call; the hot routes reuse a bound child instead.
  const boundDurations = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let bound = boundDurations.get(key);
      if (bound === undefined) {
        bound = requestDuration.labels(method, route, String(status));
        boundDurations.set(key, bound);
      }
      bound.observe(seconds);
    },
    observeIngest(bytes, files) {
      ingestBytes.observe(bytes);
      ingestFiles.observe(files);
    },
    countPreviewCache(result) {
      (result === 'hit' ? previewHit : previewMiss).inc();
    },
  };
}
