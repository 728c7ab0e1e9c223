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

const DEFAULT_MAX_ENTRIES = 20_000;

/**
 * Manifests read by catalog refreshes, kept in process per workspace and repository with the
 * ETag they came with, so the next refresh asks "changed since?" and a 304 (which the providers
 * do not count against the rate limit, or count cheaply) reuses the parsed manifest. Bounded by
 * entry count, oldest first out; a restart starts cold, which costs one full read per repository.
 */
export class ManifestCache {
  readonly #entries = new Map<string, CachedManifest>();
  readonly #tagCommits = new Map<string, string>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  get(key: ManifestKey): CachedManifest | null {
    return this.#entries.get(keyOf(key)) ?? null;
  }

  set(key: ManifestKey, value: CachedManifest): void {
    const name = keyOf(key);
    this.#entries.delete(name);
    this.#entries.set(name, value);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: ManifestKey): void {
    this.#entries.delete(keyOf(key));
  }

  /**
   * The commit a version tag of the repository points at, as last listed. The gateway never
   * moves a tag, so an answer stays good; an install still verifies the files it downloads.
   */
  tagCommit(key: ManifestKey, tag: string): string | null {
    return this.#tagCommits.get(`${keyOf(key)}\0${tag}`) ?? null;
  }

  setTagCommit(key: ManifestKey, tag: string, commitSha: string): void {
    const name = `${keyOf(key)}\0${tag}`;
    this.#tagCommits.delete(name);
    this.#tagCommits.set(name, commitSha);
    while (this.#tagCommits.size > this.#maxEntries) {
      this.#tagCommits.delete(this.#tagCommits.keys().next().value as string);
    }
  }
}

function keyOf(key: ManifestKey): string {
  // NUL cannot occur in any of the parts, so the joined key is unambiguous.
  return [key.workspaceId, key.provider, key.baseUrl ?? '', key.owner, key.repo, key.ref].join(
    '\0',
  );
}
