import { bundleFilterReason } from '../../core/app-bundle-filter.js';
import { GatewayError } from '../../core/errors.js';
import { checkArchivePath, collisionKey, printablePath } from '../../core/path-safety.js';
import { MANIFEST_PATH } from '../../core/source-hash.js';
import { MAX_META_BYTES, type ArchiveLimits } from './archive-limits.js';
import { PathNamespace } from './path-namespace.js';
import { SkippedPaths } from './skipped-paths.js';
import type { FramedEntry } from './tar-framer.js';

/** The two readings of DESIGN §13: a worker's snapshot, or a provider's archive to import. */
export type ArchiveMode = 'worker' | 'import';

/** What to do with an entry's body. */
export type EntryAction =
  | { action: 'stage'; path: string; executable: boolean }
  | { action: 'manifest' }
  | { action: 'discard' };

/** How one read applies the rules. */
export interface EntryPolicyOptions {
  mode: ArchiveMode;
  limits: Readonly<ArchiveLimits>;
  requireDistIndex: boolean;
}

/** The entry page every worker snapshot must hold. */
export const DIST_INDEX_PATH = 'dist/index.html';

const SYMLINK_REASON = 'symbolic link: links are not stored';
const MANIFEST_REASON = 'the gateway writes its own second-app.json';

const KIND_NAMES: Record<FramedEntry['kind'], string> = {
  file: 'a file',
  directory: 'a folder',
  symlink: 'a symbolic link',
  hardlink: 'a hard link',
  device: 'a device',
  fifo: 'a FIFO',
  unknown: 'an entry of an unknown type',
};

function tooLarge(message: string, limit: string): GatewayError {
  return new GatewayError('too_large', message, { details: { limit } });
}

function unsafe(reason: string, path: Uint8Array | string): GatewayError {
  return new GatewayError(
    'unsafe_path',
    `The archive holds a path the gateway refuses: ${reason} (${printablePath(path)}).`,
  );
}

function invalid(reason: string): GatewayError {
  return new GatewayError('invalid_archive', `The archive cannot be imported: ${reason}.`);
}

/**
 * The rules of DESIGN §13, entry by entry: caps, entry types, path safety, the top folder of an
 * import, links, twins, the root manifest and the app-bundle filter. Each entry gets an action
 * or a refusal; the first refusal ends the read.
 */
export class EntryPolicy {
  readonly skipped = new SkippedPaths();
  readonly #options: EntryPolicyOptions;
  readonly #namespace = new PathNamespace();
  readonly #symlinks = new Set<string>();
  #topFolder: string | null = null;
  #files = 0;
  #directories = 0;
  #totalBytes = 0;
  #sawDistIndex = false;
  #sawManifest = false;

  constructor(options: EntryPolicyOptions) {
    this.#options = options;
    this.#namespace.reserve(MANIFEST_PATH);
  }

  /** Whether the root manifest was among the entries. */
  get sawManifest(): boolean {
    return this.#sawManifest;
  }

  /** The action for one entry, or a GatewayError. */
  decide(entry: FramedEntry): EntryAction {
    const { mode, limits } = this.#options;
    const isDirectory = entry.kind === 'directory';

    this.#checkType(entry);
    this.#count(entry);

    const check = checkArchivePath(entry.path, {
      allowExactDotGit: mode === 'worker',
      directory: isDirectory,
      stripTopFolder: mode === 'import',
      limits,
    });
    if (!check.ok) {
      if (check.code === 'unsafe_path') throw unsafe(check.reason, entry.path);
      throw tooLarge(`The archive holds a path too long: ${check.reason}.`, 'path');
    }

    const path = check.path;
    if (path === '' && !isDirectory) {
      if (mode === 'import') throw invalid('a file stands beside the top-level folder');
      throw unsafe('the archive root as a file', entry.path);
    }
    if (mode === 'import' && check.topFolder !== null) this.#checkTopFolder(check.topFolder);
    if (path === '') return { action: 'discard' };

    this.#checkNotThroughSymlink(path);
    if (entry.kind === 'symlink') this.#symlinks.add(collisionKey(path));

    if (path === MANIFEST_PATH) return this.#rootManifest(entry);

    const reason = bundleFilterReason(isDirectory ? `${path}/` : path);
    if (reason !== null) {
      this.skipped.addFiltered(path, isDirectory, reason);
      return { action: 'discard' };
    }

    // Twins are judged among the entries that stay. A dropped file is never written anywhere, so
    // it cannot collide with anything, and a dependency folder that came from a case-sensitive
    // system (case twins do occur there) does not fail a build it takes no part in.
    this.#namespace.add(path, entry.kind as 'file' | 'directory' | 'symlink');

    if (entry.kind === 'symlink') {
      this.skipped.add(path, SYMLINK_REASON);
      return { action: 'discard' };
    }
    if (isDirectory) return { action: 'discard' };

    if (path === DIST_INDEX_PATH) this.#sawDistIndex = true;
    // Git keeps one executable bit, the owner's.
    return { action: 'stage', path, executable: (entry.mode & 0o100) !== 0 };
  }

