import { Transform, type TransformCallback } from 'node:stream';
import { bundleFilterReason } from '../../core/app-bundle-filter.js';
import { TarFramer, type FramedEntry } from '../ingest/tar-framer.js';

const BLOCK = 512;
const TYPEFLAG_OFFSET = 156;
const GLOBAL_PAX = 0x67; // 'g'

/** What the filter hands back besides the filtered tar. */
export interface RestoreTarFilterOptions {
  /** Called with the content of each kept file whose path is in `capture`, once it is whole. */
  onCaptured?: (path: string, content: Buffer) => void;
  /** Paths whose content the caller wants (files the store does not hold yet). */
  capture?: ReadonlySet<string>;
}

interface CurrentEntry {
  keep: boolean;
  /** Bytes of this entry (its header block and padded body) still to pass. */
  remaining: number;
  headerLeft: number;
  dataLeft: number;
  path: string;
  chunks: Buffer[] | null;
}

function isZeroBlock(bytes: Buffer): boolean {
  if (bytes.length !== BLOCK) return false;
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/**
 * The pieces as one buffer. Where nothing was dropped they are back-to-back views of the same
 * input chunk, and the answer is a view over them: no copy of the bytes passing through.
 */
function joined(pieces: Buffer[]): Buffer {
  const first = pieces[0]!;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < pieces.length; i += 1) {
    const piece = pieces[i]!;
    if (piece.buffer !== first.buffer || piece.byteOffset !== end) return Buffer.concat(pieces);
    end += piece.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

/** The path the app-bundle filter judges: directories keep their trailing slash. */
function pathOf(entry: FramedEntry): string {
  const path = entry.path.toString('utf8');
  return entry.kind === 'directory' && !path.endsWith('/') ? `${path}/` : path;
}

/**
 * Passes a tar through, byte for byte, less the entries the app-bundle filter drops (and the
 * extended headers that belong to them), so that a secret someone committed to the repository
 * never leaves in a restore. It can also hand the caller the content of chosen files as they
 * pass, which lets a restore fill the store without reading the repository twice.
 */
export class RestoreTarFilter extends Transform {
  readonly #framer: TarFramer;
  readonly #options: RestoreTarFilterOptions;
  #held: Buffer[] = [];
  #current: CurrentEntry | null = null;
  #out: Buffer[] = [];
  /** Paths dropped by the filter, for the log line of the restore. */
  readonly dropped: string[] = [];

  constructor(options: RestoreTarFilterOptions = {}) {
    super();
    this.#options = options;
    this.#framer = new TarFramer({
      onEntry: (entry) => this.#onEntry(entry),
      forward: (bytes) => this.#forward(bytes),
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.#framer.push(chunk);
    } catch (error) {
      done(error as Error);
      return;
    }
    this.#flushOut();
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#framer.finish();
    } catch (error) {
      done(error as Error);
      return;
    }
    this.#out.push(...this.#held);
    this.#held = [];
    this.#flushOut();
    done();
  }

  #flushOut(): void {
    if (this.#out.length === 0) return;
    const bytes = joined(this.#out);
    this.#out = [];
    this.push(bytes);
  }

  #onEntry(entry: FramedEntry): void {
    const path = pathOf(entry);
    const keep = bundleFilterReason(path) === null;
    if (keep) this.#out.push(...this.#held);
    else this.dropped.push(path);
    this.#held = [];

    const wanted = keep && entry.kind === 'file' && this.#options.capture?.has(path) === true;
    this.#current = {
      keep,
      remaining: BLOCK + Math.ceil(entry.size / BLOCK) * BLOCK,
      headerLeft: BLOCK,
      dataLeft: entry.size,
      path,
      chunks: wanted ? [] : null,
    };
  }

  #forward(bytes: Buffer): void {
    const current = this.#current;
    if (current === null) {
      // Between entries: an extended header waits for the entry it describes, while the
      // archive's global header and its end marker belong to no entry and always pass.
      if (bytes[TYPEFLAG_OFFSET] === GLOBAL_PAX || isZeroBlock(bytes)) this.#out.push(bytes);
      else this.#held.push(bytes);
      return;
    }

    if (current.keep) this.#out.push(bytes);
    if (current.chunks !== null) this.#capture(current, bytes);
    current.remaining -= bytes.length;
    if (current.remaining > 0) return;

    this.#current = null;
    if (current.chunks !== null) {
      this.#options.onCaptured?.(current.path, Buffer.concat(current.chunks));
    }
  }

  #capture(current: CurrentEntry, bytes: Buffer): void {
    let rest = bytes;
    if (current.headerLeft > 0) {
      const skip = Math.min(current.headerLeft, rest.length);
      current.headerLeft -= skip;
      rest = rest.subarray(skip);
    }
    const take = Math.min(current.dataLeft, rest.length);
    if (take === 0) return;
    current.chunks!.push(rest.subarray(0, take));
    current.dataLeft -= take;
  }
}
