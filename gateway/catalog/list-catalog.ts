import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../../core/errors.js';
import { parseManifest, type AppManifest } from '../../core/manifest.js';
import type { AppRecord, ErrorInfo, SettingsRecord } from '../../core/model.js';
import { MANIFEST_PATH } from '../../core/source-hash.js';
import type { ProviderAdapter, RepoInfo } from '../../adapters/providers/provider-port.js';
import type { WorkspaceReader } from '../../adapters/store/store-port.js';
import { APP_TOPIC } from '../sync/sync-job.js';
import { openCatalogSession, type CatalogAccess } from './catalog-session.js';
import type { ManifestCache, ManifestKey } from './manifest-cache.js';

/** One repository of Available Apps, as the API shows it (DESIGN §12). */
export interface CatalogEntry {
  repo: string;
  owner: string;
  appName: string | null;
  version: number | null;
  tag: string | null;
  commitSha: string | null;
  installedAppId: string | null;
  installedVersion: number | null;
  updateAvailable: boolean;
  error: ErrorInfo | null;
}

/** What a listing needs: provider access, the manifest cache, and its bounds. */
export interface CatalogListDeps extends CatalogAccess {
  cache: ManifestCache;
  logger: Logger;
  /** Manifests read at once (default 8). */
  concurrency?: number;
  /** Time a refresh may take overall, in ms; repositories not read by then show an error. */
  timeBudgetMs?: number;
}

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_TIME_BUDGET_MS = 60_000;

/** What reading one repository's manifest found. */
type ManifestRead =
  | { kind: 'manifest'; manifest: AppManifest }
  | { kind: 'none' }
  | { kind: 'failed'; error: ErrorInfo; stale: AppManifest | null };

/**
 * Available Apps: the repositories under the configured owner whose root manifest on the
 * default branch is valid and says `availableInCatalog: true`. The topic only orders the reads
 * (tagged repositories first, so they are read before a time or rate limit runs out); the
 * manifest decides. A repository that could not be read shows its own error, when it is known
 * or likely to be an app, instead of failing the whole list. Reads only: nothing is written.
 */
export async function listCatalog(
  deps: CatalogListDeps,
  reader: WorkspaceReader,
): Promise<CatalogEntry[]> {
  const { settings, provider } = await openCatalogSession(deps, reader);
  const deadline = Date.now() + (deps.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS);

  const repos: RepoInfo[] = [];
  for await (const repo of provider.listRepos()) repos.push(repo);
  const tagged = await taggedNames(provider, repos);
  const ordered = [
    ...repos.filter((repo) => tagged.has(repo.name)),
    ...repos.filter((repo) => !tagged.has(repo.name)),
  ];

  const keyOf = (repo: RepoInfo): ManifestKey => ({
    workspaceId: reader.workspaceId,
    provider: settings.provider,
    baseUrl: settings.baseUrl,
    owner: settings.owner,
    repo: repo.name,
    ref: repo.defaultBranch ?? 'HEAD',
  });

  // Once the provider says the rate limit is spent, the remaining reads would only spend more
  // time to fail the same way.
  let stopped: ErrorInfo | null = null;
  const read = async (repo: RepoInfo): Promise<ManifestRead> => {
    const key = keyOf(repo);
    // Asks nothing of the provider, so it holds even once the rate limit or the time is spent.
    if (deps.cache.knownAbsent(key, repo.changedAt)) return { kind: 'none' };
    const cached = deps.cache.get(key);
    if (stopped !== null)
      return { kind: 'failed', error: stopped, stale: cached?.manifest ?? null };
    if (Date.now() > deadline) {
      const error = {
        code: 'provider_unavailable',
        message: 'Not read within the time a refresh may take; refresh again to read it.',
      };
      return { kind: 'failed', error, stale: cached?.manifest ?? null };
    }
    try {
      return await readManifest(provider, deps.cache, key, repo);
    } catch (error) {
      const info = errorInfoOf(error);
      if (info.code === 'rate_limited') stopped = info;
      return { kind: 'failed', error: info, stale: cached?.manifest ?? null };
    }
  };

  const queue = new PQueue({ concurrency: deps.concurrency ?? DEFAULT_CONCURRENCY });
  const reads = await Promise.all(ordered.map((repo) => queue.add(() => read(repo))));

  const installed = installedCopies(await reader.listApps(), settings);
  const entries: CatalogEntry[] = [];
  const listed: { entry: CatalogEntry; repo: RepoInfo }[] = [];
  let failures = 0;
  ordered.forEach((repo, i) => {
    const found = reads[i]!;
    if (found.kind === 'none') return;
    if (found.kind === 'manifest') {
      if (found.manifest.sourceControl.availableInCatalog) {
        const entry = entryOf(repo, settings, found.manifest, installed.get(repo.name), null);
        entries.push(entry);
        listed.push({ entry, repo });
      }
      return;
    }
    failures += 1;
    const stale = found.stale?.sourceControl.availableInCatalog ? found.stale : null;
    if (stale === null && !tagged.has(repo.name)) return;
    entries.push(entryOf(repo, settings, stale, installed.get(repo.name), found.error));
  });

  // The manifest cannot name its own commit (DESIGN §5): the tag's commit is looked up once per
  // tag and kept, so later refreshes spend nothing on it.
  await Promise.all(
    listed.map(({ entry, repo }) =>
      queue.add(async () => {
        if (entry.tag === null) return;
        const key = keyOf(repo);
        const known = deps.cache.tagCommit(key, entry.tag);
        if (known !== null) {
          entry.commitSha = known;
          return;
        }
        try {
          const tags = await provider.listTags(repo.name);
          for (const tag of tags) deps.cache.setTagCommit(key, tag.name, tag.commitSha);
          entry.commitSha = deps.cache.tagCommit(key, entry.tag);
        } catch (error) {
          deps.logger.info(
            { repo: repo.name, code: errorInfoOf(error).code },
            `listing the tags of ${repo.name} failed; skipping its commit until the next refresh`,
          );
        }
      }),
    ),
  );

  if (failures > 0) {
    deps.logger.warn(
      { failures, repos: repos.length },
      `catalog refresh of ${settings.owner}: ${failures} of ${repos.length} manifests could not be read; they show an error`,
    );
  }
  return entries.sort((a, b) => (a.repo < b.repo ? -1 : a.repo > b.repo ? 1 : 0));
}

