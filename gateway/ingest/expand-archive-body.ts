import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GatewayError } from '../../core/errors.js';
import type { ArchiveLimits } from './archive-limits.js';

/** What an upload weighed: bytes read from the caller and bytes of tar they expanded to. */
export interface BodyCounters {
  gzip: boolean;
  compressedBytes: number;
  expandedBytes: number;
}

// The tar reader downstream writes every slice to disk before it asks for the next one, so the
// slice size bounds the memory one upload holds, whatever chunk sizes the caller's stream uses.
const SLICE_BYTES = 64 * 1024;

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError('the archive stream must yield bytes');
}

function* slices(chunk: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < chunk.length; offset += SLICE_BYTES) {
    yield chunk.subarray(offset, offset + SLICE_BYTES);
  }
}

async function* chain(head: Buffer, rest: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for (;;) {
    let next: IteratorResult<unknown>;
    try {
      next = await rest.next();
    } catch (error) {
      throw new GatewayError('invalid_archive', 'The upload was cut short.', { cause: error });
    }
    if (next.done) return;
    yield toBuffer(next.value);
  }
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * The tar bytes of an upload, in slices of at most 64 KiB: gunzipped when the body starts with
 * the gzip magic bytes, as is otherwise. Expansion is held to the limits against the compressed
 * bytes the decompressor has actually consumed (not merely received), so that one large read
 * cannot buy a large allowance. The input is consumed, and destroyed when reading stops early.
 */
export async function* expandArchiveBody(
  input: Readable,
  limits: Readonly<ArchiveLimits>,
  counters: BodyCounters,
): AsyncGenerator<Buffer> {
  const source = input[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);

  try {
    for await (const chunk of chain(Buffer.alloc(0), source)) {
      head = Buffer.concat([head, chunk]);
      if (head.length >= 2) break;
    }

    counters.gzip = head[0] === 0x1f && head[1] === 0x8b;
    if (!counters.gzip) {
      for await (const chunk of chain(head, source)) {
        counters.compressedBytes += chunk.length;
        counters.expandedBytes += chunk.length;
        yield* slices(chunk);
      }
      return;
    }

    const gunzip = createGunzip({ chunkSize: SLICE_BYTES });
    const feeding = pipeline(Readable.from(chain(head, source)), gunzip);
    // A failure of the feed also ends the iteration below with the same error; this handler only
    // keeps it from being reported twice.
    feeding.catch(() => undefined);

    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        counters.compressedBytes = gunzip.bytesWritten;
        counters.expandedBytes += chunk.length;
        const allowed =
          limits.maxExpansionRatio * gunzip.bytesWritten + limits.expansionAllowanceBytes;
        if (counters.expandedBytes > allowed) {
          throw new GatewayError(
            'too_large',
            `The archive expands to more than ${limits.maxExpansionRatio} times its compressed size.`,
            { details: { limit: 'expansion' } },
          );
        }
        yield* slices(chunk);
      }
      await feeding;
    } catch (error) {
      if (isZlibError(error)) {
        throw new GatewayError('invalid_archive', 'The body is not a complete gzip stream.', {
          cause: error,
        });
      }
      throw error;
    } finally {
      gunzip.destroy();
    }
  } finally {
    await source.return?.();
  }
}
