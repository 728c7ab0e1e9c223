import type { Readable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { GitRemote } from '../adapters/providers/provider-port.js';
import { GatewayError } from '../core/errors.js';
import { archiveTree } from './archive.js';
import { cloneMissing, type CloneMissingInput } from './clone-missing.js';
import { mirrorExists } from './create-mirror.js';
import { fetchRemote, type RemoteState } from './fetch-remote.js';
import { listTreeFiles, type TreeEntry } from './list-files.js';
import { maintainMirror } from './maintain.js';
import {
  writeManifestCommit,
  type ManifestCommitInput,
  type ManifestCommitResult,
} from './manifest-commit.js';
import type { MirrorContext } from './mirror-context.js';
import { mirrorPath } from './mirror-location.js';
import { planVersion, type PlanInput, type VersionPlan } from './plan-version.js';
import {
  publishVersion,
  type PublishedVersion,
  type PublishVersionInput,
} from './publish-version.js';
import {
  publishManifest,
  type PublishedManifest,
  type PublishManifestInput,
} from './publish-manifest.js';
import { pushRefs, type PushInput } from './push-refs.js';
import { readTreeFile } from './read-file.js';
import { listVersionTags, resolveCommit, type VersionTag } from './refs.js';
import { DEFAULT_LOCK_GRACE_MS } from './stale-locks.js';
import { writeVersion, type WriteVersionInput, type WriteVersionResult } from './write-version.js';

export interface OpenMirrorOptions {
  dataDir: string;
  workspaceId: string;
  appId: string;
  logger?: Logger;
  /** Timeout of one local git process, in ms (default 120 s: an L-size write takes seconds). */
  gitTimeoutMs?: number;
  /** Age of a lock file taken for a crashed writer's leftover, in ms (default 10 min). */
  lockGraceMs?: number;
}

/** One app's bare repository and everything the gateway does with it. */
export interface AppMirror {
  /** `<dataDir>/mirrors/<workspaceId>/<appId>.git`. */
  readonly gitDir: string;
  /** True when the repository exists on disk. */
  exists(): Promise<boolean>;
  /** Writes a version (commit + annotated tag, `main` and tag moved together); idempotent. */
  writeVersion(input: WriteVersionInput): Promise<WriteVersionResult>;
  /** A commit on `main` changing only `second-app.json`; no tag. */
  writeManifestCommit(input: ManifestCommitInput): Promise<ManifestCommitResult>;
  /** fetch → manifest commit on the newer `main` → push `main`, in one call (sharing). */
  publishManifest(input: PublishManifestInput): Promise<PublishedManifest>;
  /** Pushes `main` and tags atomically, never forced. */
  push(input: PushInput): Promise<void>;
  /** Fetches the remote's `main` and version tags into their own namespaces. */
  fetchRemote(input: { remote: GitRemote; timeoutMs: number }): Promise<RemoteState>;
  /** Chooses version number and parent against the remote as fetched. */
  planVersion(input: PlanInput): Promise<VersionPlan>;
  /** fetch → plan → write → `onWritten` → push, in one call; converges when retried. */
  publishVersion(input: PublishVersionInput): Promise<PublishedVersion>;
  /** The files of a revision (path, mode, size, git blob id, and sha256 when asked). */
  listFiles(rev: string, options?: { sha256?: boolean }): Promise<TreeEntry[]>;
  /** A tar of a revision's files; refused for trees with unsafe names, links or submodules. */
  archive(
    rev: string,
    options?: { includeManifest?: boolean; timeoutMs?: number },
  ): Promise<Readable>;
  /** One file's bytes at a revision, or null. */
  readFile(rev: string, path: string): Promise<Buffer | null>;
  hasTag(tag: string): Promise<boolean>;
  /** The local version tags, oldest first. */
  listTags(): Promise<VersionTag[]>;
  /** The commit a revision names, or null. */
  resolve(rev: string): Promise<string | null>;
  /** Rebuilds a missing mirror from the remote (one tag shallowly, or everything). */
  cloneMissing(input: CloneMissingInput): Promise<boolean>;
  /** `git gc --auto`, for a scheduler; writes never run it themselves. */
  maintain(timeoutMs?: number): Promise<void>;
}

/** Opens (does not create) the mirror of one app; the repository is created on first write. */
export function openMirror(options: OpenMirrorOptions): AppMirror {
  const ctx: MirrorContext = Object.freeze({
    gitDir: mirrorPath(options.dataDir, options.workspaceId, options.appId),
    logger: (options.logger ?? pino({ level: 'silent' })).child({ appId: options.appId }),
    gitTimeoutMs: options.gitTimeoutMs ?? 120_000,
    lockGraceMs: options.lockGraceMs ?? DEFAULT_LOCK_GRACE_MS,
  });

  const commitOf = async (rev: string) => {
    const commit = await resolveCommit(ctx.gitDir, rev, ctx.gitTimeoutMs);
    if (!commit) throw new GatewayError('not_found', 'The mirror has no such version.');
    return commit;
  };

  return {
    gitDir: ctx.gitDir,
    exists: () => mirrorExists(ctx.gitDir),
    writeVersion: (input) => writeVersion(ctx, input),
    writeManifestCommit: (input) => writeManifestCommit(ctx, input),
    publishManifest: (input) => publishManifest(ctx, input),
    push: (input) => pushRefs(ctx, input),
    fetchRemote: (input) => fetchRemote(ctx, input),
    planVersion: (input) => planVersion(ctx, input),
    publishVersion: (input) => publishVersion(ctx, input),
    listFiles: async (rev, opts = {}) =>
      listTreeFiles(ctx.gitDir, await commitOf(rev), {
        sha256: opts.sha256,
        timeoutMs: ctx.gitTimeoutMs,
      }),
    archive: async (rev, opts = {}) =>
      archiveTree(ctx.gitDir, await commitOf(rev), {
        includeManifest: opts.includeManifest ?? false,
        timeoutMs: opts.timeoutMs ?? ctx.gitTimeoutMs,
      }),
    readFile: async (rev, path) => {
      const commit = await resolveCommit(ctx.gitDir, rev, ctx.gitTimeoutMs);
      return commit ? readTreeFile(ctx.gitDir, commit, path, ctx.gitTimeoutMs) : null;
    },
    hasTag: async (tag) =>
      (await listVersionTags(ctx.gitDir, ctx.gitTimeoutMs)).some((t) => t.name === tag),
    listTags: () => listVersionTags(ctx.gitDir, ctx.gitTimeoutMs),
    resolve: (rev) => resolveCommit(ctx.gitDir, rev, ctx.gitTimeoutMs),
    cloneMissing: (input) => cloneMissing(ctx, input),
    maintain: (timeoutMs = 10 * 60_000) => maintainMirror(ctx, timeoutMs),
  };
}
