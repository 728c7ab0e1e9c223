import { GatewayError } from '../../core/errors.js';

/** The size of a tar block; headers are one block, bodies are padded to whole blocks. */
export const BLOCK_SIZE = 512;

/** The kind of a tar entry, as the gateway reads the type flag. */
export type TarEntryKind =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'device'
  | 'fifo'
  | 'pax'
  | 'pax-global'
  | 'gnu-long-path'
  | 'gnu-long-link'
  | 'unknown';

/** One header block as written, fields as raw bytes; nothing decoded that a path depends on. */
export interface TarHeaderBlock {
  kind: TarEntryKind;
  /** The type flag character (`''` for an old-style NUL flag), for messages. */
  typeflag: string;
  /** `prefix/name` as node-tar joins them (the ustar prefix is read only under ustar magic). */
  path: Buffer;
  linkPath: Buffer;
  size: number;
  mode: number;
}

const KINDS = new Map<string, TarEntryKind>([
  ['0', 'file'],
  ['', 'file'],
  ['7', 'file'],
  ['5', 'directory'],
  ['2', 'symlink'],
  ['1', 'hardlink'],
  ['3', 'device'],
  ['4', 'device'],
  ['6', 'fifo'],
  ['x', 'pax'],
  ['g', 'pax-global'],
  ['L', 'gnu-long-path'],
  ['K', 'gnu-long-link'],
]);

const USTAR_MAGIC = Buffer.from('ustar\u000000', 'latin1');

function invalid(reason: string): GatewayError {
  return new GatewayError('invalid_archive', `The body is not a valid tar archive: ${reason}.`);
}

/** True when the block is all zero bytes: half of the end-of-archive marker. */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK_SIZE; i += 1) {
    if (block[i] !== 0) return false;
  }
  return true;
}

/**
 * A NUL-terminated text field. node-tar reads such a field only up to its first NUL; anything
 * written after that NUL is a second name that another reader may see, so it is refused.
 */
function textField(block: Buffer, offset: number, length: number, name: string): Buffer {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  if (end === -1) return field;

  for (let i = end + 1; i < field.length; i += 1) {
    if (field[i] !== 0) {
      throw new GatewayError('unsafe_path', `The archive holds a NUL byte inside a ${name}.`);
    }
  }
  return field.subarray(0, end);
}

/** An octal number field, or a base-256 one (high bit set) as GNU tar writes large sizes. */
function numberField(block: Buffer, offset: number, length: number, name: string): number {
  const field = block.subarray(offset, offset + length);

  if (field[0]! & 0x80) {
    if (field[0] === 0xff) throw invalid(`negative ${name}`);
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i += 1) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw invalid(`${name} out of range`);
    return value;
  }

  const end = field.indexOf(0);
  const text = field
    .subarray(0, end === -1 ? field.length : end)
    .toString('latin1')
    .trim();
  if (!/^[0-7]*$/.test(text)) throw invalid(`${name} is not an octal number`);
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOf(block: Buffer): number {
  // The checksum field itself counts as eight spaces.
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i += 1) sum += block[i]!;
  for (let i = 156; i < BLOCK_SIZE; i += 1) sum += block[i]!;
  return sum;
}

/**
 * Reads one header block as written, checking its checksum, and refusing a NUL byte inside the
 * name, prefix or link name fields. The caller handles zero blocks before calling this.
 */
export function readHeaderBlock(block: Buffer): TarHeaderBlock {
  if (numberField(block, 148, 8, 'checksum') !== checksumOf(block)) throw invalid('bad checksum');

  const typeflag = block[156] === 0 ? '' : String.fromCharCode(block[156]!);
  let path = textField(block, 0, 100, 'name field');

  // node-tar joins the ustar prefix only under the exact POSIX magic and version, and reads 130
  // bytes of it when byte 475 is NUL (its own layout keeps times after that); the same rule here
  // keeps this reading and node-tar's in step.
  if (block.subarray(257, 265).equals(USTAR_MAGIC)) {
    const prefixLength = block[475] !== 0 ? 155 : 130;
    const prefix = textField(block, 345, prefixLength, 'prefix field');
    if (prefix.length > 0) path = Buffer.concat([prefix, Buffer.from('/'), path]);
  }

  return {
    kind: KINDS.get(typeflag) ?? 'unknown',
    typeflag,
    path,
    linkPath: textField(block, 157, 100, 'link name field'),
    size: numberField(block, 124, 12, 'size'),
    mode: numberField(block, 100, 8, 'mode'),
  };
}
