import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { create as createTar } from 'tar';
import { GatewayError } from '../../core/errors.js';
import {
  readSnapshotArchive,
  readStagedContent,
  type ArchiveReadOptions,
} from '../../gateway/ingest/read-snapshot-archive.js';
import { summarizeStagedFiles } from '../../gateway/ingest/snapshot-summary.js';
import {
  buildTar,
  dirEntry,
  fileEntry,
  minimalApp,
  paxHeader,
  symlinkEntry,
  type RawEntry,
} from '../support/raw-tar.js';
import {
  MINIMAL_APP,
  providerArchive,
  summaryOf,
  workerSnapshot,
} from '../support/snapshot-archives.js';
import { createStagingArea, streamOf, type StagingArea } from '../support/staging-dirs.js';

const run = promisify(execFile);

function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

let area: StagingArea;

beforeEach(async () => {
  area = await createStagingArea();
});

afterEach(async () => {
  await area.remove();
});

function read(archive: Buffer | Readable, options: Partial<ArchiveReadOptions> = {}) {
  const input = Buffer.isBuffer(archive) ? streamOf(archive) : archive;
  return readSnapshotArchive(input, { mode: 'worker', stagingDir: area.stagingDir, ...options });
}

async function expectRefused(promise: Promise<unknown>, code: string): Promise<GatewayError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code).toBe(code);
  expect(await area.contents()).toEqual(['staging']);
  return error as GatewayError;
}

const APP = {
  'dist/index.html': '<!doctype html><script src="app.js"></script>\n',
  'dist/app.js': 'console.log("app");\n',
  'src/main.ts': 'export const answer = 42;\n',
  'bin/build.sh': { body: '#!/bin/sh\necho build\n', mode: 0o755 },
};

