import { GatewayError } from '../../core/errors.js';
import { readSnapshotArchive } from '../../gateway/ingest/read-snapshot-archive.js';
import { hostileArchives, type ArchiveReading } from '../support/hostile-archives.js';
import { createStagingArea, streamOf } from '../support/staging-dirs.js';

// Odd-sized chunks put header, pax and body boundaries everywhere a chunk can split them.
const CHUNK_SIZES = [undefined, 777];

describe('every hostile archive is refused with its code and leaves nothing behind', () => {
  for (const hostile of hostileArchives()) {
    for (const [reading, code] of Object.entries(hostile.expected) as [ArchiveReading, string][]) {
      test(`${hostile.name} (${hostile.description}), ${reading}: ${code}`, async () => {
        const archive = hostile.build(reading);

        for (const chunkBytes of CHUNK_SIZES) {
          const area = await createStagingArea();
          try {
            const read = readSnapshotArchive(streamOf(archive, chunkBytes), {
              mode: reading,
              stagingDir: area.stagingDir,
              limits: hostile.limits,
            });

            await expect(read).rejects.toBeInstanceOf(GatewayError);
            await expect(read).rejects.toMatchObject({ code });
            expect(await area.contents()).toEqual(['staging']);
          } finally {
            await area.remove();
          }
        }
      });
    }
  }
});
