import type { HintEvent, HintType } from './api-types.js';

const HINT_TYPES: HintType[] = [
  'app.updated',
  'source-control.status',
  'settings.updated',
  'catalog.updated',
];

type HintListener = (hint: HintEvent) => void;

const FIRST_RETRY_MS = 2_000;
const LAST_RETRY_MS = 30_000;

/**
 * The workspace's realtime hints (`GET /api/v1/events`, authenticated by the session cookie).
 * A hint says only what changed; pages refetch what they show. EventSource reconnects by itself
 * after a dropped connection, so a page also refetches when the stream comes back, for it may
 * have missed hints while it was away.
 */
export class LiveEvents {
  private source: EventSource | null = null;
  private readonly listeners = new Set<HintListener>();
  private readonly reconnectListeners = new Set<() => void>();
  private opened = false;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: number | undefined;

  start(): void {
    if (this.source) return;
    const source = new EventSource('/api/v1/events', { withCredentials: true });

    for (const type of HINT_TYPES) {
      source.addEventListener(type, (event) => this.dispatch((event as MessageEvent).data));
    }
    source.addEventListener('open', () => {
      if (this.opened) for (const listener of this.reconnectListeners) listener();
      this.opened = true;
      this.retryMs = FIRST_RETRY_MS;
      document.documentElement.dataset.live = 'open';
    });
    source.addEventListener('error', () => {
      document.documentElement.dataset.live = 'closed';
      // The browser retries a dropped stream by itself, but gives up for good on an answer that
      // is not a stream (a gateway restarting behind a proxy answers 502); start again later.
      if (source.readyState !== EventSource.CLOSED || this.source !== source) return;
      this.source = null;
      this.retryTimer = window.setTimeout(() => this.start(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, LAST_RETRY_MS);
    });
    this.source = source;
  }

  stop(): void {
    window.clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
    this.opened = false;
    this.retryMs = FIRST_RETRY_MS;
    delete document.documentElement.dataset.live;
  }

  /** Calls `listener` with every hint until the returned function is called. */
  subscribe(listener: HintListener, onReconnect?: () => void): () => void {
    this.listeners.add(listener);
    if (onReconnect) this.reconnectListeners.add(onReconnect);
    return () => {
      this.listeners.delete(listener);
      if (onReconnect) this.reconnectListeners.delete(onReconnect);
    };
  }

  private dispatch(data: unknown): void {
    if (typeof data !== 'string') return;
    let hint: HintEvent;
    try {
      hint = JSON.parse(data) as HintEvent;
    } catch {
      // A hint that is not JSON carries nothing to act on; the next one will.
      return;
    }
    for (const listener of this.listeners) listener(hint);
  }
}

/**
 * Coalesces a burst of hints into one call: a build produces several hints in a row (saved,
 * pending, synced), and one refetch after the burst shows the same result.
 */
/** Coalesces a burst of calls into one, run `ms` after the last. */
export function debounce(run: () => unknown, ms = 150): () => void {
  let timer: number | undefined;
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void run(), ms);
  };
}
