import type { Logger } from 'pino';
import type { GitRemote } from '../../adapters/providers/provider-port.js';
import type { SnapshotFile } from '../../core/model.js';
import { openMirror, type PublishedManifest, type PublishedVersion } from '../../mirror/index.js';

export interface PublishInput {
  workspaceId: string;
  appId: string;
  remote: GitRemote;
  files: readonly SnapshotFile[];
  readBlob: (sha256: string) => Promise<Buffer>;
  /** The manifest bytes for a version number (the number is final only once tags are known). */
  manifestFor: (version: number) => Buffer;
  summary: string;
  createdAt: string;
  /** The number the version gets unless the remote already holds that tag. */
  nextVersion: number;
  timeoutMs: number;
  /** Records the version once it is in the mirror, before the push (DESIGN §6). */
  onWritten: (written: PublishedVersion) => Promise<void>;
}

export interface ShareInput {
  workspaceId: string;
  appId: string;
  remote: GitRemote;
  manifest: Buffer;
  createdAt: string;
  timeoutMs: number;
}

/** What the sync pipeline needs of the mirror. */
export interface VersionWriter {
  /** Fetch, choose number and parent, write, record, push: converges when run again. */
  publish(input: PublishInput): Promise<PublishedVersion>;
  /**
   * Commits a new manifest on `main` (same files, no new tag) and pushes `main`; on the remote's
   * tip when it moved past ours.
   */
  share(input: ShareInput): Promise<PublishedManifest>;
  /** Repacks the app's mirror when git finds it due (`gc --auto`). */
  maintain(workspaceId: string, appId: string): Promise<void>;
}

/** The version writer over the app mirrors under `dataDir`. */
export function mirrorVersionWriter(options: { dataDir: string; logger: Logger }): VersionWriter {
  const mirrorOf = (workspaceId: string, appId: string) =>
    openMirror({ dataDir: options.dataDir, workspaceId, appId, logger: options.logger });

  return {
    publish: (input) =>
      mirrorOf(input.workspaceId, input.appId).publishVersion({
        files: input.files,
        readBlob: input.readBlob,
        manifestFor: input.manifestFor,
        summary: input.summary,
        createdAt: input.createdAt,
        version: input.nextVersion,
        remote: input.remote,
        timeoutMs: input.timeoutMs,
        onWritten: input.onWritten,
      }),

    maintain: (workspaceId, appId) => mirrorOf(workspaceId, appId).maintain(),

    share: (input) =>
      mirrorOf(input.workspaceId, input.appId).publishManifest({
        manifest: input.manifest,
        createdAt: input.createdAt,
        remote: input.remote,
        timeoutMs: input.timeoutMs,
      }),
  };
}
