import type { GitRemote } from '../../adapters/providers/provider-port.js';
import type { SnapshotFile } from '../../core/model.js';

/** A version written into the app's mirror and not yet pushed. */
export interface PreparedVersion {
  version: number;
  tag: string;
  commitSha: string;
  /** The remote's `main` had commits the mirror did not make; the version sits on top of them. */
  outsideCommits: boolean;
}

export interface PrepareVersionInput {
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
}

export interface PrepareManifestInput {
  workspaceId: string;
  appId: string;
  remote: GitRemote;
  manifest: Buffer;
  createdAt: string;
  timeoutMs: number;
}

/**
 * What the sync pipeline needs of the mirror: write a version locally (the store records it),
 * then push it (the store records that). Splitting the two keeps DESIGN §6's order of steps.
 */
export interface VersionWriter {
  prepare(input: PrepareVersionInput): Promise<PreparedVersion>;
  /** Pushes `main` and, when given, the tag, in one atomic push. */
  push(input: {
    workspaceId: string;
    appId: string;
    remote: GitRemote;
    tag: string | null;
    timeoutMs: number;
  }): Promise<void>;
  /** Commits a new manifest on `main` with the same files and no new tag; answers the commit. */
  prepareManifestCommit(
    input: PrepareManifestInput,
  ): Promise<{ commitSha: string; outsideCommits: boolean }>;
}
