import type { ReadEntry } from 'tar';
import { CheckedTarParser } from '../../gateway/ingest/checked-tar-parser.js';
import type { FramedEntry } from '../../gateway/ingest/tar-framer.js';
import { endOfArchive, tarEntry, tarHeader } from '../support/raw-tar.js';

function announced(overrides: Partial<FramedEntry>): FramedEntry {
  return {
    kind: 'file',
    typeflag: '0',
    path: Buffer.from('a.txt'),
    linkPath: Buffer.alloc(0),
    size: 5,
    mode: 0o644,
    ...overrides,
  };
}

describe('node-tar checked against the raw reading', () => {
  test('hands over the body of an entry both readings agree on', async () => {
    const parser = new CheckedTarParser();
    const chunks: Buffer[] = [];
    parser.expect(announced({}), (entry: ReadEntry) =>
      entry.on('data', (chunk: Buffer) => chunks.push(chunk)),
    );

    parser.write(tarEntry({ path: 'a.txt', body: 'hello' }));
    parser.write(endOfArchive());
    await parser.end();

    expect(Buffer.concat(chunks).toString()).toBe('hello');
  });

  test('refuses an entry node-tar reads with another size', async () => {
    const parser = new CheckedTarParser();
    parser.expect(announced({ size: 4 }), (entry) => entry.resume());

    expect(() => parser.write(tarEntry({ path: 'a.txt', body: 'hello' }))).toThrow(
      expect.objectContaining({
        code: 'invalid_archive',
        message: 'The body is not a valid tar archive: node-tar read an entry of another size.',
      }),
    );
  });

  test('refuses an entry node-tar reads as another type', async () => {
    const parser = new CheckedTarParser();
    parser.expect(announced({ kind: 'directory', size: 0 }), (entry) => entry.resume());

    expect(() => parser.write(tarEntry({ path: 'a.txt', body: 'hello' }))).toThrow(
      expect.objectContaining({
        message: 'The body is not a valid tar archive: node-tar read an entry of another type.',
      }),
    );
  });

  test('refuses an entry the raw reading never announced', () => {
    const parser = new CheckedTarParser();
    expect(() => parser.write(tarEntry({ path: 'a.txt', body: 'hello' }))).toThrow(
      expect.objectContaining({
        message:
          'The body is not a valid tar archive: node-tar read an entry the raw reading did not.',
      }),
    );
  });

  test('refuses an announced entry node-tar never read', async () => {
    const parser = new CheckedTarParser();
    parser.expect(announced({}), (entry) => entry.resume());
    parser.write(endOfArchive());
    await expect(parser.end()).rejects.toMatchObject({ code: 'invalid_archive' });
  });

  test('turns a strict node-tar error into invalid_archive', async () => {
    const parser = new CheckedTarParser();
    const header = tarHeader({ name: 'a.txt', size: 0, checksum: 1 });
    expect(() => parser.write(Buffer.concat([header, endOfArchive()]))).toThrow(
      expect.objectContaining({ code: 'invalid_archive' }),
    );
  });
});
