/**
 * Path safety for paths that arrive from outside (snapshot archives from workers, archives from
 * providers): one function that says whether a path may become a file of an app, and the
 * helpers it is made of.
 *
 * Paths are taken as sent, less a leading `./`: nothing is normalized or "fixed". A path that
 * would need fixing is refused, because every fix is a second reading of the path that some
 * other tool (git, a file system, an unpacker on a worker) may not share.
 */

/** The length caps on one path (DESIGN §13). */
export interface PathLimits {
  /** Bytes of the UTF-8 path, after a leading `./` (and a stripped top folder) are removed. */
  maxPathBytes: number;
  maxComponents: number;
  maxComponentBytes: number;
}

/** The caps DESIGN §13 sets. */
export const DEFAULT_PATH_LIMITS: Readonly<PathLimits> = Object.freeze({
  maxPathBytes: 4096,
  maxComponents: 64,
  maxComponentBytes: 255,
});

/** How `checkArchivePath` reads a path. */
export interface ArchivePathOptions {
  limits?: Partial<PathLimits>;
  /**
   * Accept a component that is exactly `.git` (lower case, nothing around it). Worker snapshots
   * do, because the app-bundle filter drops those paths quietly; catalog imports do not. Every
   * other spelling git takes for `.git` is refused either way.
   */
  allowExactDotGit?: boolean;
  /** The entry is a directory: one trailing `/` is allowed and removed. */
  directory?: boolean;
  /** Take the first component off as the archive's top folder (a provider's archive). */
  stripTopFolder?: boolean;
}

/**
 * The verdict on one path. `path` is `''` for the archive root itself (`./`, or the top folder
 * when it is stripped); only a directory entry can sensibly be the root.
 */
export type ArchivePathCheck =
  | { ok: true; path: string; topFolder: string | null }
  | { ok: false; code: 'unsafe_path' | 'too_large'; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// C0 controls, DEL and the C1 controls: none of them belongs in a file name, several of them
// rewrite terminal output, and NUL ends a path for every C library.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

// A UTF-16 surrogate without its partner has no UTF-8 form: git and the file system would see
// U+FFFD instead, a different name.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// Code points HFS+ ignores when it compares names, so `.g\u200cit` opens `.git` on a Mac.
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

// `C:` at the start is an absolute path on Windows, where workers and desktop copies may unpack.
const DRIVE_LETTER = /^[A-Za-z]:/;

function refuse(reason: string): ArchivePathCheck {
  return { ok: false, code: 'unsafe_path', reason };
}

function tooLarge(reason: string): ArchivePathCheck {
  return { ok: false, code: 'too_large', reason };
}

function startsWithFolded(name: string, prefix: string): boolean {
  return name.length >= prefix.length && name.slice(0, prefix.length).toLowerCase() === prefix;
}

/**
 * True for every spelling of a path component that git, on some file system, takes for `.git`:
 * any letter case; the NTFS short name `git~1`; trailing dots and spaces, which NTFS drops; an
 * NTFS stream suffix (`.git::$INDEX_ALLOCATION`); and the code points HFS+ ignores, anywhere.
 * Git checks the NTFS and HFS+ forms one at a time; here the ignorable code points are removed
 * first and the NTFS rule applied to what is left, which covers both and their mixtures.
 */
export function isGitSpelling(component: string): boolean {
  const name = component.replace(HFS_IGNORABLE, '');

  let rest: string;
  if (startsWithFolded(name, '.git')) rest = name.slice(4);
  else if (startsWithFolded(name, 'git~1')) rest = name.slice(5);
  else return false;

  for (const char of rest) {
    if (char === ':') return true;
    if (char !== '.' && char !== ' ') return false;
  }
  return true;
}

/**
 * The key under which two paths land on the same file on a case-insensitive, normalizing file
 * system (macOS, Windows): HFS+ ignorable code points removed, Unicode canonical decomposition
 * (what HFS+ stores), then case folded through upper and lower case so that, for example, `ς`
 * and `σ` meet at `σ`. Two paths with the same key are twins.
 */
export function collisionKey(path: string): string {
  return path
    .replace(HFS_IGNORABLE, '')
    .normalize('NFD')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFD');
}

// Characters that would change how a message reads: controls, bidi and zero-width formatting,
// line and paragraph separators.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/**
 * A path made safe to put in a message or a log line: invalid UTF-8 shown as U+FFFD, invisible
 * and control characters as `\u{…}` escapes, cut at 200 characters, in double quotes.
 */
export function printablePath(raw: string | Uint8Array): string {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  const escaped = text.replace(UNPRINTABLE, (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`);
  const cut = escaped.length > 200 ? `${escaped.slice(0, 200)}…` : escaped;
  return `"${cut}"`;
}

function decode(raw: string | Uint8Array): string | null {
  if (typeof raw === 'string') return LONE_SURROGATE.test(raw) ? null : raw;

  try {
    return utf8.decode(raw);
  } catch {
    return null;
  }
}

function checkComponent(
  component: string,
  limits: PathLimits,
  allowExactDotGit: boolean,
): ArchivePathCheck | null {
  if (component === '') return refuse('empty path component');
  if (component === '.') return refuse('"." path component');
  if (component === '..') return refuse('".." path component');

  if (Buffer.byteLength(component, 'utf8') > limits.maxComponentBytes) {
    return tooLarge(`a path component is longer than ${limits.maxComponentBytes} bytes`);
  }

  if (isGitSpelling(component) && !(allowExactDotGit && component === '.git')) {
    return refuse('a path component that git reads as .git');
  }

  return null;
}

/**
 * Whether a path from an archive may become a file of an app. `raw` is best given as the bytes
 * of the tar header, so that invalid UTF-8 is seen before anything decodes it.
 */
export function checkArchivePath(
  raw: string | Uint8Array,
  options: ArchivePathOptions = {},
): ArchivePathCheck {
  const limits: PathLimits = { ...DEFAULT_PATH_LIMITS, ...options.limits };
  const allowExactDotGit = options.allowExactDotGit ?? false;

  const decoded = decode(raw);
  if (decoded === null) return refuse('the path is not valid UTF-8');
  if (decoded === '') return refuse('empty path');
  if (CONTROL_CHARACTER.test(decoded)) return refuse('the path holds a control character');
  if (decoded.includes('\\')) return refuse('the path holds a backslash');

  let path = decoded.startsWith('./') ? decoded.slice(2) : decoded;
  if (options.directory && path.endsWith('/')) path = path.slice(0, -1);
  if (path === '' || path === '.') return { ok: true, path: '', topFolder: null };

  if (path.startsWith('/')) return refuse('absolute path');
  if (DRIVE_LETTER.test(path)) return refuse('absolute path (drive letter)');

  const components = path.split('/');
  for (const component of components) {
    const verdict = checkComponent(component, limits, allowExactDotGit);
    if (verdict !== null) return verdict;
  }

  let topFolder: string | null = null;
  if (options.stripTopFolder) {
    topFolder = components.shift()!;
    path = components.join('/');
  }

  if (components.length > limits.maxComponents) {
    return tooLarge(`the path has more than ${limits.maxComponents} components`);
  }
  if (Buffer.byteLength(path, 'utf8') > limits.maxPathBytes) {
    return tooLarge(`the path is longer than ${limits.maxPathBytes} bytes`);
  }

  return { ok: true, path, topFolder };
}
