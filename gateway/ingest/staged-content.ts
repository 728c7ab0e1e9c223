import { open } from 'node:fs/promises';
import { GatewayError } from '../../core/errors.js';

/**
 * Where a staged content lies: `size` bytes from `offset` in `path`. Small contents share one
 * spool file of the staging folder, so the path alone is not the content.
 */
export interface StagedLocation {
  path: string;
  offset: number;
}

/** The bytes of a staged file, read from its place in the staging folder. */
export async function readStagedContent(file: {
  size: number;
  staged: StagedLocation;
}): Promise<Buffer> {
  const content = Buffer.allocUnsafe(file.size);
  if (file.size === 0) return content;

  const handle = await open(file.staged.path, 'r');
  try {
    let read = 0;
    while (read < file.size) {
      const { bytesRead } = await handle.read(
        content,
        read,
        file.size - read,
        file.staged.offset + read,
      );
      // The staging folder is private to the read; a short file means it was tampered with or
      // removed under us, never a normal end.
      if (bytesRead === 0) {
        throw new GatewayError('internal', 'A staged file ended before its recorded size.');
      }
      read += bytesRead;
    }
    return content;
  } finally {
    await handle.close();
  }
}
