import type { WorkspaceStore } from '../../adapters/store/store-port.js';

/** The lease that lets one writer at a time touch an app's mirror, across gateway processes. */
export function mirrorLeaseKey(appId: string): string {
  return `sync:${appId}`;
}

/**
 * Takes the app's mirror lease for `holder`, asking again every `pollMs` until `waitMs` has
 * passed. Answers whether it was taken; the caller releases it.
 */
export async function waitForMirrorLease(
  workspace: WorkspaceStore,
  appId: string,
  options: { holder: string; ttlMs: number; waitMs: number; pollMs?: number },
): Promise<boolean> {
  const key = mirrorLeaseKey(appId);
  const deadline = Date.now() + options.waitMs;

  for (;;) {
    if (await workspace.acquireLease(key, options.holder, options.ttlMs)) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 100, left)));
  }
}
