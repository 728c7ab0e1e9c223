import type { SnapshotFile } from '../../core/model.js';
import { sortByPath, summarizeSource } from '../../core/source-hash.js';
import type { StagedFile } from './read-snapshot-archive.js';

/** What a snapshot record needs from a read: its source hash, counts and file list. */
export interface SnapshotSummary {
  /** The source hash of the sanitized files (DESIGN §5), `sha256:<hex>`. */
  snapshotHash: string;
  fileCount: number;
  totalBytes: number;
  /** Sorted by path in UTF-8 byte order, as the hash reads them. */
  files: SnapshotFile[];
}

/** The snapshot summary of the files a read staged: the sanitized set, manifest excluded. */
export function summarizeStagedFiles(files: readonly StagedFile[]): SnapshotSummary {
  const source = summarizeSource(files);

  return {
    snapshotHash: source.hash,
    fileCount: source.fileCount,
    totalBytes: source.totalBytes,
    files: sortByPath(files).map(({ path, size, sha256, executable }) =>
      executable ? { path, size, sha256, executable } : { path, size, sha256 },
    ),
  };
}
