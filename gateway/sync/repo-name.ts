/** The default start of every repository name. */
export const DEFAULT_REPO_PREFIX = 'second-app';

const MAX_REPO_NAME = 100;
const PREFIX_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** True when `prefix` may start repository names: lower-case letters, digits, single dashes. */
export function isValidRepoPrefix(prefix: string): boolean {
  return prefix.length <= 40 && PREFIX_PATTERN.test(prefix);
}

/**
 * The app name folded to ASCII: accents removed, spaces and separators turned into single dashes,
 * everything else dropped; `app` when nothing is left.
 */
export function slugOf(appName: string): string {
  const folded = appName
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[\s\-_./\\:+|]+/g, '-')
    .replace(/[^a-z0-9-]+/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return folded || 'app';
}

/**
 * The repository name of an app (DESIGN §5): `<prefix>-<slug>`, at most 100 characters. With
 * `disambiguate`, the first 8 characters of the app id are appended, for when the plain name is
 * taken by a repository that is not this app's.
 */
export function repoNameFor(
  appName: string,
  options: { prefix?: string; appId?: string; disambiguate?: boolean } = {},
): string {
  const prefix = options.prefix || DEFAULT_REPO_PREFIX;
  const suffix = options.disambiguate && options.appId ? `-${options.appId.slice(0, 8)}` : '';
  const room = MAX_REPO_NAME - prefix.length - 1 - suffix.length;
  const slug = slugOf(appName).slice(0, Math.max(room, 1)).replace(/-+$/, '') || 'app';
  return `${prefix}-${slug}${suffix}`;
}
