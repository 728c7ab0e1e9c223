import { bundleFilterReason } from '../../core/app-bundle-filter.js';
import type { SkippedEntry } from '../../core/model.js';

/** At most this many paths are listed; the rest are counted in one closing entry. */
export const MAX_LISTED_SKIPS = 1000;

/**
 * The `skipped` list of a read: what the archive held that the app will not. A folder the
 * app-bundle filter drops whole (`node_modules/`, `.git/`) is listed once, as the folder, not
 * file by file; files it drops one by one (`.env`, `id_rsa`) are listed each, because those are
 * the ones a builder wants to see were left out.
 */
export class SkippedPaths {
  readonly #entries: SkippedEntry[] = [];
  readonly #listed = new Set<string>();
  #omitted = 0;
  #lastFolder: string | null = null;

  /** Lists one path with its reason (once per path). */
  add(path: string, reason: string): void {
    if (this.#listed.has(path)) return;
    this.#listed.add(path);

    if (this.#entries.length >= MAX_LISTED_SKIPS) {
      this.#omitted += 1;
      return;
    }
    this.#entries.push({ path, reason });
  }

  /** Lists a path the filter dropped, as the outermost folder the filter drops, if any. */
  addFiltered(path: string, isDirectory: boolean, reason: string): void {
    if (this.#lastFolder !== null && path.startsWith(this.#lastFolder)) return;

    let slash = path.indexOf('/');
    while (slash !== -1) {
      const folder = path.slice(0, slash + 1);
      const folderReason = bundleFilterReason(folder);
      if (folderReason !== null) {
        this.#lastFolder = folder;
        this.add(folder, folderReason);
        return;
      }
      slash = path.indexOf('/', slash + 1);
    }

    this.add(isDirectory ? `${path}/` : path, reason);
  }

  /** The list as the build record keeps it. */
  toArray(): SkippedEntry[] {
    if (this.#omitted === 0) return [...this.#entries];
    return [
      ...this.#entries,
      { path: '...', reason: `${this.#omitted} more skipped paths not listed` },
    ];
  }
}
