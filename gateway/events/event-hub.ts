import { EventEmitter } from 'node:events';
import type { SyncStatus } from '../../core/model.js';

export type EventType =
  'app.updated' | 'source-control.status' | 'settings.updated' | 'catalog.updated';

/**
 * A realtime invalidation hint (DESIGN §9, §12): what changed, never the change itself. All five
 * keys are always present, null where they do not apply.
 */
export interface HintEvent {
  type: EventType;
  appId: string | null;
  version: number | null;
  status: SyncStatus | null;
  at: string;
}

/** Fans hints out to the event streams of one workspace; nothing crosses workspaces. */
export class EventHub {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every open browser tab holds one listener; the default warning at 10 is not a leak here.
    this.emitter.setMaxListeners(0);
  }

  publish(
    workspaceId: string,
    hint: {
      type: EventType;
      appId?: string | null;
      version?: number | null;
      status?: SyncStatus | null;
    },
  ): void {
    const event: HintEvent = {
      type: hint.type,
      appId: hint.appId ?? null,
      version: hint.version ?? null,
      status: hint.status ?? null,
      at: new Date().toISOString(),
    };
    this.emitter.emit(workspaceId, event);
  }

  /** Calls `listener` with each hint of the workspace until the returned function is called. */
  subscribe(workspaceId: string, listener: (event: HintEvent) => void): () => void {
    this.emitter.on(workspaceId, listener);
    return () => this.emitter.off(workspaceId, listener);
  }

  listenerCount(workspaceId: string): number {
    return this.emitter.listenerCount(workspaceId);
  }
}
