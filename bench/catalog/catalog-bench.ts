import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import PQueue from 'p-queue';
import { buildManifest, serializeManifest } from '../../core/manifest.js';
import { summarizeSource } from '../../core/source-hash.js';
import type { GitHubDouble } from '../../test/doubles/github/github-double.js';
import type { SourceControlHarness } from '../../test/support/source-control-harness.js';
import { startGitHubWorld } from '../github-world.js';
import { benchRow, type BenchRow } from '../mirror/bench-row.js';

const OWNER = 'bench-org';
const TOKEN = 'ghp-bench-catalog-token-0123456789abcdef';

/** The owner of DESIGN §15: 1,000 repositories, of which this many are Second apps. */
const REPOS = 1_000;
const APPS = 200;

// Seeding runs git several times per repository; a few at once keeps a 2-core machine usable.
const SEED_CONCURRENCY = 4;

/** Version 1 of a small app with its manifest, as the gateway would have published it. */
function appFiles(repo: string): Record<string, string> {
  const files = {
    'dist/index.html': `<!doctype html><title>${repo}</title>`,
    'src/main.ts': `export const name = ${JSON.stringify(repo)};\n`,
  };
  const source = summarizeSource(
    Object.entries(files).map(([path, body]) => ({
      path,
      size: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
    })),
  );
  const manifest = buildManifest({
    appName: `App ${repo}`,
    source,
    provider: 'github',
    owner: OWNER,
    repo,
    version: 1,
    availableInCatalog: true,
  });
  return { ...files, 'second-app.json': serializeManifest(manifest).toString('utf8') };
}

/** 1,000 repositories: the apps carry the topic, a tag and a manifest; the rest a README. */
async function seedOwner(double: GitHubDouble, repos: number, apps: number): Promise<void> {
  const queue = new PQueue({ concurrency: SEED_CONCURRENCY });
  const width = String(repos).length;
  await Promise.all(
    Array.from({ length: repos }, (_, i) => {
      const number = String(i).padStart(width, '0');
      if (i < apps) {
        const repo = `second-app-bench-${number}`;
        return queue.add(() =>
          double.seedRepo(OWNER, repo, {
            topics: ['second-app'],
            files: appFiles(repo),
            tags: ['second-app-v1'],
          }),
        );
      }
      return queue.add(() =>
        double.seedRepo(OWNER, `project-${number}`, { files: { 'README.md': `# ${number}\n` } }),
      );
    }),
  );
}

async function refresh(h: SourceControlHarness, token: string): Promise<number> {
  const response = await h.gateway.request('/api/v1/catalog', { token });
  if (response.status !== 200) throw new Error(`the catalog answered ${response.status}`);
  const body = (await response.json()) as { entries: { error: unknown }[] };
  const failed = body.entries.filter((entry) => entry.error !== null).length;
  if (failed > 0) throw new Error(`${failed} catalog entries came back with an error`);
  return body.entries.length;
}

/**
 * catalog_refresh.requests and .not_modified: one refresh of Available Apps for an owner of
 * 1,000 repositories (200 apps, 800 other repositories), after a first refresh filled the
 * manifest cache. Counts every request the GitHub double answered during the second refresh and
 * how many of them were 304 Not Modified. Nothing is pushed between the two refreshes, so no
 * `pushed_at` moves: the apps' manifests are asked about with their ETags and the plain
 * repositories, found without a manifest the first time, are not read at all.
 */
export async function runCatalogBench(): Promise<BenchRow[]> {
  const { h, double } = await startGitHubWorld(OWNER, TOKEN);
  try {
    await seedOwner(double, REPOS, APPS);
    const token = await h.gateway.userToken({ role: 'viewer' });

    const listed = await refresh(h, token);
    if (listed !== APPS) throw new Error(`the first refresh listed ${listed} apps, not ${APPS}`);

    const before = double.requests.length;
    const again = await refresh(h, token);
    if (again !== APPS) throw new Error(`the second refresh listed ${again} apps, not ${APPS}`);
    const seen = double.requests.slice(before);
    const notModified = seen.filter((r) => r.status === 304).length;
    const manifestReads = seen.filter((r) => r.path.endsWith('/contents/second-app.json')).length;
    process.stderr.write(
      `bench: catalog refresh of ${REPOS} repos: ${seen.length} requests, ` +
        `${manifestReads} manifest reads, ${notModified} answered 304, ` +
        `${seen.length - manifestReads} listing pages\n`,
    );

    return [
      benchRow('catalog_refresh.requests', seen.length, 'requests'),
      benchRow('catalog_refresh.not_modified', notModified, 'requests'),
    ];
  } finally {
    await h.close();
    await double.close();
  }
}

// Runnable alone: `node dist/bench/catalog/catalog-bench.js`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runCatalogBench().then(
    (rows) => process.stdout.write(`${JSON.stringify(rows)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
