/**
 * A corpus of hostile archives, one per way an upload or a provider archive can attack the
 * reader, each with the error code it must be refused with. The reader's own tests run every
 * case; the HTTP route and catalog import tests reuse them to prove the refusal reaches their
 * callers with nothing written.
 */
import { gzipSync } from 'node:zlib';
import type { ErrorCode } from '../../core/errors.js';
import type { ArchiveLimits } from '../../gateway/ingest/archive-limits.js';
import {
  buildTar,
  dirEntry,
  endOfArchive,
  fileEntry,
  minimalApp,
  paxHeader,
  symlinkEntry,
  tarEntry,
  tarHeader,
  type RawEntry,
} from './raw-tar.js';

export type ArchiveReading = 'worker' | 'import';

export interface HostileArchive {
  name: string;
  description: string;
  /**
   * The code each reading refuses the archive with. A reading left out is not what the case is
   * about: `dotgit-exact` is accepted from a worker (the filter drops `.git/`), while the
   * `import-*` cases mean nothing to a worker.
   */
  expected: Partial<Record<ArchiveReading, ErrorCode>>;
  /** Caps the case needs to stay small; absent when it is refused under the default caps. */
  limits?: Partial<ArchiveLimits>;
  /** The archive body (tar, or tar.gz where the case says so) for one reading. */
  build(reading: ArchiveReading): Buffer;
}

/** The top folder of a provider archive, as GitHub names it: `<owner>-<repo>-<sha>`. */
export const IMPORT_TOP_FOLDER = 'acme-second-app-console-1a2b3c4';

const MiB = 1024 * 1024;

function under(reading: ArchiveReading, path: string): string {
  return reading === 'import' ? `${IMPORT_TOP_FOLDER}/${path}` : path;
}

/** A harmless start (the top folder and a valid app), then the hostile entries. */
function archiveWith(reading: ArchiveReading, hostile: RawEntry[]): Buffer {
  const start: RawEntry[] =
    reading === 'import' ? [dirEntry(`${IMPORT_TOP_FOLDER}/`)] : [dirEntry('./')];
  const app = minimalApp().map((entry) => ({ ...entry, path: under(reading, String(entry.path)) }));
  return buildTar([...start, ...app, ...hostile]);
}

/** A case whose hostile path is the same in both readings (absolute paths, raw bytes). */
function atRoot(
  name: string,
  description: string,
  code: ErrorCode,
  entries: () => RawEntry[],
): HostileArchive {
  return {
    name,
    description,
    expected: { worker: code, import: code },
    build: (reading) => archiveWith(reading, entries()),
  };
}

/** A case whose hostile paths sit inside the app (under the top folder for imports). */
function inApp(
  name: string,
  description: string,
  expected: HostileArchive['expected'],
  entries: (at: (path: string) => string) => RawEntry[],
): HostileArchive {
  return {
    name,
    description,
    expected,
    build: (reading) =>
      archiveWith(
        reading,
        entries((path) => under(reading, path)),
      ),
  };
}

function both(code: ErrorCode): HostileArchive['expected'] {
  return { worker: code, import: code };
}

function cutShort(archive: Buffer, bytes: number): Buffer {
  return archive.subarray(0, archive.length - bytes);
}

/**
 * A gzip of a tar whose one file is 96 MiB of zeros: 96 KiB on the wire. It is written as six
 * gzip members that share one compressed 16 MiB block of zeros, which gzip readers join, so the
 * corpus never holds the expanded bytes.
 */
function gzipBomb(reading: ArchiveReading): Buffer {
  const size = 96 * MiB;
  const start = archiveWith(reading, []).subarray(0, -1024);
  const header = tarHeader({ name: under(reading, 'node_modules/zeros.bin'), size });
  const zeros16 = gzipSync(Buffer.alloc(16 * MiB), { level: 9 });
  return Buffer.concat([
    gzipSync(Buffer.concat([start, header])),
    ...Array.from({ length: size / (16 * MiB) }, () => zeros16),
    gzipSync(endOfArchive()),
  ]);
}

function manyFiles(reading: ArchiveReading, count: number): Buffer {
  const entries = Array.from({ length: count }, (_, i) =>
    fileEntry(under(reading, `data/f${i}.txt`), ''),
  );
  return gzipSync(archiveWith(reading, entries));
}

