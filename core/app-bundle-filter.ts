/**
 * The app-bundle filter: the one list of paths that never go to git, never come from it and are
 * never served (dependencies, git metadata, secrets, caches, histories, logs, OS litter).
 *
 * Matching follows gitignore's reading of a pattern, applied case-insensitively at any depth:
 * a pattern ending in `/` matches a directory component (the path runs through it); any other
 * pattern matches a component whether it is a file or a directory, so `.env` also drops a
 * virtualenv folder named `.env/`, and `*.pem` drops `certs.pem/x`. A two-part pattern such as
 * `.kube/config` matches those two components next to each other anywhere in the path.
 *
 * The rules run per file on every build and every preview request, so they are compiled once
 * into sets and prefix lists: one lower-casing and one split per call, then set look-ups.
 */

interface FilterRule {
  pattern: string;
  reason: string;
}

const GIT = 'git metadata';
const DEPENDENCIES = 'installed dependencies';
const ENV = 'environment file, may hold secrets';
const CREDENTIALS = 'credentials file';
const KEY = 'private key or certificate';
const CACHE = 'build or tool cache';
const HISTORY = 'shell or client history';
const LOG = 'log file';
const OS = 'operating system metadata';

/** Every rule of the filter with the reason it gives; for the README and the admin UI. */
export const BUNDLE_FILTER_RULES: readonly FilterRule[] = Object.freeze(
  [
    { pattern: '.git/', reason: GIT },
    { pattern: '.gitmodules', reason: GIT },
    { pattern: 'node_modules/', reason: DEPENDENCIES },
    { pattern: '.env', reason: ENV },
    { pattern: '.env.* (except .env.example, .env.sample, .env.template)', reason: ENV },
    { pattern: '.npmrc', reason: CREDENTIALS },
    { pattern: '.yarnrc', reason: CREDENTIALS },
    { pattern: '.yarnrc.yml', reason: CREDENTIALS },
    { pattern: '.pypirc', reason: CREDENTIALS },
    { pattern: '.netrc', reason: CREDENTIALS },
    { pattern: '_netrc', reason: CREDENTIALS },
    { pattern: '.git-credentials', reason: CREDENTIALS },
    { pattern: '.pgpass', reason: CREDENTIALS },
    { pattern: '.aws/', reason: CREDENTIALS },
    { pattern: '.ssh/', reason: CREDENTIALS },
    { pattern: '.docker/config.json', reason: CREDENTIALS },
    { pattern: '.kube/config', reason: CREDENTIALS },
    { pattern: '*.pem', reason: KEY },
    { pattern: '*.key', reason: KEY },
    { pattern: '*.p12', reason: KEY },
    { pattern: '*.pfx', reason: KEY },
    { pattern: '*.jks', reason: KEY },
    { pattern: 'id_rsa*', reason: KEY },
    { pattern: 'id_dsa*', reason: KEY },
    { pattern: 'id_ecdsa*', reason: KEY },
    { pattern: 'id_ed25519*', reason: KEY },
    { pattern: '.cache/', reason: CACHE },
    { pattern: '.next/cache/', reason: CACHE },
    { pattern: '.turbo/', reason: CACHE },
    { pattern: '.parcel-cache/', reason: CACHE },
    { pattern: '.vite/', reason: CACHE },
    { pattern: '.eslintcache', reason: CACHE },
    { pattern: '.bash_history', reason: HISTORY },
    { pattern: '.zsh_history', reason: HISTORY },
    { pattern: '.sh_history', reason: HISTORY },
    { pattern: '.node_repl_history', reason: HISTORY },
    { pattern: '.python_history', reason: HISTORY },
    { pattern: '.psql_history', reason: HISTORY },
    { pattern: '.mysql_history', reason: HISTORY },
    { pattern: '*.log', reason: LOG },
    { pattern: 'logs/', reason: LOG },
    { pattern: '.DS_Store', reason: OS },
    { pattern: 'Thumbs.db', reason: OS },
  ].map((rule) => Object.freeze(rule)),
);

/** Components dropped only when something lies below them (`name/`). */
const DIRECTORY_NAMES = new Map<string, string>([
  ['node_modules', DEPENDENCIES],
  ['.aws', CREDENTIALS],
  ['.ssh', CREDENTIALS],
  ['.cache', CACHE],
  ['.turbo', CACHE],
  ['.parcel-cache', CACHE],
  ['.vite', CACHE],
  ['logs', LOG],
]);

