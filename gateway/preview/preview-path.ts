import { isSafeId } from '../../core/ids.js';

/** Where a preview URL points, once checked. */
export type PreviewLocation =
  | {
      kind: 'file';
      appId: string;
      /** null: the draft. */
      version: number | null;
      /** Path below `dist/`, decoded; `''` or ending in `/` means that folder's index.html. */
      path: string;
    }
  /** `/preview/<app>` and `/preview/<app>/v/<n>` without the final slash. */
  | { kind: 'redirect'; location: string }
  | { kind: 'not_found' };

const PREFIX = '/preview/';
const VERSION = /^[1-9][0-9]{0,8}$/;
const NOT_FOUND: PreviewLocation = { kind: 'not_found' };

/**
 * Reads a raw request URL under `/preview/`. Each segment is percent-decoded on its own, so an
 * encoded slash, backslash, NUL or dot-segment can never turn into a separator or a way out of
 * `dist/`: such a URL is simply not found. Nothing here touches the file system.
 */
export function parsePreviewUrl(rawUrl: string): PreviewLocation {
  const query = rawUrl.indexOf('?');
  const pathname = query < 0 ? rawUrl : rawUrl.slice(0, query);
  if (!pathname.startsWith(PREFIX)) return NOT_FOUND;

  const segments = pathname.slice(PREFIX.length).split('/');
  const appId = segments[0]!;
  if (!isSafeId(appId)) return NOT_FOUND;
  if (segments.length === 1)
    return { kind: 'redirect', location: `${PREFIX}${appId}/${queryOf(rawUrl, query)}` };

  let rest = segments.slice(1);
  let version: number | null = null;
  if (rest[0] === 'v' && rest.length >= 2 && VERSION.test(rest[1]!)) {
    version = Number(rest[1]);
    if (rest.length === 2) {
      return {
        kind: 'redirect',
        location: `${PREFIX}${appId}/v/${version}/${queryOf(rawUrl, query)}`,
      };
    }
    rest = rest.slice(2);
  } else if (rest[0] === 'v' && rest.length >= 3) {
    // `/v/<not a version>/…` names no version: refuse rather than read it as a draft path.
    return NOT_FOUND;
  }

  const decoded: string[] = [];
  for (let i = 0; i < rest.length; i += 1) {
    const segment = decodeSegment(rest[i]!);
    if (segment === null) return NOT_FOUND;
    // Only the last segment may be empty: a trailing slash asks for that folder's index.html.
    if (segment === '' && i !== rest.length - 1) return NOT_FOUND;
    decoded.push(segment);
  }

  return { kind: 'file', appId, version, path: decoded.join('/') };
}

function decodeSegment(raw: string): string | null {
  let segment: string;
  try {
    segment = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return null;
  }
  if (segment === '.' || segment === '..') return null;
  if (hasForbiddenCharacter(segment)) return null;
  return segment;
}

/** Control characters, and the separators a decoded segment must not smuggle in. */
function hasForbiddenCharacter(segment: string): boolean {
  for (let i = 0; i < segment.length; i += 1) {
    const code = segment.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x2f || code === 0x5c) return true;
  }
  return false;
}

function queryOf(rawUrl: string, query: number): string {
  return query < 0 ? '' : rawUrl.slice(query);
}
