import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../../core/errors.js';
import { parseManifest, type AppManifest } from '../../core/manifest.js';
import type { ProviderAdapter } from '../../adapters/providers/provider-port.js';
import {
  readSnapshotArchive,
  type ArchiveLimits,
  type StagedFile,
} from '../ingest/read-snapshot-archive.js';

/** A provider's archive of a version, read, checked and staged on disk. */
export interface ImportedVersion {
  files: StagedFile[];
  manifest: AppManifest;
}

/**
 * Downloads the archive of one tag and reads it as an import (DESIGN §13): every hostile entry
 * refuses the whole archive, and the manifest inside must match the files. The files are staged
 * in a fresh private folder under `<dataDir>/tmp` that exists only while `use` runs.
 */
export async function withImportedVersion<T>(
  input: {
    dataDir: string;
    provider: ProviderAdapter;
    repo: string;
    tag: string;
    /** Caps tighter than the defaults of DESIGN §13. */
    limits?: Partial<ArchiveLimits>;
  },
  use: (imported: ImportedVersion) => Promise<T>,
): Promise<T> {
  const root = join(input.dataDir, 'tmp');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const stagingDir = await mkdtemp(join(root, 'catalog-import-'));
  await chmod(stagingDir, 0o700);

  const archive = await input.provider.downloadArchive(input.repo, input.tag).catch(async (e) => {
    await rm(stagingDir, { recursive: true, force: true });
    throw e;
  });
  try {
    const read = await readSnapshotArchive(archive, {
      mode: 'import',
      stagingDir,
      limits: input.limits,
    });
    const manifest = read.manifest === null ? null : parseManifest(read.manifest);
    if (manifest === null) throw new GatewayError('invalid_manifest');
    if (manifest.sourceControl.tag !== input.tag) {
      throw new GatewayError(
        'invalid_manifest',
        `The archive of ${input.tag} holds the manifest of ${manifest.sourceControl.tag}.`,
      );
    }
    return await use({ files: read.files, manifest });
  } finally {
    // A refusal stops reading mid-archive: the download must not stay open behind it.
    archive.destroy();
    await rm(stagingDir, { recursive: true, force: true });
  }
}
