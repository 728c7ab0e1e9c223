import type { WorkspaceReader } from './store-port.js';

/**
 * The reader methods, listed once. Typed as a record over the reader's keys so that a method added
 * to `WorkspaceReader` and forgotten here fails to compile instead of silently missing.
 */
const READER_METHODS: Record<Exclude<keyof WorkspaceReader, 'workspaceId'>, true> = {
  getApp: true,
  listApps: true,
  getSnapshot: true,
  getBlob: true,
  hasBlobs: true,
  getBuild: true,
  listBuilds: true,
  getVersion: true,
  listVersions: true,
  getSettings: true,
  getJob: true,
  unfinishedJobsOfApp: true,
  unfinishedJobsOfWorkspace: true,
  listAudit: true,
  getSecret: true,
};

/**
 * A new, frozen object holding only the reader methods of `view`, each a closure over it. It is
 * not `view` cast to a narrower type: nothing reachable from it, its prototype included, can write.
 */
export function readerView(view: WorkspaceReader): WorkspaceReader {
  const reader: Record<string, unknown> = { workspaceId: view.workspaceId };
  for (const name of Object.keys(READER_METHODS) as (keyof typeof READER_METHODS)[]) {
    const method = view[name] as (...args: unknown[]) => unknown;
    reader[name] = (...args: unknown[]) => method.apply(view, args);
  }
  return Object.freeze(reader) as unknown as WorkspaceReader;
}
