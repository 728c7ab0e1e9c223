import { GatewayError } from '../core/errors.js';

// Code points HFS+ ignores when it compares names, so `.g\u200cit` opens `.git` there.
const IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when git or a file system could take this one path component for `.git`. */
export function isGitDirSpelling(component: string): boolean {
  const folded = component.replace(IGNORABLE, '').toLowerCase();
  // Windows drops trailing dots and spaces; `git~1` is the 8.3 short name of `.git`.
  const trimmed = folded.replace(/[. ]+$/, '');
  return trimmed === '.git' || trimmed === 'git~1';
}

/** Why a path may not stand in a tree, or null when it may. */
export function unsafeTreePathReason(path: string): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'is empty';
  if (Buffer.byteLength(path, 'utf8') > 4096) return 'is too long';
  if (path.startsWith('/')) return 'is absolute';
  if (path.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (LONE_SURROGATE.test(path)) return 'is not valid UTF-8';

  for (const component of path.split('/')) {
    if (component === '') return 'has an empty component';
    if (component === '.' || component === '..') return 'has a dot component';
    if (isGitDirSpelling(component)) return 'names a .git folder';
    if (Buffer.byteLength(component, 'utf8') > 255) return 'has a component that is too long';
  }
  return null;
}

/** Throws `unsafe_path` for a path that may not be written to or read from a tree. */
export function assertSafeTreePath(path: string): void {
  const reason = unsafeTreePathReason(path);
  if (reason)
    throw new GatewayError('unsafe_path', `A file path ${reason}.`, { details: { reason } });
}
