import {
  BUNDLE_FILTER_RULES,
  bundleFilterReason,
  isKeptByBundleFilter,
} from '../../core/app-bundle-filter.js';

/** A path that a rule's pattern describes: `*` filled in, a folder given a file inside it. */
function sampleOf(pattern: string): string {
  const glob = pattern.split(' ')[0]!.replace('*', 'x');
  return glob.endsWith('/') ? `${glob}file.txt` : glob;
}

function upperCased(path: string): string {
  return path.toUpperCase();
}

describe('the app-bundle filter', () => {
  test('lists every pattern of the design, each once', () => {
    const patterns = BUNDLE_FILTER_RULES.map((rule) => rule.pattern.split(' ')[0]);
    expect(patterns).toEqual([
      '.git/',
      '.gitmodules',
      'node_modules/',
      '.env',
      '.env.*',
      '.npmrc',
      '.yarnrc',
      '.yarnrc.yml',
      '.pypirc',
      '.netrc',
      '_netrc',
      '.git-credentials',
      '.pgpass',
      '.aws/',
      '.ssh/',
      '.docker/config.json',
      '.kube/config',
      '*.pem',
      '*.key',
      '*.p12',
      '*.pfx',
      '*.jks',
      'id_rsa*',
      'id_dsa*',
      'id_ecdsa*',
      'id_ed25519*',
      '.cache/',
      '.next/cache/',
      '.turbo/',
      '.parcel-cache/',
      '.vite/',
      '.eslintcache',
      '.bash_history',
      '.zsh_history',
      '.sh_history',
      '.node_repl_history',
      '.python_history',
      '.psql_history',
      '.mysql_history',
      '*.log',
      'logs/',
      '.DS_Store',
      'Thumbs.db',
    ]);
  });

  describe.each(BUNDLE_FILTER_RULES.map((rule) => [rule.pattern, rule.reason]))(
    'rule %s',
    (pattern, reason) => {
      const sample = sampleOf(pattern);

      test(`drops ${sample} with the rule's reason`, () => {
        expect(bundleFilterReason(sample)).toBe(reason);
        expect(isKeptByBundleFilter(sample)).toBe(false);
      });

      test('at any depth', () => {
        expect(bundleFilterReason(`apps/web/${sample}`)).toBe(reason);
      });

      test('in any letter case', () => {
        expect(bundleFilterReason(upperCased(sample))).toBe(reason);
        expect(bundleFilterReason(`Src/${upperCased(sample)}`)).toBe(reason);
      });
    },
  );

  test('drops everything below a dropped folder', () => {
    expect(bundleFilterReason('node_modules/react/index.js')).toBe('installed dependencies');
    expect(bundleFilterReason('packages/a/node_modules/.bin/tsc')).toBe('installed dependencies');
    expect(bundleFilterReason('.git/objects/ab/cdef')).toBe('git metadata');
    expect(bundleFilterReason('.next/cache/webpack/client/0.pack')).toBe('build or tool cache');
    expect(bundleFilterReason('.aws/credentials')).toBe('credentials file');
    expect(bundleFilterReason('home/.ssh/known_hosts')).toBe('credentials file');
    expect(bundleFilterReason('server/logs/2024/app.txt')).toBe('log file');
  });

  test('reads a pattern without a trailing slash as a file or a folder, as gitignore does', () => {
    expect(bundleFilterReason('.env/lib/python3.12/site.py')).toBe(
      'environment file, may hold secrets',
    );
    expect(bundleFilterReason('certs.pem/readme.txt')).toBe('private key or certificate');
    expect(bundleFilterReason('.git')).toBe('git metadata');
  });

  test('reads a pattern with a trailing slash as a folder only', () => {
    expect(isKeptByBundleFilter('src/logs')).toBe(true);
    expect(isKeptByBundleFilter('node_modules')).toBe(true);
    expect(isKeptByBundleFilter('.next/cache')).toBe(true);
    expect(bundleFilterReason('logs/')).toBe('log file');
    expect(bundleFilterReason('node_modules/')).toBe('installed dependencies');
    expect(bundleFilterReason('.next/cache/')).toBe('build or tool cache');
  });

  test('keeps the three example environment files, in any case and at any depth', () => {
    for (const name of ['.env.example', '.env.sample', '.env.template']) {
      expect(isKeptByBundleFilter(name)).toBe(true);
      expect(isKeptByBundleFilter(`apps/api/${name.toUpperCase()}`)).toBe(true);
    }
    expect(bundleFilterReason('.env.local')).toBe('environment file, may hold secrets');
    expect(bundleFilterReason('.env.production')).toBe('environment file, may hold secrets');
    expect(bundleFilterReason('.env.example.local')).toBe('environment file, may hold secrets');
  });

  test.each([
    'env.ts',
    'src/env.d.ts',
    'environment.env.ts',
    '.envrc',
    'keys/public.txt',
    'logo.pem.txt',
    'key.ts',
    'src/monkey.js',
    'my_id_rsa_helper.md',
    'catalog.ts',
    'dialog',
    'mylogs/a.txt',
    'logs.ts',
    'cache/data.json',
    '.next/static/chunks/main.js',
    'docker/config.json',
    'config.json',
    '.kube/other',
    'kube/config',
    '.gitignore',
    '.gitattributes',
    '.github/workflows/ci.yml',
    '.git-blame-ignore-revs',
    'node_modules.md',
    'thumbs.db.txt',
    'keystore.jks.bak',
    'dist/index.html',
  ])('keeps the near miss %s', (path) => {
    expect(bundleFilterReason(path)).toBeNull();
    expect(isKeptByBundleFilter(path)).toBe(true);
  });
});