describe('a worker snapshot', () => {
  test.each([
    ['tar', false],
    ['tar.gz', true],
  ])('is read from a %s, each kept file staged with its hash and size', async (_name, gzip) => {
    const result = await read(workerSnapshot(APP, { gzip }));

    expect(result.files.map((file) => file.path)).toEqual(Object.keys(APP));
    for (const file of result.files) {
      const original = APP[file.path as keyof typeof APP];
      const content = Buffer.from(typeof original === 'string' ? original : original.body);
      expect(file.sha256).toBe(sha256(content));
      expect(file.size).toBe(content.length);
      expect(await readStagedContent(file)).toEqual(content);
      expect(file.staged.path.startsWith(`${area.stagingDir}/`)).toBe(true);
    }
    expect(result.skipped).toEqual([]);
    expect(result.manifest).toBeNull();
  });

  test('takes ./ prefixes and the ./ root entry as tar -C dir . writes them', async () => {
    const result = await read(workerSnapshot(APP, { dotSlash: true }));
    expect(result.files.map((file) => file.path)).toEqual(Object.keys(APP));
  });

  test("keeps the owner's executable bit and nothing else of the mode", async () => {
    const result = await read(
      workerSnapshot({
        ...MINIMAL_APP,
        'bin/a': { body: 'a', mode: 0o755 },
        'bin/b': { body: 'b', mode: 0o744 },
        'bin/c': { body: 'c', mode: 0o655 },
        'bin/d': { body: 'd', mode: 0o600 },
      }),
    );
    const executable = Object.fromEntries(result.files.map((file) => [file.path, file.executable]));
    expect(executable).toEqual({
      'dist/index.html': false,
      'bin/a': true,
      'bin/b': true,
      'bin/c': false,
      'bin/d': false,
    });
  });

  test('stages identical content once, small or large', async () => {
    const large = Buffer.alloc(600 * 1024, 'L');
    const result = await read(
      workerSnapshot({
        ...MINIMAL_APP,
        'a/copy.txt': 'same',
        'b/copy.txt': 'same',
        'c/big.bin': large,
        'd/big.bin': large,
      }),
    );

    const byPath = Object.fromEntries(result.files.map((file) => [file.path, file]));
    expect(byPath['a/copy.txt']!.staged).toEqual(byPath['b/copy.txt']!.staged);
    expect(byPath['c/big.bin']!.staged).toEqual(byPath['d/big.bin']!.staged);
    expect(await readStagedContent(byPath['b/copy.txt']!)).toEqual(Buffer.from('same'));
    // Buffer.equals: jest's deep equality walks a large buffer byte by byte, slowly.
    expect((await readStagedContent(byPath['d/big.bin']!)).equals(large)).toBe(true);
    // Small contents share one spool, each written once; a large one has a file of its own.
    expect((await readdir(area.stagingDir)).sort()).toEqual(
      [sha256(large), 'small-contents'].sort(),
    );
    const spool = await readFile(join(area.stagingDir, 'small-contents'));
    expect(spool.length).toBe(
      Buffer.byteLength(MINIMAL_APP['dist/index.html'] as string) + Buffer.byteLength('same'),
    );
  });

  test('reads back every content exactly when many small files fill several spool batches', async () => {
    const files: Record<string, Buffer> = { 'dist/index.html': Buffer.from('<!doctype html>') };
    for (let i = 0; i < 400; i += 1) {
      // Distinct, uneven sizes so batch edges fall inside files, with one large file among them.
      files[`src/f${i}.bin`] = Buffer.alloc(1000 + ((i * 37) % 5000), i % 251);
      if (i === 200) files['src/large.bin'] = Buffer.alloc(300 * 1024, 'x');
    }
    const result = await read(workerSnapshot(files));

    expect(result.files).toHaveLength(Object.keys(files).length);
    for (const file of result.files) {
      expect((await readStagedContent(file)).equals(files[file.path]!)).toBe(true);
    }
  });

  test('stages an empty file', async () => {
    const result = await read(workerSnapshot({ ...MINIMAL_APP, 'dist/.nojekyll': '' }));
    const empty = result.files.find((file) => file.path === 'dist/.nojekyll')!;
    expect(empty).toMatchObject({ size: 0, sha256: sha256('') });
    expect(await readStagedContent(empty)).toEqual(Buffer.alloc(0));
  });

  test('requires dist/index.html', async () => {
    await expectRefused(
      read(workerSnapshot({ 'src/main.ts': 'x', 'dist/app.js': 'y' })),
      'dist_index_missing',
    );
  });

  test('does not take a dist/index.html the filter drops, or one spelled in another case', async () => {
    await expectRefused(read(workerSnapshot({ 'DIST/INDEX.HTML': 'x' })), 'dist_index_missing');
  });

  test('lists symlinks, the root manifest and filtered paths in skipped, folders once', async () => {
    const entries: RawEntry[] = [
      ...minimalApp(),
      symlinkEntry('dist/latest', 'index.html'),
      fileEntry('second-app.json', '{"type":"forged"}'),
      fileEntry('node_modules/react/index.js', 'x'),
      fileEntry('node_modules/react/package.json', '{}'),
      symlinkEntry('node_modules/.bin/tsc', '../typescript/bin/tsc'),
      dirEntry('.git/'),
      fileEntry('.git/HEAD', 'ref: refs/heads/main\n'),
      fileEntry('.git/config', '[core]\n'),
      fileEntry('.env', 'TOKEN=secret'),
      fileEntry('apps/api/.env.local', 'TOKEN=secret'),
      fileEntry('apps/api/.env.example', 'TOKEN='),
      fileEntry('deploy/id_ed25519', 'key'),
      fileEntry('server.log', 'log'),
      fileEntry('.DS_Store', 'x'),
      dirEntry('.next/'),
      dirEntry('.next/cache/'),
      fileEntry('.next/cache/a.pack', 'x'),
      fileEntry('.next/static/main.js', 'kept'),
    ];
    const result = await read(buildTar(entries));

    expect(result.skipped).toEqual([
      { path: 'dist/latest', reason: 'symbolic link: links are not stored' },
      { path: 'second-app.json', reason: 'the gateway writes its own second-app.json' },
      { path: 'node_modules/', reason: 'installed dependencies' },
      { path: '.git/', reason: 'git metadata' },
      { path: '.env', reason: 'environment file, may hold secrets' },
      { path: 'apps/api/.env.local', reason: 'environment file, may hold secrets' },
      { path: 'deploy/id_ed25519', reason: 'private key or certificate' },
      { path: 'server.log', reason: 'log file' },
      { path: '.DS_Store', reason: 'operating system metadata' },
      { path: '.next/cache/', reason: 'build or tool cache' },
    ]);
    expect(result.files.map((file) => file.path)).toEqual([
      'dist/index.html',
      'apps/api/.env.example',
      '.next/static/main.js',
    ]);
    // Only the kept files' bytes reach the disk: the spool holds exactly those.
    expect(await readdir(area.stagingDir)).toEqual(['small-contents']);
    const kept = new Map(result.files.map((file) => [file.sha256, file.size]));
    const spool = await readFile(join(area.stagingDir, 'small-contents'));
    expect(spool.length).toBe([...kept.values()].reduce((sum, size) => sum + size, 0));
  });

  test('lists at most 1000 skipped paths and counts the rest', async () => {
    const secrets = Array.from({ length: 1200 }, (_, i) => fileEntry(`keys/k${i}.pem`, `k${i}`));
    const result = await read(buildTar([...minimalApp(), ...secrets]));
    expect(result.skipped).toHaveLength(1001);
    expect(result.skipped[1000]).toEqual({
      path: '...',
      reason: '200 more skipped paths not listed',
    });
  });

  test('accepts a symlink and a later file beside it, not through it', async () => {
    const result = await read(
      buildTar([
        ...minimalApp(),
        symlinkEntry('lib', 'src'),
        fileEntry('library/x.js', 'x'),
        fileEntry('lib.js', 'y'),
      ]),
    );
    expect(result.files.map((file) => file.path)).toEqual([
      'dist/index.html',
      'library/x.js',
      'lib.js',
    ]);
  });

  test('accepts repeated entries of one folder', async () => {
    const result = await read(buildTar([dirEntry('dist/'), dirEntry('./dist/'), ...minimalApp()]));
    expect(result.files).toHaveLength(1);
  });

  test("reads the path of a pax header, not node-tar's join of it with the ustar prefix", async () => {
    const entry: RawEntry = {
      ...fileEntry('', 'pax wins'),
      name: 'decoy.js',
      prefix: 'dist/prefix',
      pax: { path: 'dist/from-pax.js' },
    };
    const result = await read(buildTar([...minimalApp(), entry]));
    expect(result.files.map((file) => file.path)).toEqual(['dist/index.html', 'dist/from-pax.js']);
  });

  test('reads GNU long names, pax long names and ustar prefixes', async () => {
    const long = `src/${'deep/'.repeat(30)}file.ts`;
    const result = await read(
      buildTar([
        ...minimalApp(),
        { ...fileEntry('', 'gnu'), name: 'gnu-decoy', gnuLongName: `${long}.gnu` },
        fileEntry(`${long}.pax`, 'pax'),
        { ...fileEntry('', 'ustar'), name: 'file.ts', prefix: 'src/with/a/prefix' },
      ]),
    );
    expect(result.files.map((file) => file.path)).toEqual([
      'dist/index.html',
      `${long}.gnu`,
      `${long}.pax`,
      'src/with/a/prefix/file.ts',
    ]);
  });

  test('accepts a global pax header that only comments, as git archive writes one', async () => {
    const archive = Buffer.concat([
      paxHeader({ comment: 'a'.repeat(40) }, 'g'),
      workerSnapshot(MINIMAL_APP),
    ]);
    const result = await read(archive);
    expect(result.files).toHaveLength(1);
  });

  test('reads the same archive whatever the chunk sizes of the stream, down to single bytes', async () => {
    const archive = workerSnapshot(
      { ...APP, [`src/${'x'.repeat(150)}.ts`]: 'long' },
      { gzip: true },
    );
    const withoutFolder = (result: Awaited<ReturnType<typeof read>>) => ({
      ...result,
      files: result.files.map(({ staged, ...file }) => ({
        ...file,
        staged: { name: staged.path.slice(area.stagingDir.length), offset: staged.offset },
      })),
    });
    const whole = withoutFolder(await read(archive));

    for (const chunkBytes of [1, 3, 511, 513, 4096]) {
      await area.remove();
      area = await createStagingArea();
      const again = await read(streamOf(archive, chunkBytes));
      expect(withoutFolder(again)).toEqual(whole);
    }
  });

  test('reads multi-byte pax names whatever byte the stream splits them at', async () => {
    const name = `src/${'\u00e9\u4e2d\ud83d\ude00'.repeat(20)}.ts`;
    const archive = workerSnapshot({ ...MINIMAL_APP, [name]: 'unicode' });

    for (const chunkBytes of [1, 2, 3, 5, 7, 600]) {
      await area.remove();
      area = await createStagingArea();
      const result = await read(streamOf(archive, chunkBytes));
      expect(result.files.map((file) => file.path)).toEqual(['dist/index.html', name]);
    }
  });

  test('stages many distinct small files without running out of file handles', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 21_000 }, (_, i) => [`data/${i % 100}/f${i}.txt`, `${i}`]),
    );
    const result = await read(workerSnapshot({ ...MINIMAL_APP, ...files }, { gzip: true }));
    expect(result.files).toHaveLength(21_001);
    expect(await readdir(area.stagingDir)).toEqual(['small-contents']);
    const last = result.files.find((file) => file.path === 'data/99/f20999.txt')!;
    expect(await readStagedContent(last)).toEqual(Buffer.from('20999'));
  });

  test('fails with internal when the staging folder cannot be written, and stages nothing', async () => {
    await area.remove();
    const error = await read(workerSnapshot(MINIMAL_APP)).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'internal', message: 'Staging an uploaded file failed.' });
    area = await createStagingArea();
  });

  test('refuses an input stream that fails midway, leaving nothing', async () => {
    const archive = workerSnapshot({ ...MINIMAL_APP, 'big.bin': Buffer.alloc(300_000, 1) });
    const input = new PassThrough();
    input.write(archive.subarray(0, 200_000));
    setImmediate(() => input.destroy(new Error('connection reset')));

    const error = await expectRefused(read(input), 'invalid_archive');
    expect(error.message).toBe('The upload was cut short.');
  });

  test('accepts an exact .git folder by dropping it', async () => {
    const result = await read(
      workerSnapshot({ ...MINIMAL_APP, '.git/config': '[core]\n', 'src/.git/HEAD': 'x' }),
    );
    expect(result.files.map((file) => file.path)).toEqual(['dist/index.html']);
    expect(result.skipped).toEqual([
      { path: '.git/', reason: 'git metadata' },
      { path: 'src/.git/', reason: 'git metadata' },
    ]);
  });
});

