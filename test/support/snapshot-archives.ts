/**
 * Builders of valid archives: a worker's snapshot and a provider's archive of a version with a
 * manifest that matches its files, for the tests of the reader and of the routes and services
 * that take archives.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { buildManifest, serializeManifest } from '../../core/manifest.js';
import { isKeptByBundleFilter } from '../../core/app-bundle-filter.js';
import { MANIFEST_PATH, summarizeSource, type SourceSummary } from '../../core/source-hash.js';
import { buildTar, dirEntry, fileEntry, type Bytes, type RawEntry } from './raw-tar.js';

/** A file of a test app: its content, or its content and mode. */
export type AppFile = Bytes | { body: Bytes; mode: number };

export interface ArchiveShape {
  /** gzip the tar (default false). */
  gzip?: boolean;
  /** Prefix every path with `./`, as `tar -C dir .` does (default false). */
  dotSlash?: boolean;
}

function body(file: AppFile): Buffer {
  const value = typeof file === 'object' && 'body' in file ? file.body : file;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function mode(file: AppFile): number {
  return typeof file === 'object' && 'mode' in file ? file.mode : 0o644;
}

/** The smallest app a worker may send. */
export const MINIMAL_APP: Readonly<Record<string, AppFile>> = Object.freeze({
  'dist/index.html': '<!doctype html><title>app</title>\n',
});

/** A worker's snapshot of these files. */
export function workerSnapshot(files: Record<string, AppFile>, shape: ArchiveShape = {}): Buffer {
  const prefix = shape.dotSlash ? './' : '';
  const entries: RawEntry[] = shape.dotSlash ? [dirEntry('./')] : [];
  for (const [path, file] of Object.entries(files)) {
    entries.push(fileEntry(`${prefix}${path}`, body(file), mode(file)));
  }
  const tar = buildTar(entries);
  return shape.gzip ? gzipSync(tar) : tar;
}

/** The source hash summary of these files, as the gateway computes it: filtered files left out. */
export function summaryOf(files: Record<string, AppFile>): SourceSummary {
  return summarizeSource(
    Object.entries(files)
      .filter(([path]) => isKeptByBundleFilter(path))
      .map(([path, file]) => ({
        path,
        size: body(file).length,
        sha256: createHash('sha256').update(body(file)).digest('hex'),
      })),
  );
}

export interface ProviderArchiveOptions extends ArchiveShape {
  topFolder?: string;
  appName?: string;
  version?: number;
  /** Replace the manifest bytes (to test a bad or mismatched manifest). */
  manifest?: Bytes | null;
}

/**
 * A provider's archive of a version: one top folder holding the files and a root
 * second-app.json whose source hash matches them, as the gateway commits it.
 */
export function providerArchive(
  files: Record<string, AppFile>,
  options: ProviderArchiveOptions = {},
): Buffer {
  const top = options.topFolder ?? 'acme-second-app-console-1a2b3c4';
  const manifest =
    options.manifest !== undefined
      ? options.manifest
      : serializeManifest(
          buildManifest({
            appName: options.appName ?? 'Console',
            source: summaryOf(files),
            provider: 'github',
            owner: 'acme',
            repo: 'second-app-console',
            version: options.version ?? 1,
            availableInCatalog: true,
          }),
        );

  const entries: RawEntry[] = [dirEntry(`${top}/`)];
  if (manifest !== null) entries.push(fileEntry(`${top}/${MANIFEST_PATH}`, manifest));
  for (const [path, file] of Object.entries(files)) {
    entries.push(fileEntry(`${top}/${path}`, body(file), mode(file)));
  }
  const tar = buildTar(entries);
  return options.gzip ? gzipSync(tar) : tar;
}
