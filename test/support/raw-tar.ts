/**
 * A tar writer that writes exactly what it is told, block by block, so tests can build the
 * archives a careful tool would refuse to create: NUL bytes inside names, absolute and `..`
 * paths, bad checksums, devices, pax and GNU long-name headers with hostile content.
 */

export type Bytes = string | Buffer;

export interface RawHeaderFields {
  /** The 100-byte name field, written as given (bytes past 100 are cut). */
  name: Bytes;
  /** The 155-byte ustar prefix field. */
  prefix?: Bytes;
  /** The type flag: `'0'` file, `'5'` folder, `'2'` symlink, `'1'` hard link, `'\0'` old file… */
  type?: string;
  mode?: number;
  size?: number;
  linkname?: Bytes;
  /** `ustar` (POSIX, the default), `gnu` (`ustar  \0`), or `none` (old v7 header). */
  magic?: 'ustar' | 'gnu' | 'none';
  /** Write this checksum instead of the right one. */
  checksum?: number;
}

export interface RawEntry extends Partial<RawHeaderFields> {
  /** The entry's path; written to the name field, or to a pax `path` record when too long. */
  path?: Bytes;
  body?: Bytes;
  /** Records of a pax `x` header written just before the entry. */
  pax?: Record<string, Bytes>;
  /** A GNU `L` long-name header written just before the entry, with this body. */
  gnuLongName?: Bytes;
  /** A GNU `K` long-link header written just before the entry, with this body. */
  gnuLongLink?: Bytes;
}

const BLOCK = 512;

function bytes(value: Bytes): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** Pads to whole 512-byte blocks with zeros. */
export function padToBlock(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

/** One 512-byte header block. */
export function tarHeader(fields: RawHeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  bytes(fields.name).copy(block, 0, 0, 100);
  block.write(octal(fields.mode ?? 0o644, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(fields.size ?? 0, 12), 124, 'latin1');
  block.write(octal(1_700_000_000, 12), 136, 'latin1');
  block.write(fields.type ?? '0', 156, 'latin1');
  if (fields.linkname !== undefined) bytes(fields.linkname).copy(block, 157, 0, 100);

  const magic = fields.magic ?? 'ustar';
  if (magic === 'ustar') block.write('ustar\u000000', 257, 'latin1');
  if (magic === 'gnu') block.write('ustar  \u0000', 257, 'latin1');
  if (fields.prefix !== undefined) bytes(fields.prefix).copy(block, 345, 0, 155);

  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.fill(0, 148, 156);
  block.write(`${(fields.checksum ?? sum).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** A pax record, `<length> <key>=<value>\n`, with its length computed. */
export function paxRecord(key: string, value: Bytes): Buffer {
  const payload = Buffer.concat([Buffer.from(` ${key}=`), bytes(value), Buffer.from('\n')]);
  let length = payload.length + 1;
  while (String(length).length + payload.length !== length) length += 1;
  return Buffer.concat([Buffer.from(String(length)), payload]);
}

/** A pax extended header (`x`, or `g` for a global one) with its body. */
export function paxHeader(records: Record<string, Bytes>, type: 'x' | 'g' = 'x'): Buffer {
  const body = Buffer.concat(Object.entries(records).map(([key, value]) => paxRecord(key, value)));
  return Buffer.concat([
    tarHeader({ name: 'PaxHeader', type, size: body.length }),
    padToBlock(body),
  ]);
}

function longNameHeader(type: 'L' | 'K', value: Bytes): Buffer {
  const body = Buffer.concat([bytes(value), Buffer.alloc(1)]);
  return Buffer.concat([
    tarHeader({ name: '././@LongLink', type, size: body.length, magic: 'gnu' }),
    padToBlock(body),
  ]);
}

/** One entry: its extended headers, its header and its padded body. */
export function tarEntry(entry: RawEntry): Buffer {
  const body = entry.body === undefined ? Buffer.alloc(0) : bytes(entry.body);
  const parts: Buffer[] = [];
  const records: Record<string, Bytes> = { ...entry.pax };

  let name = entry.name ?? entry.path ?? '';
  if (entry.name === undefined && entry.path !== undefined && bytes(entry.path).length > 100) {
    records.path = entry.path;
    name = bytes(entry.path).subarray(0, 99);
  }

  if (Object.keys(records).length > 0) parts.push(paxHeader(records));
  if (entry.gnuLongName !== undefined) parts.push(longNameHeader('L', entry.gnuLongName));
  if (entry.gnuLongLink !== undefined) parts.push(longNameHeader('K', entry.gnuLongLink));

  parts.push(
    tarHeader({
      ...entry,
      name,
      size: entry.size ?? body.length,
    }),
  );
  parts.push(padToBlock(body));
  return Buffer.concat(parts);
}

/** The end-of-archive marker: two zero blocks. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** A whole archive; `end: false` leaves the end marker off. */
export function buildTar(entries: RawEntry[], options: { end?: boolean } = {}): Buffer {
  const parts = entries.map(tarEntry);
  if (options.end !== false) parts.push(endOfArchive());
  return Buffer.concat(parts);
}

/** A regular file entry. */
export function fileEntry(path: string, body: Bytes, mode = 0o644): RawEntry {
  return { path, body, mode, type: '0' };
}

/** A folder entry (`path` should end in `/`). */
export function dirEntry(path: string): RawEntry {
  return { path, type: '5', mode: 0o755 };
}

/** A symbolic link entry. */
export function symlinkEntry(path: string, target: string): RawEntry {
  return { path, type: '2', linkname: target, mode: 0o777 };
}

/** The smallest snapshot a worker may send: `dist/index.html`. */
export function minimalApp(): RawEntry[] {
  return [fileEntry('dist/index.html', '<!doctype html><title>app</title>\n')];
}