describe('caps', () => {
  test('refuses a file over the per-file cap as its header arrives', async () => {
    const error = await expectRefused(
      read(workerSnapshot({ ...MINIMAL_APP, 'dist/big.bin': Buffer.alloc(2000) }), {
        limits: { maxFileBytes: 1999 },
      }),
      'too_large',
    );
    expect(error.details).toEqual({ limit: 'file' });
  });

  test('accepts a file exactly at the per-file cap', async () => {
    const result = await read(
      workerSnapshot({ ...MINIMAL_APP, 'dist/big.bin': Buffer.alloc(2000) }),
      {
        limits: { maxFileBytes: 2000 },
      },
    );
    expect(result.files).toHaveLength(2);
  });

  test('counts dropped files against the total cap too', async () => {
    const error = await expectRefused(
      read(workerSnapshot({ ...MINIMAL_APP, 'node_modules/x.bin': Buffer.alloc(5000) }), {
        limits: { maxTotalBytes: 4000 },
      }),
      'too_large',
    );
    expect(error.details).toEqual({ limit: 'total' });
  });

  test('refuses one file more than the file cap, dropped files and links included', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`node_modules/f${i}`, `${i}`]),
    );
    await expect(
      read(workerSnapshot({ ...MINIMAL_APP, ...files }), { limits: { maxFiles: 10 } }),
    ).resolves.toBeDefined();
    await area.remove();
    area = await createStagingArea();

    const error = await expectRefused(
      read(
        buildTar([
          ...minimalApp(),
          ...Object.entries(files).map(([p, c]) => fileEntry(p, c)),
          symlinkEntry('l', 'x'),
        ]),
        {
          limits: { maxFiles: 10 },
        },
      ),
      'too_large',
    );
    expect(error.details).toEqual({ limit: 'files' });
  });

  test('refuses a gzip that expands past the ratio, counted against the compressed bytes consumed', async () => {
    // Zeros deflate about 1030 to 1, past a ratio of 1000 once the 1 MiB allowance is spent.
    const archive = gzipSync(
      workerSnapshot({ ...MINIMAL_APP, 'node_modules/zeros': Buffer.alloc(48 * 1024 * 1024) }),
      {
        level: 9,
      },
    );
    const error = await expectRefused(read(archive), 'too_large');
    expect(error.details).toEqual({ limit: 'expansion' });
  });

  test('accepts ordinary text, which compresses far below the ratio', async () => {
    const text = Buffer.from('export const value = 1;\n'.repeat(200_000));
    const result = await read(
      workerSnapshot({ ...MINIMAL_APP, 'src/big.ts': text }, { gzip: true }),
    );
    expect(result.files).toHaveLength(2);
  });

  test('follows a lower ratio when asked', async () => {
    const text = Buffer.from('export const value = 1;\n'.repeat(200_000));
    const error = await expectRefused(
      read(workerSnapshot({ ...MINIMAL_APP, 'src/big.ts': text }, { gzip: true }), {
        limits: { maxExpansionRatio: 10, expansionAllowanceBytes: 0 },
      }),
      'too_large',
    );
    expect(error.details).toEqual({ limit: 'expansion' });
  });

  test('refuses paths past lowered path caps with too_large', async () => {
    const error = await expectRefused(
      read(workerSnapshot({ ...MINIMAL_APP, 'a/b/c/d.txt': 'x' }), {
        limits: { maxComponents: 3 },
      }),
      'too_large',
    );
    expect(error.details).toEqual({ limit: 'path' });
  });

  test('refuses an unknown limit name', async () => {
    await expect(
      read(workerSnapshot(MINIMAL_APP), { limits: { maxBananas: 1 } as never }),
    ).rejects.toThrow('unknown archive limit maxBananas');
  });
});

