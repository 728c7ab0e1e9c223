import { createReadStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { buildManifest, serializeManifest } from '../../core/manifest.js';
import { summarizeSource } from '../../core/source-hash.js';
import {
  readSnapshotArchive,
  readStagedContent,
  type StagedFile,
} from '../../gateway/ingest/read-snapshot-archive.js';

/** An uploaded app as the sync service holds it: staged files, a manifest and a blob reader. */
export interface StagedApp {
  files: StagedFile[];
  manifest: Buffer;
  readBlob: (sha256: string) => Promise<Buffer>;
}

/** Reads an uploaded tar exactly as the build route does: checked, hashed, staged by sha256. */
export async function stageUpload(tarPath: string, stagingParent: string): Promise<StagedApp> {
  const stagingDir = await mkdtemp(join(stagingParent, 'staging-'));
  const { files } = await readSnapshotArchive(createReadStream(tarPath), {
    mode: 'worker',
    stagingDir,
  });
  return stagedApp(files);
}

/** The manifest and blob reader of already staged files. */
export function stagedApp(files: StagedFile[]): StagedApp {
  const bySha = new Map(files.map((file) => [file.sha256, file]));
  const manifest = serializeManifest(
    buildManifest({
      appName: 'Bench App',
      source: summarizeSource(files),
      provider: 'git',
      owner: 'bench',
      repo: 'bench-app',
      version: 1,
      availableInCatalog: false,
    }),
  );
  return { files, manifest, readBlob: (sha256) => readStagedContent(bySha.get(sha256)!) };
}
