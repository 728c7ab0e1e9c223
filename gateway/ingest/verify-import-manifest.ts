import { GatewayError } from '../../core/errors.js';
import { parseManifest, type AppManifest } from '../../core/manifest.js';
import { summarizeSource, type HashedFile } from '../../core/source-hash.js';

/**
 * The manifest of an imported version, checked against the files that came with it: it must
 * parse (`invalid_manifest`) and its source hash, file count and byte count must be those of the
 * imported files (`hash_mismatch`), so that what is installed is what was published.
 */
export function verifyImportManifest(
  manifestBytes: Buffer | null,
  files: readonly HashedFile[],
): AppManifest {
  if (manifestBytes === null) {
    throw new GatewayError('invalid_manifest', 'The archive has no second-app.json at its root.');
  }

  const manifest = parseManifest(manifestBytes);
  if (manifest === null) throw new GatewayError('invalid_manifest');

  const summary = summarizeSource(files);
  const matches =
    summary.hash === manifest.source.hash &&
    summary.fileCount === manifest.source.fileCount &&
    summary.totalBytes === manifest.source.totalBytes;
  if (!matches) throw new GatewayError('hash_mismatch');

  return manifest;
}
