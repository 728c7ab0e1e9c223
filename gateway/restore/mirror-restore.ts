import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { tagOf, versionOfTag } from '../../core/manifest.js';
import type { AppRecord } from '../../core/model.js';
import type { GitRemote } from '../../adapters/providers/provider-port.js';
import type { SecretStore } from '../../adapters/secrets/secret-port.js';
import type { WorkspaceStore } from '../../adapters/store/store-port.js';
import { lsRemote, openMirror, type AppMirror } from '../../mirror/index.js';
import { mirrorLeaseKey, waitForMirrorLease } from '../sync/app-lease.js';
import { openProviderSession, type ProviderFactory } from '../source-control/provider-session.js';
import { RestoreCache } from './restore-cache.js';
import { RestoreTarFilter } from './restore-tar-filter.js';
import { verifyMirrorVersion } from './verify-mirror-version.js';

/** What a restore from source control needs: where mirrors live and how the remote is reached. */
export interface MirrorRestoreDeps {
  dataDir: string;
  secrets: SecretStore;
  providers: ProviderFactory;
  /** How long the remote gets to answer before the mirror is used as it stands. */
  remoteTimeoutMs: number;
  logger: Logger;
}

/** A backed app's version, verified and ready to stream. */
export interface MirrorRestore {
  version: number;
  sourceHash: string;
  /** True when the remote did not answer and the mirror was read as it stood. */
  fallback: boolean;
  body: Readable;
}

const LOCAL_TAGS = 'refs/tags/';
const REMOTE_TAGS = 'refs/remote-tags/';

/**
 * Reads one version of a source-control-backed app from its mirror. A mirror on disk is first
 * brought up to date with the remote (a remote that does not answer in time leaves it as it
 * stands); a missing mirror is rebuilt from the remote with only the tag needed, one commit deep.
 * The files are checked against the version's manifest before anything is streamed, leave
 * through the app-bundle filter, and fill the store as they pass.
 */
export async function restoreFromMirror(
  deps: MirrorRestoreDeps,
  workspace: WorkspaceStore,
  app: AppRecord,
  requested: number | null,
): Promise<MirrorRestore> {
  const logger = deps.logger.child({ appId: app.id });
  const mirror = openMirror({
    dataDir: deps.dataDir,
    workspaceId: workspace.workspaceId,
    appId: app.id,
    logger,
  });
  const recorded = await workspace.listVersions(app.id);
  const remote = async (): Promise<GitRemote> => {
    const repo = app.sourceControl.repo;
    if (!repo) throw new GatewayError('not_found', 'The app names no repository.');
    const session = await openProviderSession(workspace, deps.secrets, deps.providers, {
      timeoutMs: deps.remoteTimeoutMs,
    });
    return session.provider.gitRemote(repo);
  };

  let fallback = false;
  const remoteTags = new Set<number>();
  const lease = await takeMirrorLease(deps, workspace, app.id);
  try {
    if (!(await mirror.exists())) {
      const source = await remote();
      const wanted = requested ?? recorded[0]?.version ?? (await latestRemoteVersion(source, deps));
      await mirror.cloneMissing({
        remote: source,
        tag: tagOf(wanted),
        timeoutMs: deps.remoteTimeoutMs,
      });
      logger.info(`rebuilt the missing mirror of app ${app.id} with ${tagOf(wanted)} only`);
    } else if (!lease.held) {
      // A sync has held the mirror longer than the remote's time limit: it is fetching or
      // pushing itself, and the restore reads the refs it has moved so far.
      logger.info(
        `restore of app ${app.id}: a sync is writing the mirror; skipping the fetch and reading the mirror as that sync leaves it`,
      );
    } else {
      try {
        const state = await mirror.fetchRemote({
          remote: await remote(),
          timeoutMs: deps.remoteTimeoutMs,
        });
        for (const tag of state.tags) remoteTags.add(tag.version);
      } catch (error) {
        fallback = true;
        logger.warn(
          { code: isGatewayError(error) ? error.code : 'internal' },
          `restore of app ${app.id}: fetching from the remote failed; reading the mirror as it stands`,
        );
      }
    }
  } finally {
    await lease.release();
  }

  const localTags = new Set((await mirror.listTags()).map((tag) => tag.version));
  const version =
    requested ?? Math.max(0, ...localTags, ...remoteTags, ...recorded.map((v) => v.version));
  const rev = await revisionOf(mirror, version, localTags, remoteTags);
  if (rev === null) {
    if (fallback && recorded.some((v) => v.version === version)) {
      throw new GatewayError(
        'provider_unavailable',
        `The remote did not answer and the mirror does not hold ${tagOf(version)}.`,
      );
    }
    throw new GatewayError('not_found', 'The app has no such version.');
  }

  // The tag is read once, here: a fetch by another restore may move a remote tag at any time,
  // and the files checked must be the files streamed.
  const commit = await mirror.resolve(rev);
  if (commit === null) throw new GatewayError('not_found', 'The app has no such version.');

  const record = recorded.find((v) => v.version === version) ?? null;
  const verified = await verifyMirrorVersion(mirror, commit, record?.sourceHash ?? null);

  const cache = await RestoreCache.open({ workspace, files: verified.files, logger });
  const filter = new RestoreTarFilter({
    capture: cache.capture,
    onCaptured: (path, content) => cache.add(path, content),
  });
  const archive = await mirror.archive(commit, { includeManifest: false });
  const body = pipeline(archive, filter, (error) => {
    if (error) {
      logger.warn({ err: error }, `restore of ${tagOf(version)} of app ${app.id} ended early`);
      return;
    }
    if (filter.dropped.length > 0) {
      logger.warn(
        { dropped: filter.dropped.length },
        `restore of ${tagOf(version)} of app ${app.id} left out files the app-bundle filter drops`,
      );
    }
    void cache.finish();
  });

  return { version, sourceHash: verified.manifest.source.hash, fallback, body };
}

