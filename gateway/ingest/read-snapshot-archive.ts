import type { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { GatewayError } from '../../core/errors.js';
import type { SkippedEntry } from '../../core/model.js';
import { resolveArchiveLimits, type ArchiveLimits } from './archive-limits.js';
import { CheckedTarParser } from './checked-tar-parser.js';
import { ContentStager } from './content-stager.js';
import { EntryPolicy, type ArchiveMode, type EntryAction } from './entry-policy.js';
import { expandArchiveBody, type BodyCounters } from './expand-archive-body.js';
import type { StagedLocation } from './staged-content.js';
import { TarFramer } from './tar-framer.js';
import { verifyImportManifest } from './verify-import-manifest.js';

export type { ArchiveLimits } from './archive-limits.js';
export type { ArchiveMode } from './entry-policy.js';
export { readStagedContent, type StagedLocation } from './staged-content.js';

/** What to read and how: the reading, where to stage, and the caps. */
export interface ArchiveReadOptions {
  /** `worker`: a build snapshot; `import`: a provider's archive of a version (DESIGN §13). */
  mode: ArchiveMode;
  /** A fresh private folder (mode 0700) that the caller creates and removes. */
  stagingDir: string;
  limits?: Partial<ArchiveLimits>;
  /** Refuse a snapshot without `dist/index.html`; on by default for workers, off for imports. */
  requireDistIndex?: boolean;
}

/** One kept file: checked, hashed and written once per sha256 to the staging folder. */
export interface StagedFile {
  path: string;
  size: number;
  sha256: string;
  executable: boolean;
  /** Where its bytes lie (read them with `readStagedContent`); shared by equal contents. */
  staged: StagedLocation;
}

/** What a read kept, what it skipped, and the import's manifest. */
export interface ArchiveReadResult {
  /** The kept files, in archive order. */
  files: StagedFile[];
  /** What the archive held that the app will not (links, the worker's manifest, filtered). */
  skipped: SkippedEntry[];
  /** Import: the root second-app.json, verified against the files. Worker: always null. */
  manifest: Buffer | null;
}

function asReadError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('internal', 'Reading the archive failed.', { cause: error });
}

/**
 * Reads a tar or tar.gz archive from a stream, entry by entry, never holding it whole: every
 * rule of DESIGN §13 is applied as the entries pass, kept files are hashed and staged as they
 * stream, and every cap is counted as the bytes arrive. On any refusal the read stops at once,
 * everything it staged is removed, and a GatewayError with the refusal's code is thrown.
 */
export async function readSnapshotArchive(
  input: Readable,
  options: ArchiveReadOptions,
): Promise<ArchiveReadResult> {
  const limits = resolveArchiveLimits(options.limits);
  const policy = new EntryPolicy({
    mode: options.mode,
    limits,
    requireDistIndex: options.requireDistIndex ?? options.mode === 'worker',
  });
  const stager = new ContentStager(options.stagingDir);
  const parser = new CheckedTarParser();
  const staging: Promise<StagedFile>[] = [];
  const manifestChunks: Buffer[] = [];

  const receive = (readEntry: ReadEntry, action: EntryAction): void => {
    if (action.action === 'discard') {
      readEntry.resume();
      return;
    }
    if (action.action === 'manifest') {
      readEntry.on('data', (chunk: Buffer) => manifestChunks.push(chunk));
      return;
    }

    const file = stager.begin();
    // The end listener goes first: attaching a data listener starts the flow, and an empty
    // entry ends at once.
    readEntry.on('end', () => {
      const staged = file.end().then((content) => ({
        path: action.path,
        size: content.size,
        sha256: content.sha256,
        executable: action.executable,
        staged: content.location,
      }));
      // The stager reports the failure itself; this only keeps it from going unhandled here.
      staged.catch(() => undefined);
      staging.push(staged);
    });
    readEntry.on('data', (chunk: Buffer) => file.write(chunk));
  };

  const framer = new TarFramer({
    onEntry: (entry) => {
      const action = policy.decide(entry);
      parser.expect(entry, (readEntry) => receive(readEntry, action));
    },
    forward: (bytes) => parser.write(bytes),
  });

  const counters: BodyCounters = { gzip: false, compressedBytes: 0, expandedBytes: 0 };
  try {
    for await (const slice of expandArchiveBody(input, limits, counters)) {
      framer.push(slice);
      await stager.drained();
    }
    framer.finish();
    await parser.end();
    policy.finish();

    await stager.settle();
    const files = await Promise.all(staging);

    if (options.mode === 'worker')
      return { files, skipped: policy.skipped.toArray(), manifest: null };

    const manifest = policy.sawManifest ? Buffer.concat(manifestChunks) : null;
    verifyImportManifest(manifest, files);
    return { files, skipped: policy.skipped.toArray(), manifest };
  } catch (error) {
    await stager.removeAll();
    throw asReadError(error);
  }
}
