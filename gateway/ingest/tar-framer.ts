import { GatewayError } from '../../core/errors.js';
import { MAX_META_BYTES } from './archive-limits.js';
import { parsePaxRecords } from './pax-records.js';
import {
  BLOCK_SIZE,
  isZeroBlock,
  readHeaderBlock,
  type TarEntryKind,
  type TarHeaderBlock,
} from './tar-header-block.js';

/** One entry of the archive as written: its path after pax and GNU long names, as raw bytes. */
export interface FramedEntry {
  kind: Exclude<TarEntryKind, 'pax' | 'pax-global' | 'gnu-long-path' | 'gnu-long-link'>;
  typeflag: string;
  path: Buffer;
  linkPath: Buffer;
  /** Bytes of the body (pax `size` applied, as node-tar and GNU tar both apply it). */
  size: number;
  mode: number;
}

/** Where the framer sends what it reads. */
export interface TarFramerHooks {
  /** Called once per entry, before any of its bytes are forwarded; throwing stops the read. */
  onEntry(entry: FramedEntry): void;
  /**
   * The archive's bytes, in order, up to the end-of-archive marker. Each pax or long-name header
   * is forwarded whole, with its body, in one piece: node-tar decodes such a body to text chunk
   * by chunk, and a multi-byte character split between two chunks would change the name it
   * reads.
   */
  forward(bytes: Buffer): void;
}

/** What pax and GNU long-name headers set for the next entry. */
interface PendingMeta {
  path?: Buffer;
  linkPath?: Buffer;
  size?: number;
}

type State = 'header' | 'meta' | 'body' | 'second-zero' | 'end';

function invalid(reason: string): GatewayError {
  return new GatewayError('invalid_archive', `The body is not a valid tar archive: ${reason}.`);
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
}

/** A GNU long name: the name, then nothing but NUL bytes. */
function longName(body: Buffer, what: string): Buffer {
  const end = body.indexOf(0);
  if (end === -1) return body;
  for (let i = end + 1; i < body.length; i += 1) {
    if (body[i] !== 0)
      throw new GatewayError('unsafe_path', `The archive holds a NUL byte inside a ${what}.`);
  }
  return body.subarray(0, end);
}

function withoutNul(value: Buffer, what: string): Buffer {
  if (value.includes(0)) {
    throw new GatewayError('unsafe_path', `The archive holds a NUL byte inside a ${what}.`);
  }
  return value;
}

/**
 * The raw reading of a tar stream, block by block, ahead of node-tar: it sees every header as
 * written (before node-tar cuts names at a NUL byte or rejoins fields), hands each entry to the
 * caller, and forwards the same bytes on. It refuses what tar readers disagree about rather than
 * picking a reading: a lone zero block, data after the end-of-archive marker, two long names for
 * one entry, a global pax header that sets a path or size, sparse files, a directory with a body.
 */
export class TarFramer {
  readonly #hooks: TarFramerHooks;
  #state: State = 'header';
  #held: Buffer[] = [];
  #heldBytes = 0;
  #need = BLOCK_SIZE;
  #bodyRemaining = 0;
  #metaHeader: TarHeaderBlock | null = null;
  #metaBlock: Buffer | null = null;
  #pending: PendingMeta = {};
  #trailingBytes = 0;
  #sawEntry = false;

  constructor(hooks: TarFramerHooks) {
    this.#hooks = hooks;
  }

