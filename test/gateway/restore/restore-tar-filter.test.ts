import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RestoreTarFilter } from '../../../gateway/restore/restore-tar-filter.js';
import { makeTar } from '../gateway-fixtures.js';
import { untar } from './restore-support.js';

async function filtered(
  archive: Buffer,
  capture: string[] = [],
): Promise<{ out: Buffer; captured: Map<string, string>; dropped: string[] }> {
  const captured = new Map<string, string>();
  const filter = new RestoreTarFilter({
    capture: new Set(capture),
    onCaptured: (path, content) => captured.set(path, content.toString('utf8')),
  });
  const chunks: Buffer[] = [];
  // Small chunks, so entries and headers straddle chunk boundaries.
  const source = Readable.from(
    Array.from({ length: Math.ceil(archive.length / 333) }, (_, i) =>
      archive.subarray(i * 333, (i + 1) * 333),
    ),
  );
  await pipeline(source, filter, async (stream: AsyncIterable<Buffer>) => {
    for await (const chunk of stream) chunks.push(chunk);
  });
  return { out: Buffer.concat(chunks), captured, dropped: filter.dropped };
}

const longKept = `${'long/'.repeat(30)}keep.ts`;
const longDropped = `${'deep/'.repeat(30)}.env`;

test('drops filtered entries with their long-name headers and keeps the rest intact', async () => {
  const archive = await makeTar({
    'src/ok.ts': 'ok\n',
    [longDropped]: 'SECRET=1\n',
    [longKept]: 'kept\n',
    '.aws/credentials': 'aws\n',
    'certs/server.pem': 'pem\n',
    'dist/index.html': '<p>hi</p>',
  });

  const { out, dropped } = await filtered(archive);
  const files = await untar(out);
  expect([...files.keys()].sort()).toEqual(['dist/index.html', longKept, 'src/ok.ts'].sort());
  expect(files.get(longKept)).toBe('kept\n');
  expect(dropped.sort()).toEqual(['.aws/credentials', 'certs/server.pem', longDropped].sort());
  expect(out.toString('latin1')).not.toContain('SECRET');
  expect(out.toString('latin1')).not.toContain('deep/deep');
});

test('passes an archive with nothing to drop through byte for byte, however it is chunked', async () => {
  const archive = await makeTar({
    'dist/index.html': '<p>hi</p>',
    [longKept]: 'kept\n',
    'src/big.bin': Buffer.alloc(70_000, 7),
  });

  for (const size of [1, 511, 512, 513, 65_536, archive.length]) {
    const filter = new RestoreTarFilter();
    const chunks: Buffer[] = [];
    const source = Readable.from(
      Array.from({ length: Math.ceil(archive.length / size) }, (_, i) =>
        archive.subarray(i * size, (i + 1) * size),
      ),
    );
    await pipeline(source, filter, async (stream: AsyncIterable<Buffer>) => {
      for await (const chunk of stream) chunks.push(chunk);
    });
    expect(Buffer.concat(chunks).equals(archive)).toBe(true);
  }
});

test('hands over the content of the files asked for, and only those', async () => {
  const big = 'x'.repeat(5000);
  const archive = await makeTar({ 'a.txt': 'alpha\n', 'b.bin': big, 'c.txt': '', '.env': 'no' });

  const { captured } = await filtered(archive, ['b.bin', 'c.txt', '.env']);
  expect(captured).toEqual(
    new Map([
      ['b.bin', big],
      ['c.txt', ''],
    ]),
  );
});

test('an archive cut short is an error, not a shorter tar', async () => {
  const archive = await makeTar({ 'a.txt': 'y'.repeat(3000) });
  await expect(filtered(archive.subarray(0, 1536))).rejects.toMatchObject({
    code: 'invalid_archive',
  });
});
