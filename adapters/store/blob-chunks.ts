/**
 * Blobs are stored in chunks of at most this many bytes: far below MongoDB's 16 MB document
 * limit, and small enough that SQLite never holds one huge value in a page chain.
 */
export const BLOB_CHUNK_BYTES = 4 * 1024 * 1024;

/** The chunks of `content`, in order; an empty blob is one empty chunk so it still has a row. */
export function splitIntoChunks(content: Buffer, chunkBytes = BLOB_CHUNK_BYTES): Buffer[] {
  if (content.length === 0) return [content];

  const chunks: Buffer[] = [];
  for (let offset = 0; offset < content.length; offset += chunkBytes) {
    chunks.push(content.subarray(offset, offset + chunkBytes));
  }
  return chunks;
}

/** The number of chunks `splitIntoChunks` makes of `size` bytes. */
export function chunkCountOf(size: number, chunkBytes = BLOB_CHUNK_BYTES): number {
  return Math.max(1, Math.ceil(size / chunkBytes));
}
