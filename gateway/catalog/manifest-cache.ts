import type { AppManifest } from '../../core/manifest.js';

/** A manifest as last read from a repository's default branch, with its ETag. */
export interface CachedManifest {
  etag: string;
  /** The parsed manifest, or null when the file was there but not valid. */
  manifest: AppManifest | null;
}

/** The key of one repository's manifest: workspace, provider host, owner, repository, branch. */
export interface ManifestKey {
  workspaceId: string;
  provider: string;
  baseUrl: string | null;
  owner: string;
  repo: string;
  ref: string;
}

/** Bounds of the cache, and its clock. */
export interface ManifestCacheOptions {
  /** Entries kept per kind (manifests, absences, tag commits); oldest first out. */
  maxEntries?: number;
  /**
   * How long "no manifest here" is believed while the repository's change stamp stays the
   * same, in ms (default one hour). GitLab moves `last_activity_at` at most about once an hour,
   * so a manifest pushed within that hour leaves the stamp as it was: this bound is how late
   * such a newly shared repository can appear in Available Apps. It bounds the same way a push
   * that lands in the very second a refresh read the repository, which GitHub's and Gitea's
   * whole-second stamps cannot tell apart.
   */
  absenceTtlMs?: number;
  /** The clock, in epoch ms; for tests. */
  now?: () => number;
}

/** A repository found to hold no valid manifest, under the change stamp it had then. */
interface Absence {
  changedAt: string;
  learnedAt: number;
}

const DEFAULT_MAX_ENTRIES = 20_000;
const DEFAULT_ABSENCE_TTL_MS = 60 * 60 * 1000;

/**
 * Manifests read by catalog refreshes, kept in process per workspace and repository with the
 * ETag they came with, so the next refresh asks "changed since?" and a 304 (which the providers
 * do not count against the rate limit, or count cheaply) reuses the parsed manifest.
 *
 * Most repositories of an owner are not apps and have no manifest to be conditional on, so the
 * cache also keeps that outcome, tied to the change stamp the provider's listing gave the
 * repository: while the stamp is the same, and for at most `absenceTtlMs`, the repository is
 * not read again. A repository without a stamp is never remembered as empty.
 *
 * Bounded by entry count, oldest first out; a restart starts cold, which costs one full read per
 * repository.
 */
export class ManifestCache {
  readonly #entries = new Map<string, CachedManifest>();
  readonly #absences = new Map<string, Absence>();
  readonly #tagCommits = new Map<string, string>();
  readonly #maxEntries: number;
  readonly #absenceTtlMs: number;
  readonly #now: () => number;

  constructor(options: ManifestCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#absenceTtlMs = options.absenceTtlMs ?? DEFAULT_ABSENCE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  get(key: ManifestKey): CachedManifest | null {
    return this.#entries.get(keyOf(key)) ?? null;
  }

  set(key: ManifestKey, value: CachedManifest): void {
    remember(this.#entries, keyOf(key), value, this.#maxEntries);
  }

  delete(key: ManifestKey): void {
    this.#entries.delete(keyOf(key));
  }

  /**
   * Whether the repository was found without a valid manifest under this same change stamp,
   * recently enough to be believed without reading it again.
   */
  knownAbsent(key: ManifestKey, changedAt: string | null): boolean {
    if (changedAt === null) return false;

    const absence = this.#absences.get(keyOf(key));
    if (absence === undefined || absence.changedAt !== changedAt) return false;
    return this.#now() - absence.learnedAt < this.#absenceTtlMs;
  }

  /**
   * Remembers that the repository holds no valid manifest, under the change stamp its listing
   * gave before the read. A push during the read moves the stamp, so the next refresh reads it
   * again. Without a stamp nothing is remembered: nothing would tell that it changed.
   */
  setAbsent(key: ManifestKey, changedAt: string | null): void {
    if (changedAt === null) {
      this.#absences.delete(keyOf(key));
      return;
    }
    const absence = { changedAt, learnedAt: this.#now() };
    remember(this.#absences, keyOf(key), absence, this.#maxEntries);
  }

  /** Forgets a remembered absence: the repository was found to hold a valid manifest. */
  forgetAbsence(key: ManifestKey): void {
    this.#absences.delete(keyOf(key));
  }

  /**
   * The commit a version tag of the repository points at, as last listed. The gateway never
   * moves a tag, so an answer stays good; an install still verifies the files it downloads.
   */
  tagCommit(key: ManifestKey, tag: string): string | null {
    return this.#tagCommits.get(`${keyOf(key)}\0${tag}`) ?? null;
  }

  setTagCommit(key: ManifestKey, tag: string, commitSha: string): void {
    remember(this.#tagCommits, `${keyOf(key)}\0${tag}`, commitSha, this.#maxEntries);
  }
}

/** Sets `name` as the newest entry of `map` and drops the oldest beyond `max`. */
function remember<T>(map: Map<string, T>, name: string, value: T, max: number): void {
  map.delete(name);
  map.set(name, value);
  while (map.size > max) map.delete(map.keys().next().value as string);
}

function keyOf(key: ManifestKey): string {
  // NUL cannot occur in any of the parts, so the joined key is unambiguous.
  return [key.workspaceId, key.provider, key.baseUrl ?? '', key.owner, key.repo, key.ref].join(
    '\0',
  );
}