const UNSUPPORTED_TYPES: [string, string, string][] = [
  ['hardlink', '1', 'a hard link to another entry'],
  ['char-device', '3', 'a character device'],
  ['block-device', '4', 'a block device'],
  ['fifo', '6', 'a FIFO'],
  ['gnu-sparse', 'S', 'an old GNU sparse file'],
  ['gnu-dump-dir', 'D', 'a GNU dump folder'],
  ['unknown-type', 'Z', 'an entry of a type no tar defines'],
];

const GIT_SPELLINGS: [string, string][] = [
  ['dotgit-upper-case', '.GIT/config'],
  ['dotgit-mixed-case', 'src/.Git/hooks/post-checkout'],
  ['dotgit-ntfs-short-name', 'GIT~1/config'],
  ['dotgit-ntfs-short-name-lower', 'git~1/config'],
  ['dotgit-trailing-dot', '.git./config'],
  ['dotgit-trailing-space', '.git /config'],
  ['dotgit-trailing-dots-and-spaces', '.git . ./config'],
  ['dotgit-ntfs-stream', '.git::$INDEX_ALLOCATION/config'],
  ['dotgit-hfs-zero-width-non-joiner', '.g\u200cit/config'],
  ['dotgit-hfs-bom', '\ufeff.git/config'],
  ['dotgit-hfs-bidi-override', '.git\u202e/config'],
  ['dotgit-hfs-and-case', '.G\u200dIT/config'],
];