describe('an archive from a provider (import)', () => {
  const FILES = { ...APP, 'node_modules/left-pad/index.js': 'dropped' };

  test('strips the top folder, applies the filter and returns the verified manifest', async () => {
    const archive = providerArchive(FILES, { gzip: true });
    const result = await read(archive, { mode: 'import' });

    expect(result.files.map((file) => file.path)).toEqual(Object.keys(APP));
    expect(result.skipped).toEqual([{ path: 'node_modules/', reason: 'installed dependencies' }]);
    expect(JSON.parse(result.manifest!.toString('utf8'))).toMatchObject({
      type: 'second.app.export.v1',
      source: summaryOf(FILES),
    });
    expect(summarizeStagedFiles(result.files).snapshotHash).toBe(summaryOf(FILES).hash);
  });

  test('accepts the global pax header GitHub and git archive put first', async () => {
    const archive = Buffer.concat([
      paxHeader({ comment: 'f'.repeat(40) }, 'g'),
      providerArchive(FILES),
    ]);
    const result = await read(archive, { mode: 'import' });
    expect(result.files).toHaveLength(Object.keys(APP).length);
  });

  test('does not require dist/index.html unless asked', async () => {
    const files = { 'src/main.ts': 'x' };
    await expect(read(providerArchive(files), { mode: 'import' })).resolves.toMatchObject({
      files: [{ path: 'src/main.ts' }],
    });
    await area.remove();
    area = await createStagingArea();
    await expectRefused(
      read(providerArchive(files), { mode: 'import', requireDistIndex: true }),
      'dist_index_missing',
    );
  });

  test('refuses files that do not match the manifest', async () => {
    const archive = providerArchive(APP, {
      manifest: providerManifestOf({ ...APP, 'dist/app.js': 'console.log("other");\n' }),
    });
    await expectRefused(read(archive, { mode: 'import' }), 'hash_mismatch');
  });

  test('refuses a manifest that is not valid', async () => {
    await expectRefused(
      read(providerArchive(APP, { manifest: '{"type":"something"}' }), { mode: 'import' }),
      'invalid_manifest',
    );
  });

  test('refuses an archive without a manifest', async () => {
    await expectRefused(
      read(providerArchive(APP, { manifest: null }), { mode: 'import' }),
      'invalid_manifest',
    );
  });

  test('refuses a manifest larger than 1 MiB', async () => {
    await expectRefused(
      read(providerArchive(APP, { manifest: Buffer.alloc(1024 * 1024 + 1, 0x20) }), {
        mode: 'import',
      }),
      'invalid_manifest',
    );
  });

  test('refuses an archive of nothing but its top folder', async () => {
    await expectRefused(
      read(buildTar([dirEntry('repo/')]), { mode: 'import' }),
      'invalid_manifest',
    );
  });

  test('refuses an archive with no top folder', async () => {
    await expectRefused(read(buildTar([dirEntry('./')]), { mode: 'import' }), 'invalid_archive');
  });
});