/** Components dropped wherever they stand, as a file or as a directory. */
const ANY_NAMES = new Map<string, string>([
  // A file named `.git` is as unwelcome as the folder: git refuses it in a tree.
  ['.git', GIT],
  // The gateway never writes submodules, so a `.gitmodules` describes none of the version; and
  // one whose url or path git reads as an option is refused by fsck, so committing it would make
  // the app's own history unfetchable (no mirror rebuild, no later sync).
  ['.gitmodules', GIT],
  ['.env', ENV],
  ['.npmrc', CREDENTIALS],
  ['.yarnrc', CREDENTIALS],
  ['.yarnrc.yml', CREDENTIALS],
  ['.pypirc', CREDENTIALS],
  ['.netrc', CREDENTIALS],
  ['_netrc', CREDENTIALS],
  ['.git-credentials', CREDENTIALS],
  ['.pgpass', CREDENTIALS],
  ['.eslintcache', CACHE],
  ['.bash_history', HISTORY],
  ['.zsh_history', HISTORY],
  ['.sh_history', HISTORY],
  ['.node_repl_history', HISTORY],
  ['.python_history', HISTORY],
  ['.psql_history', HISTORY],
  ['.mysql_history', HISTORY],
  ['.ds_store', OS],
  ['thumbs.db', OS],
]);

/** Extensions (after the last dot) dropped wherever they stand. */
const EXTENSIONS = new Map<string, string>([
  ['pem', KEY],
  ['key', KEY],
  ['p12', KEY],
  ['pfx', KEY],
  ['jks', KEY],
  ['log', LOG],
]);

const KEY_PREFIXES: readonly string[] = ['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519'];

const ENV_EXCEPTIONS = new Set(['.env.example', '.env.sample', '.env.template']);

/** Adjacent component pairs: the second may be the last component unless `secondIsDirectory`. */
const PAIRS: readonly {
  first: string;
  second: string;
  secondIsDirectory: boolean;
  reason: string;
}[] = [
  { first: '.next', second: 'cache', secondIsDirectory: true, reason: CACHE },
  { first: '.docker', second: 'config.json', secondIsDirectory: false, reason: CREDENTIALS },
  { first: '.kube', second: 'config', secondIsDirectory: false, reason: CREDENTIALS },
];

function reasonForName(name: string): string | null {
  const exact = ANY_NAMES.get(name);
  if (exact !== undefined) return exact;

  if (name.startsWith('.env.') && !ENV_EXCEPTIONS.has(name)) return ENV;

  for (const prefix of KEY_PREFIXES) {
    if (name.startsWith(prefix)) return KEY;
  }

  const dot = name.lastIndexOf('.');
  if (dot >= 0) return EXTENSIONS.get(name.slice(dot + 1)) ?? null;

  return null;
}

/**
 * Why the app-bundle filter drops this path, or null when the path is kept. The path is
 * `/`-separated and relative; a trailing `/` marks the path itself as a directory.
 */
export function bundleFilterReason(path: string): string | null {
  // Only ASCII letters occur in the rules; `toLowerCase` also folds look-alikes such as the
  // Kelvin sign onto them, which errs on the side of dropping.
  const components = path.toLowerCase().split('/');
  if (components[components.length - 1] === '') components.pop();
  const isDirectory = path.endsWith('/');
  const last = components.length - 1;

  for (let i = 0; i <= last; i += 1) {
    const name = components[i]!;
    const belowIt = i < last || isDirectory;

    if (belowIt) {
      const directoryReason = DIRECTORY_NAMES.get(name);
      if (directoryReason !== undefined) return directoryReason;
    }

    const nameReason = reasonForName(name);
    if (nameReason !== null) return nameReason;

    if (i === last) continue;
    const next = components[i + 1]!;
    for (const pair of PAIRS) {
      if (name !== pair.first || next !== pair.second) continue;
      if (pair.secondIsDirectory && i + 1 === last && !isDirectory) continue;
      return pair.reason;
    }
  }

  return null;
}

/** True when the app-bundle filter keeps this path. */
export function isKeptByBundleFilter(path: string): boolean {
  return bundleFilterReason(path) === null;
}
