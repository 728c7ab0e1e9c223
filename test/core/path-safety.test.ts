import {
  DEFAULT_PATH_LIMITS,
  checkArchivePath,
  collisionKey,
  isGitSpelling,
  printablePath,
} from '../../core/path-safety.js';

function refusal(raw: string | Uint8Array, options = {}) {
  const check = checkArchivePath(raw, options);
  return check.ok ? null : check;
}

describe('checkArchivePath', () => {
  test('accepts a plain relative path as sent', () => {
    expect(checkArchivePath('dist/assets/app-1a2b.js')).toEqual({
      ok: true,
      path: 'dist/assets/app-1a2b.js',
      topFolder: null,
    });
  });

  test('removes one leading ./ and nothing else', () => {
    expect(checkArchivePath('./dist/index.html')).toMatchObject({
      ok: true,
      path: 'dist/index.html',
    });
    expect(refusal('././dist/index.html')?.reason).toBe('"." path component');
  });

  test('applies no Unicode normalization: the path comes back as sent', () => {
    const decomposed = 'Cafe\u0301.txt';
    expect(checkArchivePath(decomposed)).toMatchObject({ ok: true, path: decomposed });
  });

  test('reads the archive root as the empty path', () => {
    expect(checkArchivePath('./', { directory: true })).toMatchObject({ ok: true, path: '' });
    expect(checkArchivePath('.')).toMatchObject({ ok: true, path: '' });
  });

  test.each([
    ['/etc/passwd', 'absolute path'],
    ['//etc/passwd', 'absolute path'],
    ['.//etc/passwd', 'absolute path'],
    ['C:/Windows/win.ini', 'absolute path (drive letter)'],
    ['c:relative', 'absolute path (drive letter)'],
    ['../x', '".." path component'],
    ['a/../../x', '".." path component'],
    ['a/..', '".." path component'],
    ['a/./b', '"." path component'],
    ['a/.', '"." path component'],
    ['a//b', 'empty path component'],
    ['a/', 'empty path component'],
    ['a\\b', 'the path holds a backslash'],
    ['..\\..\\x', 'the path holds a backslash'],
    ['a\u0000b', 'the path holds a control character'],
    ['a\u0001b', 'the path holds a control character'],
    ['a\tb', 'the path holds a control character'],
    ['a\nb', 'the path holds a control character'],
    ['a\rb', 'the path holds a control character'],
    ['a\u001bb', 'the path holds a control character'],
    ['a\u007fb', 'the path holds a control character'],
    ['a\u0080b', 'the path holds a control character'],
    ['a\u009bb', 'the path holds a control character'],
    ['', 'empty path'],
    ['a\ud800b', 'the path is not valid UTF-8'],
    ['a\udc00', 'the path is not valid UTF-8'],
  ])('refuses %j: %s', (raw, reason) => {
    expect(refusal(raw)).toEqual({ ok: false, code: 'unsafe_path', reason });
  });

  test.each([
    ['a lone continuation byte', [0x61, 0x80]],
    ['a truncated sequence', [0x61, 0xe2, 0x82]],
    ['an overlong slash', [0x61, 0xc0, 0xaf, 0x62]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['Latin-1 text', [0x63, 0x61, 0x66, 0xe9]],
  ])('refuses raw bytes with %s as invalid UTF-8', (_name, bytes) => {
    expect(refusal(Buffer.from(bytes))?.reason).toBe('the path is not valid UTF-8');
  });

  test('accepts raw bytes that are valid UTF-8, a byte-order mark included as a character', () => {
    expect(checkArchivePath(Buffer.from('dist/caf\u00e9.js'))).toMatchObject({
      ok: true,
      path: 'dist/caf\u00e9.js',
    });
    expect(checkArchivePath(Buffer.from('\ufeffnotes.txt'))).toMatchObject({
      ok: true,
      path: '\ufeffnotes.txt',
    });
  });

  test('allows one trailing slash for a directory only', () => {
    expect(checkArchivePath('dist/', { directory: true })).toMatchObject({
      ok: true,
      path: 'dist',
    });
    expect(refusal('dist//', { directory: true })?.reason).toBe('empty path component');
  });

  describe('.git', () => {
    test('refuses an exact .git component unless the caller lets the filter drop it', () => {
      expect(refusal('.git/config')?.reason).toBe('a path component that git reads as .git');
      expect(refusal('a/.git')?.code).toBe('unsafe_path');
      expect(checkArchivePath('.git/config', { allowExactDotGit: true })).toMatchObject({
        ok: true,
      });
    });

    test.each(['.GIT/config', '.Git', 'GIT~1/config', '.git./x', '.git /x', '.g\u200cit/x'])(
      'refuses the spelling %j even where exact .git is allowed',
      (raw) => {
        expect(refusal(raw, { allowExactDotGit: true })?.reason).toBe(
          'a path component that git reads as .git',
        );
      },
    );
  });

  describe('caps', () => {
    test('the defaults are those of the design', () => {
      expect(DEFAULT_PATH_LIMITS).toEqual({
        maxPathBytes: 4096,
        maxComponents: 64,
        maxComponentBytes: 255,
      });
    });

    test('a path of 4096 bytes passes and one of 4097 is too large', () => {
      const at = (bytes: number) => `${'a'.repeat(200)}/`.repeat(20) + 'b'.repeat(bytes - 20 * 201);
      expect(checkArchivePath(at(4096)).ok).toBe(true);
      expect(refusal(at(4097))).toEqual({
        ok: false,
        code: 'too_large',
        reason: 'the path is longer than 4096 bytes',
      });
    });

    test('counts bytes of UTF-8, not characters', () => {
      const name = '\u00e9'.repeat(128);
      expect(refusal(name)?.code).toBe('too_large');
      expect(checkArchivePath('\u00e9'.repeat(127)).ok).toBe(true);
    });

    test('64 components pass and 65 are too large', () => {
      expect(checkArchivePath(Array(64).fill('d').join('/')).ok).toBe(true);
      expect(refusal(Array(65).fill('d').join('/'))).toMatchObject({
        code: 'too_large',
        reason: 'the path has more than 64 components',
      });
    });

    test('a component of 255 bytes passes and one of 256 is too large', () => {
      expect(checkArchivePath(`dist/${'n'.repeat(255)}`).ok).toBe(true);
      expect(refusal(`dist/${'n'.repeat(256)}`)?.code).toBe('too_large');
    });

    test('are counted after ./ and a stripped top folder are removed', () => {
      const deep = Array(64).fill('d').join('/');
      expect(checkArchivePath(`./${deep}`).ok).toBe(true);
      expect(checkArchivePath(`top/${deep}`, { stripTopFolder: true })).toMatchObject({
        ok: true,
        topFolder: 'top',
      });
      expect(refusal(`top/${deep}`)?.code).toBe('too_large');
    });

    test('follow the limits given', () => {
      const limits = { maxPathBytes: 10, maxComponents: 2, maxComponentBytes: 4 };
      expect(checkArchivePath('ab/cd', { limits }).ok).toBe(true);
      expect(refusal('abcde', { limits })?.code).toBe('too_large');
      expect(refusal('a/b/c', { limits })?.code).toBe('too_large');
      expect(refusal('abcde/x', { limits })?.code).toBe('too_large');
      expect(refusal('ab/cd', { limits: { maxPathBytes: 4 } })?.code).toBe('too_large');
    });
  });

  test('strips the top folder of a provider archive after checking it like any component', () => {
    expect(checkArchivePath('repo-abc/dist/index.html', { stripTopFolder: true })).toEqual({
      ok: true,
      path: 'dist/index.html',
      topFolder: 'repo-abc',
    });
    expect(checkArchivePath('repo-abc/', { stripTopFolder: true, directory: true })).toEqual({
      ok: true,
      path: '',
      topFolder: 'repo-abc',
    });
    expect(refusal('../dist/index.html', { stripTopFolder: true })?.code).toBe('unsafe_path');
    expect(refusal('.GIT/x', { stripTopFolder: true })?.code).toBe('unsafe_path');
  });
});

describe('isGitSpelling', () => {
  test.each([
    '.git',
    '.GIT',
    '.Git',
    '.gIt',
    'git~1',
    'GIT~1',
    'Git~1',
    '.git.',
    '.git..',
    '.git ',
    '.git  ',
    '.git. ',
    '.git .',
    'git~1.',
    'git~1 ',
    '.git:',
    '.git::$INDEX_ALLOCATION',
    '.git:stream:$DATA',
    '.git. ::$INDEX_ALLOCATION',
    'git~1::$INDEX_ALLOCATION',
    '.g\u200cit',
    '.gi\u200dt',
    '\u200e.git',
    '.git\u200f',
    '.\u202agit',
    '.g\u202bit',
    '.gi\u202ct',
    '.git\u202d',
    '\u202e.git',
    '.g\u206ait',
    '.gi\u206ft',
    '\ufeff.git',
    '.\u200cG\u200dI\u200eT\u200f',
    '.G\u200cIT.',
  ])('%j is .git to git on some file system', (name) => {
    expect(isGitSpelling(name)).toBe(true);
  });

  test.each([
    '.gitignore',
    '.gitmodules',
    '.gitattributes',
    '.github',
    '.git-credentials',
    '.gitx',
    '.git.x',
    '.git x',
    'git',
    'git~2',
    'git~10',
    'git~1x',
    '.gi',
    'x.git',
    '.g\u200bit',
    '.g\u00efit',
    '.\u0261it',
    '\u2024git',
  ])('%j is not .git', (name) => {
    expect(isGitSpelling(name)).toBe(false);
  });
});

describe('collisionKey', () => {
  test.each([
    ['case', 'Dist/App.js', 'dist/app.js'],
    ['NFC and NFD', 'Caf\u00e9.txt', 'Cafe\u0301.txt'],
    ['case and normalization', 'CAF\u00c9.txt', 'cafe\u0301.txt'],
    ['final sigma', '\u03bf\u03c2', '\u03bf\u03c3'],
    ['Kelvin sign', '\u212a.txt', 'k.txt'],
    ['an HFS+ ignorable code point', 'a\u200dpp.js', 'app.js'],
    ['a byte-order mark', '\ufeffapp.js', 'app.js'],
  ])('makes twins by %s meet', (_name, a, b) => {
    expect(collisionKey(a)).toBe(collisionKey(b));
  });

  test.each([
    ['different letters', 'app.js', 'apq.js'],
    ['a zero-width space, which HFS+ keeps', 'a\u200bpp.js', 'app.js'],
    ['full-width letters, which file systems keep apart', '\uff41pp.js', 'app.js'],
  ])('keeps names with %s apart', (_name, a, b) => {
    expect(collisionKey(a)).not.toBe(collisionKey(b));
  });
});

describe('printablePath', () => {
  test('shows control and invisible characters as escapes, inside quotes', () => {
    expect(printablePath('a\u001b[31m\u202eb')).toBe('"a\\u{1b}[31m\\u{202e}b"');
  });

  test('shows invalid UTF-8 as the replacement character', () => {
    expect(printablePath(Buffer.from([0x61, 0xff]))).toBe('"a\ufffd"');
  });

  test('cuts long paths at 200 characters', () => {
    expect(printablePath('x'.repeat(500))).toBe(`"${'x'.repeat(200)}…"`);
  });
});