/** Every hostile case; each builds its archive only when asked. */
export function hostileArchives(): HostileArchive[] {
  return [
    atRoot('absolute-path', 'an absolute path', 'unsafe_path', () => [
      fileEntry('/etc/passwd', 'x'),
    ]),
    atRoot(
      'absolute-double-slash',
      'an absolute path spelled with two slashes',
      'unsafe_path',
      () => [fileEntry('//etc/passwd', 'x')],
    ),
    atRoot('absolute-after-dot-slash', 'an absolute path behind a ./ prefix', 'unsafe_path', () => [
      fileEntry('.//etc/passwd', 'x'),
    ]),
    atRoot('drive-letter', 'a Windows drive-letter path', 'unsafe_path', () => [
      fileEntry('C:/Windows/win.ini', 'x'),
    ]),
    inApp('parent-traversal', 'a path that climbs out with ..', both('unsafe_path'), (at) => [
      fileEntry(at('../../etc/passwd'), 'x'),
    ]),
    inApp('parent-in-middle', 'a .. component in the middle', both('unsafe_path'), (at) => [
      fileEntry(at('dist/../../escape.txt'), 'x'),
    ]),
    inApp('dot-component', 'a . component', both('unsafe_path'), (at) => [
      fileEntry(at('dist/./again.js'), 'x'),
    ]),
    inApp('empty-component', 'two slashes in a row', both('unsafe_path'), (at) => [
      fileEntry(at('dist//app.js'), 'x'),
    ]),
    inApp('backslash', 'a backslash, a separator on Windows', both('unsafe_path'), (at) => [
      fileEntry(at('dist\\..\\..\\evil.js'), 'x'),
    ]),
    inApp('control-character', 'an escape sequence in a name', both('unsafe_path'), (at) => [
      fileEntry(at('dist/\u001b[31mred.js'), 'x'),
    ]),
    inApp('newline', 'a newline in a name', both('unsafe_path'), (at) => [
      fileEntry(at('dist/two\nlines.js'), 'x'),
    ]),
    inApp('delete-character', 'a DEL character in a name', both('unsafe_path'), (at) => [
      fileEntry(at('dist/a\u007fb.js'), 'x'),
    ]),
    inApp('c1-control', 'a C1 control character (NEL) in a name', both('unsafe_path'), (at) => [
      fileEntry(at('dist/a\u0085b.js'), 'x'),
    ]),
    inApp('invalid-utf8', 'a name that is not UTF-8', both('unsafe_path'), (at) => [
      {
        ...fileEntry('', 'x'),
        name: Buffer.concat([Buffer.from(at('dist/caf')), Buffer.from([0xe9])]),
      },
    ]),
    inApp('overlong-utf8-slash', 'an overlong UTF-8 encoding of /', both('unsafe_path'), (at) => [
      {
        ...fileEntry('', 'x'),
        name: Buffer.concat([Buffer.from(at('a')), Buffer.from([0xc0, 0xaf]), Buffer.from('b')]),
      },
    ]),
    inApp(
      'nul-in-name-field',
      'a NUL byte inside the ustar name field',
      both('unsafe_path'),
      (at) => [
        { ...fileEntry('', 'x'), name: Buffer.from(`${at('dist/safe.js')}\u0000../../evil.js`) },
      ],
    ),
    inApp(
      'nul-in-prefix-field',
      'a NUL byte inside the ustar prefix field',
      both('unsafe_path'),
      (at) => [
        { ...fileEntry('', 'x'), name: 'app.js', prefix: Buffer.from(`${at('dist')}\u0000/../..`) },
      ],
    ),
    inApp('nul-in-pax-path', 'a NUL byte inside a pax path record', both('unsafe_path'), (at) => [
      {
        ...fileEntry('', 'x'),
        name: at('dist/decoy.js'),
        pax: { path: `${at('dist/a.js')}\u0000/../../../etc/passwd` },
      },
    ]),
    inApp(
      'nul-in-pax-linkpath',
      'a NUL byte inside a pax linkpath record',
      both('unsafe_path'),
      (at) => [
        { ...symlinkEntry(at('dist/link'), 'x'), pax: { linkpath: 'target\u0000/../../etc' } },
      ],
    ),
    inApp(
      'nul-in-gnu-long-name',
      'a NUL byte inside a GNU long name',
      both('unsafe_path'),
      (at) => [
        {
          ...fileEntry('', 'x'),
          name: at('dist/decoy.js'),
          gnuLongName: `${at('dist/a.js')}\u0000../../evil`,
        },
      ],
    ),
    inApp(
      'nul-in-link-name-field',
      'a NUL byte inside the link name field',
      both('unsafe_path'),
      (at) => [
        {
          ...symlinkEntry(at('dist/link'), ''),
          linkname: Buffer.from('index.html\u0000/etc/passwd'),
        },
      ],
    ),
    inApp(
      'newline-in-pax-path',
      'a pax path record holding a newline',
      both('unsafe_path'),
      (at) => [
        { ...fileEntry('', 'x'), name: at('dist/decoy.js'), pax: { path: at('dist/a\n.js') } },
      ],
    ),
    inApp(
      'dotgit-exact',
      'a .git folder: dropped from a worker snapshot, refused in an import',
      { import: 'unsafe_path' },
      (at) => [fileEntry(at('.git/config'), '[core]\n')],
    ),
    ...GIT_SPELLINGS.map(([name, path]) =>
      inApp(
        name,
        `a spelling git takes for .git: ${JSON.stringify(path)}`,
        both('unsafe_path'),
        (at) => [fileEntry(at(path), '[core]\n\thooksPath = /tmp\n')],
      ),
    ),
    inApp('duplicate-path', 'the same path twice', both('unsafe_path'), (at) => [
      fileEntry(at('dist/app.js'), 'first'),
      fileEntry(at('dist/app.js'), 'second'),
    ]),
    inApp('case-twins', 'two paths equal after case folding', both('unsafe_path'), (at) => [
      fileEntry(at('dist/App.js'), 'upper'),
      fileEntry(at('dist/app.js'), 'lower'),
    ]),
    inApp('case-twin-folders', 'one folder spelled in two cases', both('unsafe_path'), (at) => [
      fileEntry(at('Src/a.js'), 'a'),
      fileEntry(at('src/b.js'), 'b'),
    ]),
    inApp('unicode-twins', 'Café in NFC and in NFD', both('unsafe_path'), (at) => [
      fileEntry(at('Caf\u00e9.txt'), 'composed'),
      fileEntry(at('Cafe\u0301.txt'), 'decomposed'),
    ]),
    inApp(
      'hfs-ignorable-twins',
      'two names equal once HFS+ ignores a zero-width joiner',
      both('unsafe_path'),
      (at) => [fileEntry(at('dist/app.js'), 'a'), fileEntry(at('dist/a\u200dpp.js'), 'b')],
    ),
    inApp(
      'file-then-folder',
      'a path used as a file and then as a folder',
      both('unsafe_path'),
      (at) => [fileEntry(at('dist/a'), 'file'), fileEntry(at('dist/a/b'), 'below the file')],
    ),
    inApp(
      'manifest-as-folder',
      'second-app.json at the root as a folder',
      both('unsafe_path'),
      (at) => [fileEntry(at('second-app.json/x'), 'x')],
    ),
    inApp(
      'manifest-case-twin',
      'a case twin of the root second-app.json',
      both('unsafe_path'),
      (at) => [fileEntry(at('Second-App.json'), '{}')],
    ),
    inApp(
      'write-through-symlink',
      'a symlink, then a file written through it',
      { worker: 'unsafe_path', import: 'unsupported_entry' },
      (at) => [
        symlinkEntry(at('escape'), '/etc'),
        fileEntry(at('escape/cron.d/evil'), '* * * * * root sh\n'),
      ],
    ),
    inApp(
      'folder-replaced-by-symlink',
      'a folder, then a symlink in its place, then a file through it',
      { worker: 'unsafe_path', import: 'unsupported_entry' },
      (at) => [
        dirEntry(at('assets/')),
        symlinkEntry(at('assets'), '/tmp'),
        fileEntry(at('assets/x.js'), 'x'),
      ],
    ),
    inApp(
      'write-through-symlink-case-twin',
      'a symlink, then a file through a case twin of it',
      { worker: 'unsafe_path', import: 'unsupported_entry' },
      (at) => [symlinkEntry(at('escape'), '/etc'), fileEntry(at('ESCAPE/passwd'), 'x')],
    ),
    inApp(
      'symlink-chain-with-hardlink',
      'two chained symlinks and a hard link to them',
      both('unsupported_entry'),
      (at) => [
        symlinkEntry(at('a'), 'b'),
        symlinkEntry(at('b'), '/etc/passwd'),
        { path: at('c'), type: '1', linkname: at('a') },
      ],
    ),
    ...UNSUPPORTED_TYPES.map(([name, type, description]) =>
      inApp(name, description, both('unsupported_entry'), (at) => [
        {
          path: at(`dist/${name}`),
          type,
          linkname: type === '1' ? at('dist/index.html') : undefined,
        },
      ]),
    ),
    inApp('pax-sparse-file', 'a pax-format GNU sparse file', both('unsupported_entry'), (at) => [
      {
        ...fileEntry(at('dist/sparse.bin'), 'x'),
        pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0' },
      },
    ]),
    inApp('too-deep', 'a path of 65 components', both('too_large'), (at) => [
      fileEntry(at(`${'d/'.repeat(64)}f.txt`), 'x'),
    ]),
    inApp('path-too-long', 'a path over 4096 bytes', both('too_large'), (at) => [
      fileEntry(at(`${'a'.repeat(200)}/`.repeat(21) + 'f.txt'), 'x'),
    ]),
    inApp('component-too-long', 'a name over 255 bytes', both('too_large'), (at) => [
      fileEntry(at(`dist/${'n'.repeat(256)}.js`), 'x'),
    ]),
    inApp(
      'file-over-cap',
      'a file that declares 100 MiB + 1 byte (refused at its header)',
      both('too_large'),
      (at) => [{ path: at('dist/huge.bin'), size: 100 * MiB + 1 }],
    ),
    {
      name: 'total-over-cap',
      description: 'files that add up past the total cap (the cap lowered to keep the case small)',
      expected: both('too_large'),
      limits: { maxTotalBytes: 4096 },
      build: (reading) =>
        archiveWith(
          reading,
          [1, 2, 3].map((i) =>
            fileEntry(under(reading, `dist/chunk${i}.bin`), Buffer.alloc(2000, i)),
          ),
        ),
    },
    {
      name: 'too-many-files',
      description: '50,001 empty files, one more than the cap',
      expected: both('too_large'),
      build: (reading) => manyFiles(reading, 50_001),
    },
    {
      name: 'gzip-bomb',
      description: '96 KiB of gzip that expands to 96 MiB of zeros',
      expected: both('too_large'),
      build: gzipBomb,
    },
    {
      name: 'truncated-body',
      description: 'an archive cut short inside a file body',
      expected: both('invalid_archive'),
      build: (reading) =>
        cutShort(
          archiveWith(reading, [fileEntry(under(reading, 'dist/big.js'), 'y'.repeat(5000))]),
          1024 + 2000,
        ),
    },
    {
      name: 'truncated-header',
      description: 'an archive cut short inside a header',
      expected: both('invalid_archive'),
      build: (reading) =>
        cutShort(
          archiveWith(reading, [fileEntry(under(reading, 'dist/a.js'), 'y')]),
          1024 + 512 + 100,
        ),
    },
    {
      name: 'truncated-gzip',
      description: 'a gzip stream cut short',
      expected: both('invalid_archive'),
      build: (reading) => cutShort(gzipSync(archiveWith(reading, [])), 20),
    },
    {
      name: 'missing-end-marker',
      description: 'complete entries with no end-of-archive marker',
      expected: both('invalid_archive'),
      build: (reading) => cutShort(archiveWith(reading, []), 1024),
    },
    {
      name: 'lone-zero-block',
      description: 'an entry hidden after a single zero block, which GNU tar takes for the end',
      expected: both('invalid_archive'),
      build: (reading) =>
        Buffer.concat([
          cutShort(archiveWith(reading, []), 1024),
          Buffer.alloc(512),
          tarEntry(fileEntry(under(reading, 'dist/hidden.js'), 'x')),
          endOfArchive(),
        ]),
    },
    {
      name: 'trailing-garbage',
      description: 'bytes after the end-of-archive marker',
      expected: both('invalid_archive'),
      build: (reading) =>
        Buffer.concat([archiveWith(reading, []), Buffer.from('#!/bin/sh\nrm -rf /\n')]),
    },
    {
      name: 'gzip-trailing-garbage',
      description: 'bytes after the end of the gzip stream',
      expected: both('invalid_archive'),
      build: (reading) =>
        Buffer.concat([gzipSync(archiveWith(reading, [])), Buffer.from('garbage')]),
    },
    {
      name: 'bad-checksum',
      description: 'a header whose checksum does not match',
      expected: both('invalid_archive'),
      build: (reading) =>
        archiveWith(reading, [{ ...fileEntry(under(reading, 'dist/a.js'), 'x'), checksum: 1234 }]),
    },
    {
      name: 'not-an-archive',
      description: 'a JSON body',
      expected: both('invalid_archive'),
      build: () =>
        Buffer.from(`${JSON.stringify({ files: ['dist/index.html'] }).padEnd(2048, ' ')}\n`),
    },
    {
      name: 'empty-body',
      description: 'no bytes at all',
      expected: both('invalid_archive'),
      build: () => Buffer.alloc(0),
    },
    {
      name: 'zstd-body',
      description: 'a zstd frame, which the gateway does not accept',
      expected: both('invalid_archive'),
      build: () => Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(2048, 7)]),
    },
    inApp(
      'pax-type-override',
      'a pax record that changes the entry type',
      both('invalid_archive'),
      (at) => [
        {
          ...fileEntry(at('dist/a.js'), ''),
          pax: { type: 'SymbolicLink', linkpath: '/etc/passwd' },
        },
      ],
    ),
    {
      name: 'global-pax-path',
      description: 'a global pax header that sets a path for every entry',
      expected: both('invalid_archive'),
      build: (reading) =>
        Buffer.concat([paxHeader({ path: '../../evil' }, 'g'), archiveWith(reading, [])]),
    },
    inApp(
      'two-long-names',
      'a GNU long name and a pax path for one entry',
      both('invalid_archive'),
      (at) => [
        {
          ...fileEntry('', 'x'),
          name: at('dist/decoy.js'),
          gnuLongName: at('dist/one.js'),
          pax: { path: at('dist/two.js') },
        },
      ],
    ),
    inApp(
      'folder-with-body',
      'a folder entry that claims a body, which tar readers frame differently',
      both('invalid_archive'),
      (at) => [
        {
          path: at('dist/folder/'),
          type: '5',
          size: 512,
          body: tarEntry(fileEntry(at('dist/smuggled.js'), 'x')),
        },
      ],
    ),
    inApp(
      'symlink-with-body',
      'a symlink entry that claims a body',
      both('invalid_archive'),
      (at) => [{ ...symlinkEntry(at('dist/link'), 'index.html'), body: 'x' }],
    ),
    {
      name: 'dist-index-missing',
      description: 'a worker snapshot without dist/index.html',
      expected: { worker: 'dist_index_missing', import: 'invalid_manifest' },
      build: (reading) => buildTar([fileEntry(under(reading, 'src/main.ts'), 'export {};\n')]),
    },
    {
      name: 'import-two-top-folders',
      description: 'a provider archive with two top-level folders',
      expected: { import: 'invalid_archive' },
      build: () =>
        buildTar([fileEntry('one/dist/index.html', 'a'), fileEntry('two/dist/index.html', 'b')]),
    },
    {
      name: 'import-file-at-top',
      description: 'a provider archive with a file beside its top-level folder',
      expected: { import: 'invalid_archive' },
      build: () =>
        buildTar([
          fileEntry(`${IMPORT_TOP_FOLDER}/dist/index.html`, 'a'),
          fileEntry('README.md', 'b'),
        ]),
    },
  ];
}

/** One case by name; throws for an unknown name so a typo cannot pass a test. */
export function hostileArchive(name: string): HostileArchive {
  const found = hostileArchives().find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no hostile archive named ${name}`);
  return found;
}
