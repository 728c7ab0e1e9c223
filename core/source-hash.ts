import { createHash } from 'node:crypto';

/** The manifest's own path, left out of the source hash and the counts. */
export const MANIFEST_PATH = 'second-app.json';

export interface HashedFile {
  path: string;
  sha256: string;
  size: number;
}

export interface SourceSummary {
  /** `sha256:<hex>` over the sorted `<path>\0<sha256>\n` lines (DESIGN §5). */
  hash: string;
  fileCount: number;
  totalBytes: number;
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Sorts paths in the byte order of their UTF-8 form, the order the source hash uses. */
export function sortByPath<T extends { path: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => compareUtf8(a.path, b.path));
}

/**
 * The source hash, file count and byte count of a sanitized file set. The root manifest is
 * skipped so that rewriting it (sharing, a new tag) never changes the hash of the source.
 */
export function summarizeSource(files: readonly HashedFile[]): SourceSummary {
  const hash = createHash('sha256');
  let fileCount = 0;
  let totalBytes = 0;

  for (const file of sortByPath(files)) {
    if (file.path === MANIFEST_PATH) continue;
    hash.update(`${file.path}\0${file.sha256}\n`, 'utf8');
    fileCount += 1;
    totalBytes += file.size;
  }

  return { hash: `sha256:${hash.digest('hex')}`, fileCount, totalBytes };
}
