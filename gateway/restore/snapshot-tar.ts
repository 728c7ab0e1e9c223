import { Readable } from 'node:stream';
import { Header, Pax } from 'tar';
import { isKeptByBundleFilter } from '../../core/app-bundle-filter.js';
import { GatewayError } from '../../core/errors.js';
import type { SnapshotRecord } from '../../core/model.js';
import { MANIFEST_PATH, sortByPath } from '../../core/source-hash.js';
import type { WorkspaceReader } from '../../adapters/store/store-port.js';

const BLOCK = 512;
// A fixed time keeps the same snapshot the same tar, byte for byte.
const EPOCH = new Date(0);

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The header of one file, with a pax header before it when the name does not fit ustar. */
function fileHeader(path: string, size: number, executable: boolean): Buffer {
  const data = {
    path,
    size,
    mode: executable ? 0o755 : 0o644,
    mtime: EPOCH,
    type: 'File' as const,
  };
  const header = new Header(data);
  const block = Buffer.alloc(BLOCK);
  const needPax = header.encode(block, 0);
  if (!needPax) return block;
  return Buffer.concat([new Pax(data).encode(), block]);
}

/**
 * A tar of a stored snapshot, read from the blob store one file at a time (memory stays bounded
 * by the largest file). The app-bundle filter is applied again on the way out: snapshots are
 * filtered when stored, and a filter rule added since must still hold for old ones.
 */
export function snapshotTar(reader: WorkspaceReader, snapshot: SnapshotRecord): Readable {
  const files = sortByPath(snapshot.files).filter(
    (file) => file.path !== MANIFEST_PATH && isKeptByBundleFilter(file.path),
  );

  async function* blocks(): AsyncGenerator<Buffer> {
    for (const file of files) {
      const content = await reader.getBlob(file.sha256);
      if (content === null) {
        throw new GatewayError('internal', `The store lost a file of snapshot ${snapshot.hash}.`);
      }
      yield fileHeader(file.path, content.length, file.executable === true);
      yield content;
      yield padding(content.length);
    }
    yield Buffer.alloc(BLOCK * 2);
  }

  return Readable.from(blocks(), { objectMode: false });
}
