import { isKeptByBundleFilter } from '../../core/app-bundle-filter.js';
import { GatewayError } from '../../core/errors.js';
import { parseManifest, type AppManifest } from '../../core/manifest.js';
import { MANIFEST_PATH, summarizeSource } from '../../core/source-hash.js';
import type { AppMirror, TreeEntry } from '../../mirror/index.js';

/** A version read from the mirror and found to be what its manifest says. */
export interface VerifiedVersion {
  manifest: AppManifest;
  /** The files a restore hands out: regular files the app-bundle filter keeps, no manifest. */
  files: (TreeEntry & { sha256: string })[];
}

/**
 * Reads a revision's files with their sha256 and checks them against the manifest committed
 * with them, and against the source hash the store recorded for that version when it has one.
 * A rewritten tag, a corrupt object or a hand-edited mirror fails here (`hash_mismatch`), before
 * a byte is streamed. The hash covers the files a restore keeps, as the gateway's commits do, so
 * a secret file someone added by hand does not make a version unreadable: it is left out.
 */
export async function verifyMirrorVersion(
  mirror: AppMirror,
  rev: string,
  recordedHash: string | null,
): Promise<VerifiedVersion> {
  const entries = await mirror.listFiles(rev, { sha256: true });
  const manifestBytes = await mirror.readFile(rev, MANIFEST_PATH);
  const manifest = manifestBytes === null ? null : parseManifest(manifestBytes);
  if (manifest === null) {
    throw new GatewayError('invalid_manifest', 'The version has no valid second-app.json.');
  }

  const files = entries.filter(
    (entry): entry is TreeEntry & { sha256: string } =>
      entry.path !== MANIFEST_PATH &&
      entry.mode.startsWith('100') &&
      entry.sha256 !== undefined &&
      isKeptByBundleFilter(entry.path),
  );
  const summary = summarizeSource(files);
  const matches =
    summary.hash === manifest.source.hash &&
    summary.fileCount === manifest.source.fileCount &&
    summary.totalBytes === manifest.source.totalBytes;
  if (!matches) {
    throw new GatewayError(
      'hash_mismatch',
      'The files of this version in source control do not match its manifest; nothing was restored.',
    );
  }
  if (recordedHash !== null && recordedHash !== manifest.source.hash) {
    throw new GatewayError(
      'hash_mismatch',
      'This version in source control is not the one the gateway recorded; nothing was restored.',
    );
  }
  return { manifest, files };
}