/**
 * The app's mirror lease, so that a restore's fetch or rebuild never runs beside a sync's
 * fetch, write or push (two git processes moving the same refs fail on each other's locks).
 * It waits as long as the remote may take to answer; a sync that holds the lease longer is
 * left to finish, and the lease is not taken.
 */
async function takeMirrorLease(
  deps: MirrorRestoreDeps,
  workspace: WorkspaceStore,
  appId: string,
): Promise<{ held: boolean; release(): Promise<void> }> {
  const holder = `restore:${newId()}`;
  const held = await waitForMirrorLease(workspace, appId, {
    holder,
    // Long enough for a rebuild of the mirror, which may take a few remote round trips.
    ttlMs: Math.max(60_000, 4 * deps.remoteTimeoutMs),
    waitMs: deps.remoteTimeoutMs,
  });
  return {
    held,
    async release() {
      if (!held) return;
      try {
        await workspace.releaseLease(mirrorLeaseKey(appId), holder);
      } catch (error) {
        deps.logger.warn(
          { err: error, appId },
          "releasing the restore's mirror lease failed; skipping, it expires by itself",
        );
      }
    },
  };
}

/** The ref to read for a version: the mirror's own tag first, else the remote's as fetched. */
async function revisionOf(
  mirror: AppMirror,
  version: number,
  localTags: ReadonlySet<number>,
  remoteTags: ReadonlySet<number>,
): Promise<string | null> {
  const tag = tagOf(version);
  if (localTags.has(version)) return `${LOCAL_TAGS}${tag}`;
  if (remoteTags.has(version)) return `${REMOTE_TAGS}${tag}`;

  // When the remote did not answer, a tag fetched by an earlier restore may still be there.
  const earlier = await mirror.resolve(`${REMOTE_TAGS}${tag}`);
  return earlier === null ? null : `${REMOTE_TAGS}${tag}`;
}

/** The newest version tag the remote advertises, for a mirror rebuilt with nothing recorded. */
async function latestRemoteVersion(remote: GitRemote, deps: MirrorRestoreDeps): Promise<number> {
  const refs = await lsRemote(remote, deps.remoteTimeoutMs);
  let latest = 0;
  for (const ref of refs.refs.keys()) {
    if (!ref.startsWith(LOCAL_TAGS)) continue;
    latest = Math.max(latest, versionOfTag(ref.slice(LOCAL_TAGS.length)) ?? 0);
  }
  if (latest === 0) throw new GatewayError('not_found', 'The remote holds no version yet.');
  return latest;
}