/**
 * The names of repositories with the app topic. The listing carries topics on most providers;
 * where it does not, the provider's own topic filter is asked once.
 */
async function taggedNames(
  provider: ProviderAdapter,
  repos: readonly RepoInfo[],
): Promise<Set<string>> {
  if (!provider.supportsTopics) return new Set();
  if (repos.every((repo) => repo.topics !== null)) {
    return new Set(repos.filter((repo) => repo.topics!.includes(APP_TOPIC)).map((r) => r.name));
  }
  const names = new Set<string>();
  for await (const repo of provider.listRepos({ topic: APP_TOPIC })) names.add(repo.name);
  return names;
}

/**
 * One conditional read of the manifest; the cache answers a 304. Finding no valid manifest is
 * remembered under the repository's change stamp, so an unchanged plain repository is not read
 * at the next refresh.
 */
async function readManifest(
  provider: ProviderAdapter,
  cache: ManifestCache,
  key: ManifestKey,
  repo: RepoInfo,
): Promise<ManifestRead> {
  // An empty repository has no default branch and so no manifest.
  if (repo.defaultBranch === null) return { kind: 'none' };

  const cached = cache.get(key);
  const answer = await provider.readFile(repo.name, MANIFEST_PATH, key.ref, cached?.etag ?? null);
  if (answer.status === 'not_modified') {
    if (cached === null) {
      throw new GatewayError(
        'provider_error',
        'The provider answered 304 to an unconditional read.',
      );
    }
    if (cached.manifest) return { kind: 'manifest', manifest: cached.manifest };
    cache.setAbsent(key, repo.changedAt);
    return { kind: 'none' };
  }
  if (answer.status === 'not_found') {
    cache.delete(key);
    cache.setAbsent(key, repo.changedAt);
    return { kind: 'none' };
  }

  const manifest = parseManifest(answer.content);
  if (answer.etag !== null) cache.set(key, { etag: answer.etag, manifest });
  if (manifest) {
    cache.forgetAbsence(key);
    return { kind: 'manifest', manifest };
  }
  cache.setAbsent(key, repo.changedAt);
  return { kind: 'none' };
}

function errorInfoOf(error: unknown): ErrorInfo {
  if (isGatewayError(error)) return { code: error.code, message: error.message };
  return { code: 'provider_error', message: 'Reading the manifest failed.' };
}

/** The newest local copy of each repository, by repository name. */
function installedCopies(
  apps: readonly AppRecord[],
  settings: SettingsRecord,
): Map<string, AppRecord> {
  const owner = settings.owner.toLowerCase();
  const copies = new Map<string, AppRecord>();
  for (const app of apps) {
    const from = app.installedFrom;
    if (!from || from.provider !== settings.provider || from.owner.toLowerCase() !== owner) {
      continue;
    }
    const held = copies.get(from.repo);
    if (!held || held.installedFrom!.installedAt < from.installedAt) copies.set(from.repo, app);
  }
  return copies;
}

function entryOf(
  repo: RepoInfo,
  settings: SettingsRecord,
  manifest: AppManifest | null,
  copy: AppRecord | undefined,
  error: ErrorInfo | null,
): CatalogEntry {
  const version = manifest?.sourceControl.version ?? null;
  const installedVersion = copy?.installedFrom?.version ?? null;
  return {
    repo: repo.name,
    owner: settings.owner,
    appName: manifest?.app.name ?? null,
    version,
    tag: manifest?.sourceControl.tag ?? null,
    // Filled from the tag list for entries read now; null for a stale entry shown with an error.
    commitSha: manifest?.sourceControl.commitSha ?? null,
    installedAppId: copy?.id ?? null,
    installedVersion,
    updateAvailable: version !== null && installedVersion !== null && version > installedVersion,
    error: error ? { code: error.code, message: error.message } : null,
  };
}
