import { DEFAULT_PATH_LIMITS, type PathLimits } from '../../core/path-safety.js';

const MiB = 1024 * 1024;

/** The caps on one archive, enforced as its bytes stream (DESIGN §13). */
export interface ArchiveLimits extends PathLimits {
  /** Bytes of one file. */
  maxFileBytes: number;
  /** Bytes of all file bodies together, whether kept or dropped by the filter. */
  maxTotalBytes: number;
  /**
   * Entries that are not directories (files, links, anything), kept or not: the cap bounds the
   * work one upload can cause. Directory entries are held to the same number on their own.
   */
  maxFiles: number;
  /** Expanded bytes may be at most this many times the compressed bytes read so far … */
  maxExpansionRatio: number;
  /** … plus this much, so that a small archive of small text files is never refused. */
  expansionAllowanceBytes: number;
}

/** The caps DESIGN §13 sets. */
export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  ...DEFAULT_PATH_LIMITS,
  maxFileBytes: 100 * MiB,
  maxTotalBytes: 1024 * MiB,
  maxFiles: 50_000,
  maxExpansionRatio: 1000,
  expansionAllowanceBytes: MiB,
});

/**
 * Metadata a reader holds in memory whole: a pax or GNU long-name header (node-tar's own cap),
 * the import manifest, and the zero padding tolerated after the end of the archive.
 */
export const MAX_META_BYTES = MiB;

/** The caps of one read: the defaults with the caller's overrides, checked and frozen. */
export function resolveArchiveLimits(
  overrides: Partial<ArchiveLimits> = {},
): Readonly<ArchiveLimits> {
  const limits: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS };

  for (const [name, value] of Object.entries(overrides) as [keyof ArchiveLimits, unknown][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_ARCHIVE_LIMITS)) throw new TypeError(`unknown archive limit ${name}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`archive limit ${name} must be a non-negative number`);
    }
    limits[name] = value;
  }

  return Object.freeze(limits);
}
