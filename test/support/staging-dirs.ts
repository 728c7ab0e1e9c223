/** Temporary folders for tests that stage files, and the check that a refusal left nothing. */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

export interface StagingArea {
  /** A private temporary folder that holds only `stagingDir` unless something leaked. */
  root: string;
  /** A fresh mode-0700 folder, as the reader's callers create it. */
  stagingDir: string;
  /** Every path under `root`, relative, sorted. */
  contents(): Promise<string[]>;
  remove(): Promise<void>;
}

/** Creates a staging area under the system temporary folder. */
export async function createStagingArea(): Promise<StagingArea> {
  const root = await mkdtemp(join(tmpdir(), 'gateway-ingest-test-'));
  const stagingDir = join(root, 'staging');
  await mkdir(stagingDir, { mode: 0o700 });

  return {
    root,
    stagingDir,
    contents: async () => (await readdir(root, { recursive: true })).map(String).sort(),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** The buffer as a stream of chunks of the given size (the whole buffer in one when absent). */
export function streamOf(buffer: Buffer, chunkBytes?: number): Readable {
  if (chunkBytes === undefined) return Readable.from([buffer]);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += chunkBytes) {
    chunks.push(buffer.subarray(offset, offset + chunkBytes));
  }
  return Readable.from(chunks);
}