  /** Reads the next bytes of the archive. */
  push(chunk: Buffer): void {
    let offset = 0;

    while (offset < chunk.length) {
      if (this.#state === 'body') {
        const take = Math.min(this.#bodyRemaining, chunk.length - offset);
        this.#hooks.forward(chunk.subarray(offset, offset + take));
        offset += take;
        this.#bodyRemaining -= take;
        if (this.#bodyRemaining === 0) this.#state = 'header';
        continue;
      }

      if (this.#state === 'end') {
        this.#readTrailing(chunk.subarray(offset));
        return;
      }

      const take = Math.min(this.#need - this.#heldBytes, chunk.length - offset);
      this.#held.push(chunk.subarray(offset, offset + take));
      this.#heldBytes += take;
      offset += take;
      if (this.#heldBytes < this.#need) continue;

      const unit = this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held);
      this.#held = [];
      this.#heldBytes = 0;
      if (this.#state === 'meta') this.#readMetaBody(unit);
      else this.#readBlock(unit);
    }
  }

  /** Called at the end of the input: the archive must have ended with its marker. */
  finish(): void {
    if (this.#state === 'end') return;
    if (this.#state === 'header' && this.#heldBytes === 0 && !this.#sawEntry) {
      throw invalid('the body is empty or holds no tar header');
    }
    throw invalid('the archive is cut short');
  }

  #readBlock(block: Buffer): void {
    if (isZeroBlock(block)) {
      if (this.#pending.path || this.#pending.linkPath || this.#pending.size !== undefined) {
        throw invalid('a long-name or pax header with no entry after it');
      }
      this.#hooks.forward(block);
      this.#state = this.#state === 'second-zero' ? 'end' : 'second-zero';
      return;
    }

    // GNU tar stops at the first zero block, node-tar reads on: an entry after a lone zero block
    // would be seen by one and not the other.
    if (this.#state === 'second-zero') throw invalid('a lone zero block inside the archive');

    const header = readHeaderBlock(block);
    this.#sawEntry = true;

    switch (header.kind) {
      case 'pax':
      case 'pax-global':
      case 'gnu-long-path':
      case 'gnu-long-link':
        if (header.size === 0) throw invalid('an empty extended header');
        if (header.size > MAX_META_BYTES) throw invalid('an extended header larger than 1 MiB');
        this.#metaHeader = header;
        this.#metaBlock = block;
        this.#need = padded(header.size);
        this.#state = 'meta';
        return;
      default:
        this.#readEntryHeader(header, block);
    }
  }

  #readEntryHeader(header: TarHeaderBlock, block: Buffer): void {
    const pending = this.#pending;
    this.#pending = {};

    const path = pending.path ?? header.path;
    const size = pending.size ?? header.size;
    let kind = header.kind as FramedEntry['kind'];

    // Old tar marks a directory as a file whose name ends in `/`; node-tar reads it so, and gives
    // it no body.
    if (
      kind === 'file' &&
      (header.typeflag === '0' || header.typeflag === '') &&
      path.at(-1) === 0x2f
    ) {
      kind = 'directory';
    }
    if (kind === 'directory' && size !== 0) throw invalid('a directory entry with a body');
    if (kind === 'symlink' && size !== 0) throw invalid('a symbolic link with a body');

    this.#hooks.onEntry({
      kind,
      typeflag: header.typeflag,
      path,
      linkPath: pending.linkPath ?? header.linkPath,
      size,
      mode: header.mode,
    });
    this.#hooks.forward(block);

    this.#need = BLOCK_SIZE;
    this.#bodyRemaining = padded(size);
    this.#state = this.#bodyRemaining > 0 ? 'body' : 'header';
  }

  #readMetaBody(unit: Buffer): void {
    const header = this.#metaHeader!;
    const body = unit.subarray(0, header.size);

    switch (header.kind) {
      case 'pax':
        this.#applyPax(body);
        break;
      case 'pax-global':
        this.#checkGlobalPax(body);
        break;
      case 'gnu-long-path':
        this.#setPending('path', longName(body, 'GNU long name'));
        break;
      default:
        this.#setPending('linkPath', longName(body, 'GNU long link name'));
    }

    this.#hooks.forward(Buffer.concat([this.#metaBlock!, unit]));
    this.#metaHeader = null;
    this.#metaBlock = null;
    this.#need = BLOCK_SIZE;
    this.#state = 'header';
  }

  #setPending(field: 'path' | 'linkPath', value: Buffer): void {
    if (this.#pending[field] !== undefined) throw invalid('two long names for one entry');
    this.#pending[field] = value;
  }

  #applyPax(body: Buffer): void {
    const records = parsePaxRecords(body);

    for (const [key, value] of records) {
      if (key.startsWith('GNU.sparse.')) {
        throw new GatewayError('unsupported_entry', 'The archive holds a sparse file.');
      }
      switch (key) {
        case 'path':
          this.#setPending('path', withoutNul(value, 'pax path'));
          break;
        case 'linkpath':
          this.#setPending('linkPath', withoutNul(value, 'pax link path'));
          break;
        case 'size': {
          const text = value.toString('latin1');
          if (!/^[0-9]{1,16}$/.test(text)) throw invalid('a pax size that is not a number');
          this.#pending.size = Number(text);
          break;
        }
        case 'type':
          // Not a POSIX key, yet node-tar lets it change the entry's type.
          throw invalid('a pax header that sets the entry type');
      }
    }
  }

  #checkGlobalPax(body: Buffer): void {
    const records = parsePaxRecords(body);
    for (const key of ['path', 'linkpath', 'size', 'type']) {
      if (records.has(key)) throw invalid(`a global pax header that sets ${key}`);
    }
    for (const key of records.keys()) {
      if (key.startsWith('GNU.sparse.')) throw invalid('a global pax header that sets sparse data');
    }
  }

  #readTrailing(rest: Buffer): void {
    for (const byte of rest) {
      if (byte !== 0) throw invalid('data after the end of the archive');
    }
    this.#trailingBytes += rest.length;
    if (this.#trailingBytes > MAX_META_BYTES)
      throw invalid('more than 1 MiB of padding after the end');
  }
}