function providerManifestOf(
  files: Record<string, string | { body: string; mode: number }>,
): Buffer {
  const archive = providerArchive(files);
  // The manifest is the second entry: after the top folder's header, a header and its body.
  const size = parseInt(archive.subarray(512 + 124, 512 + 136).toString('latin1'), 8);
  return archive.subarray(1024, 1024 + size);
}

describe('archives written by real tools', () => {
  async function writeApp(root: string): Promise<void> {
    const long = join(
      root,
      'src',
      'components',
      'a-rather-long-folder-name-for-the-dashboard',
      'widgets',
    );
    await mkdir(join(root, 'dist'), { recursive: true });
    await mkdir(long, { recursive: true });
    await mkdir(join(root, 'node_modules', 'x'), { recursive: true });
    await writeFile(join(root, 'dist', 'index.html'), '<!doctype html>\n');
    await writeFile(
      join(long, 'a-component-with-a-name-long-enough-to-need-an-extension-header.tsx'),
      'x',
    );
    await writeFile(join(root, 'src', 'Café.ts'), 'accent');
    await writeFile(join(root, 'node_modules', 'x', 'index.js'), 'dep');
    await writeFile(join(root, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(root, 'run.sh'), 0o755);
    await symlink('dist/index.html', join(root, 'index.html'));
  }

  const EXPECTED_PATHS = [
    'dist/index.html',
    'run.sh',
    'src/Café.ts',
    'src/components/a-rather-long-folder-name-for-the-dashboard/widgets/a-component-with-a-name-long-enough-to-need-an-extension-header.tsx',
  ];

  test.each(['gnu', 'pax', 'ustar', 'posix'])('GNU tar --format=%s', async (format) => {
    const source = join(area.root, 'source');
    await writeApp(source);
    const archive = join(area.root, 'app.tar.gz');
    await run('tar', ['-czf', archive, `--format=${format}`, '-C', source, '.']);

    const result = await read(await readFile(archive));

    expect(result.files.map((file) => file.path).sort()).toEqual(EXPECTED_PATHS);
    expect(result.files.find((file) => file.path === 'run.sh')!.executable).toBe(true);
    expect(result.skipped).toEqual(
      expect.arrayContaining([
        { path: 'index.html', reason: 'symbolic link: links are not stored' },
        { path: 'node_modules/', reason: 'installed dependencies' },
      ]),
    );
  });

  test('node-tar', async () => {
    const source = join(area.root, 'source');
    await writeApp(source);
    const stream = createTar({ cwd: source, gzip: true, portable: true }, [
      '.',
    ]) as unknown as Readable;

    const result = await read(Readable.from(stream));

    expect(result.files.map((file) => file.path).sort()).toEqual(EXPECTED_PATHS);
  });
});