  /** Checks what only the whole archive shows; called after the last entry. */
  finish(): void {
    if (this.#options.mode === 'import' && this.#topFolder === null) {
      throw invalid('it holds no top-level folder');
    }
    if (this.#options.requireDistIndex && !this.#sawDistIndex) {
      throw new GatewayError('dist_index_missing');
    }
  }

  #checkType(entry: FramedEntry): void {
    const allowed =
      entry.kind === 'file' ||
      entry.kind === 'directory' ||
      (entry.kind === 'symlink' && this.#options.mode === 'worker');
    if (allowed) return;

    throw new GatewayError(
      'unsupported_entry',
      `The archive holds ${KIND_NAMES[entry.kind]} (${printablePath(entry.path)}); only files and folders are accepted.`,
      { details: { typeflag: entry.typeflag } },
    );
  }

  #count(entry: FramedEntry): void {
    const { limits } = this.#options;

    if (entry.kind === 'directory') {
      this.#directories += 1;
      if (this.#directories > limits.maxFiles) {
        throw tooLarge(`The archive holds more than ${limits.maxFiles} folders.`, 'files');
      }
      return;
    }

    this.#files += 1;
    if (this.#files > limits.maxFiles) {
      throw tooLarge(`The archive holds more than ${limits.maxFiles} files.`, 'files');
    }
    if (entry.size > limits.maxFileBytes) {
      throw tooLarge(`The archive holds a file larger than ${limits.maxFileBytes} bytes.`, 'file');
    }
    this.#totalBytes += entry.size;
    if (this.#totalBytes > limits.maxTotalBytes) {
      throw tooLarge(
        `The archive's files add up to more than ${limits.maxTotalBytes} bytes.`,
        'total',
      );
    }
  }

  #checkTopFolder(topFolder: string): void {
    if (this.#topFolder === null) {
      this.#topFolder = topFolder;
      return;
    }
    if (topFolder !== this.#topFolder) throw invalid('it holds more than one top-level folder');
  }

  #checkNotThroughSymlink(path: string): void {
    if (this.#symlinks.size === 0) return;

    let slash = path.indexOf('/');
    while (slash !== -1) {
      if (this.#symlinks.has(collisionKey(path.slice(0, slash)))) {
        throw unsafe('a path that runs through a symbolic link', path);
      }
      slash = path.indexOf('/', slash + 1);
    }
  }

  #rootManifest(entry: FramedEntry): EntryAction {
    if (entry.kind === 'directory') throw unsafe('second-app.json as a folder', entry.path);
    this.#namespace.add(MANIFEST_PATH, entry.kind as 'file' | 'symlink');

    if (this.#options.mode === 'worker') {
      this.skipped.add(MANIFEST_PATH, MANIFEST_REASON);
      return { action: 'discard' };
    }

    if (entry.size > MAX_META_BYTES) {
      throw new GatewayError('invalid_manifest', 'second-app.json is larger than 1 MiB.');
    }
    this.#sawManifest = true;
    return { action: 'manifest' };
  }
}
