import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { RestoreTarFilter } from '../../gateway/restore/restore-tar-filter.js';
import { verifyMirrorVersion } from '../../gateway/restore/verify-mirror-version.js';
import {
  observeGitSpawns,
  openMirror,
  type AppMirror,
  type VersionFile,
} from '../../mirror/index.js';
import { startGitServer } from '../../test/support/git-server.js';
import {
  binaryContent,
  generateApp,
  seededRandom,
  tarApp,
  textContent,
  type AppSize,
  type GeneratedApp,
} from '../fixtures.js';
import { benchRow, median, timed, type BenchRow } from './bench-row.js';
import { drain, runBaseline, settleDisk } from './bench-git.js';
import { stageUpload, type StagedApp } from './staged-app.js';

const execFileAsync = promisify(execFile);
const CREATED_AT = '2026-01-01T00:00:00Z';

interface Workspace {
  dir: string;
  fresh(prefix: string): Promise<string>;
}

async function workspace(): Promise<Workspace & { remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-mirror-'));
  return {
    dir,
    fresh: (prefix) => mkdtemp(join(dir, `${prefix}-`)),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Our side of version_write: read the uploaded tar as the gateway does, then write the version. */
async function writeFromUpload(
  ws: Workspace,
  tarPath: string,
): Promise<{ total: number; write: number; spawns: number; app: StagedApp; gitDir: string }> {
  const dataDir = await ws.fresh('data');
  let app!: StagedApp;
  let gitDir = '';
  let write = 0;
  let spawns = 0;
  const total = await timed(async () => {
    app = await stageUpload(tarPath, ws.dir);
    const mirror = openMirror({ dataDir, workspaceId: 'bench', appId: 'app' });
    gitDir = mirror.gitDir;
    const stop = observeGitSpawns(() => (spawns += 1));
    try {
      write = await timed(() =>
        mirror.writeVersion({
          files: app.files,
          readBlob: app.readBlob,
          manifest: app.manifest,
          summary: 'Bench build',
          createdAt: CREATED_AT,
          version: 1,
          parent: null,
        }),
      );
    } finally {
      stop();
    }
  });
  return { total, write, spawns, app, gitDir };
}

/** Baseline of version_write: extract to a work tree, then `git add -A`, `commit`, `tag -a`. */
async function gitAddBaseline(ws: Workspace, tarPath: string): Promise<number> {
  const work = await ws.fresh('worktree');
  return timed(async () => {
    await runBaseline('tar', ['-xf', tarPath, '-C', work]);
    await runBaseline('git', ['init', '-q', '-b', 'main'], { cwd: work });
    await runBaseline('git', ['add', '-A'], { cwd: work });
    await runBaseline('git', ['commit', '-q', '-m', 'Bench build'], { cwd: work });
    await runBaseline('git', ['tag', '-a', '-m', 'Bench build', 'second-app-v1'], { cwd: work });
  });
}

/** Baseline of version_write_fast_import: plain `git fast-import` of the same files from disk. */
async function fastImportBaseline(ws: Workspace, app: GeneratedApp): Promise<number> {
  const repo = await ws.fresh('fast-import');
  await runBaseline('git', ['init', '-q', '--bare', repo]);
  return timed(() =>
    runBaseline('git', ['--git-dir', repo, 'fast-import', '--quiet'], {
      feed: async (stdin) => {
        const write = (chunk: string | Buffer) =>
          new Promise<void>((resolve) =>
            stdin.write(chunk) ? resolve() : stdin.once('drain', resolve),
          );
        for (const [index, path] of app.paths.entries()) {
          const content = await readFile(join(app.root, path));
          await write(`blob\nmark :${index + 1}\ndata ${content.length}\n`);
          await write(content);
          await write('\n');
        }
        const lines = app.paths.map((path, index) => `M 100644 :${index + 1} ${path}`);
        await write(
          `commit refs/heads/main\ncommitter Bench <bench@localhost> 1767225600 +0000\ndata 5\nbench\n${lines.join('\n')}\n\n`,
        );
      },
    }),
  );
}

/** Peak RSS of a version write of `app`, in a child process of its own. */
async function rssOfWrite(ws: Workspace, app: StagedApp): Promise<number> {
  const spec = join(await ws.fresh('rss'), 'spec.json');
  await writeFile(spec, JSON.stringify({ dataDir: await ws.fresh('rss-data'), files: app.files }));
  const child = fileURLToPath(new URL('./rss-write-child.js', import.meta.url));
  const { stdout } = await execFileAsync(process.execPath, [child, spec], {
    maxBuffer: 1024 * 1024,
  });
  return (JSON.parse(stdout.trim()) as { maxRssMb: number }).maxRssMb;
}

/** version_write, version_write_fast_import, git_processes_per_version (and rss at L) for one size. */
export async function benchVersionWrite(
  size: AppSize,
  options: { runs?: number; withRestore?: boolean; withRss?: boolean } = {},
): Promise<BenchRow[]> {
  // Five runs at every size, ours and the baselines alternated, so the medians compare runs made
  // under the same load.
  const runs = options.runs ?? 5;
  const ws = await workspace();
  try {
    const app = await generateApp(size, { root: await ws.fresh('app') });
    const tarPath = await tarApp(app, ws.dir);

    const ours: { total: number; write: number; spawns: number }[] = [];
    const addBaseline: number[] = [];
    const fastImport: number[] = [];
    let last!: Awaited<ReturnType<typeof writeFromUpload>>;
    for (let run = 0; run < runs; run += 1) {
      await settleDisk();
      last = await writeFromUpload(ws, tarPath);
      ours.push(last);
      await settleDisk();
      addBaseline.push(await gitAddBaseline(ws, tarPath));
      await settleDisk();
      fastImport.push(await fastImportBaseline(ws, app));
    }

    const rows = [
      benchRow(
        `version_write.${size}`,
        median(ours.map((o) => o.total)),
        's',
        'extract to a work tree + git add -A, commit, tag -a',
        median(addBaseline),
      ),
      benchRow(
        `version_write_fast_import.${size}`,
        median(ours.map((o) => o.write)),
        's',
        'git fast-import of the same files',
        median(fastImport),
      ),
      benchRow(`git_processes_per_version.${size}`, ours[0].spawns, 'count'),
    ];

    if (options.withRestore) rows.push(...(await benchRestoreWarm(last.gitDir, size, runs)));
    if (options.withRss)
      rows.push(benchRow(`rss_write_${size}_mb`, await rssOfWrite(ws, last.app), 'MB'));
    return rows;
  } finally {
    await ws.remove();
  }
}

/** What a warm restore streams to a worker: the version's tar through the app-bundle filter. */
async function streamRestore(mirror: AppMirror, tag: string): Promise<number> {
  const filter = new RestoreTarFilter();
  const [bytes] = await Promise.all([drain(filter), pipeline(await mirror.archive(tag), filter)]);
  return bytes;
}

/**
 * restore_warm: a version's tar from a warm mirror, through the restore's tar filter, vs
 * `git archive <tag>` to a pipe, alternated. For people, two more figures: the archive alone
 * (tree check and git archive) and the whole mirror side of a restore, which first reads every
 * file to check it against the manifest (verifyMirrorVersion) before a byte is streamed.
 */
async function benchRestoreWarm(gitDir: string, size: AppSize, runs: number): Promise<BenchRow[]> {
  const mirror = openMirror({
    dataDir: join(gitDir, '..', '..', '..'),
    workspaceId: 'bench',
    appId: 'app',
  });
  const tag = 'second-app-v1';
  const streamed: number[] = [];
  const archived: number[] = [];
  const verified: number[] = [];
  const baseline: number[] = [];
  for (let run = 0; run < Math.max(runs, 5); run += 1) {
    baseline.push(
      await timed(() => runBaseline('git', ['--git-dir', gitDir, 'archive', '--format=tar', tag])),
    );
    streamed.push(await timed(() => streamRestore(mirror, tag)));
    archived.push(await timed(async () => drain(await mirror.archive(tag))));
    verified.push(
      await timed(async () => {
        await verifyMirrorVersion(mirror, tag, null);
        await streamRestore(mirror, tag);
      }),
    );
  }
  const against = 'git archive <tag> to a pipe';
  return [
    benchRow(`restore_warm.${size}`, median(streamed), 's', against, median(baseline)),
    {
      ...benchRow(
        `restore_warm_archive_only.${size}`,
        median(archived),
        's',
        against,
        median(baseline),
      ),
      humanOnly: true,
    },
    {
      ...benchRow(
        `restore_warm_verified.${size}`,
        median(verified),
        's',
        against,
        median(baseline),
      ),
      humanOnly: true,
    },
  ];
}

/**
 * restore_cold: a remote with 50 versions of an M-size app, each rebuilding dist/ and changing
 * 5 % of the sources; no mirror. Restoring one version (shallow fetch of its tag, then its tar)
 * vs `git clone --bare` of the repository.
 */
export async function benchRestoreCold(
  options: { runs?: number; versions?: number } = {},
): Promise<BenchRow[]> {
  const runs = options.runs ?? 3;
  const versions = options.versions ?? 50;
  const ws = await workspace();
  const token = 'bench-token';
  const server = await startGitServer({ checkAuth: (_user, pass) => pass === token });
  try {
    await server.createRepo('bench', 'app');
    const remote = { url: `${server.baseUrl}/bench/app.git`, username: 'git', password: token };
    const base = await generateApp('M', { root: await ws.fresh('app') });
    const contents = new Map<string, Buffer>();
    for (const path of base.paths) contents.set(path, await readFile(join(base.root, path)));

    const blobs = new Map<string, Buffer>();
    const mirror = openMirror({
      dataDir: await ws.fresh('data'),
      workspaceId: 'bench',
      appId: 'app',
    });
    const random = seededRandom(50);
    let parent: string | null = null;
    const tags: string[] = [];
    for (let version = 1; version <= versions; version += 1) {
      if (version > 1) {
        for (const path of base.paths) {
          // Every build rebuilds dist/ (bundles come out different), and touches a few sources.
          if (!path.startsWith('dist/') && random() >= 0.05) continue;
          const size = contents.get(path)!.length;
          const seeded = seededRandom(Math.floor(random() * 2 ** 31));
          const binary = /\.(png|woff2)$/.test(path);
          const ext = path.slice(path.lastIndexOf('.') + 1);
          contents.set(path, binary ? binaryContent(seeded, size) : textContent(seeded, size, ext));
        }
      }
      const files: VersionFile[] = [];
      for (const [path, content] of contents) {
        const sha256 = createHash('sha256').update(content).digest('hex');
        blobs.set(sha256, content);
        files.push({ path, size: content.length, sha256 });
      }
      const written = await mirror.writeVersion({
        files,
        readBlob: async (sha) => blobs.get(sha)!,
        manifest: Buffer.from(`{"version":${version}}\n`),
        summary: `Version ${version}`,
        createdAt: CREATED_AT,
        version,
        parent,
      });
      parent = written.commitSha;
      tags.push(written.tag);
    }
    await mirror.push({ remote, refs: ['main', ...tags], timeoutMs: 120_000 });

    const wanted = tags[Math.floor(versions / 2)];
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const dataDir = await ws.fresh('cold');
      ours.push(
        await timed(async () => {
          const cold = openMirror({ dataDir, workspaceId: 'bench', appId: 'app' });
          await cold.cloneMissing({ remote, tag: wanted, timeoutMs: 120_000 });
          await drain(await cold.archive(wanted));
        }),
      );
      const target = join(await ws.fresh('clone'), 'app.git');
      const basic = Buffer.from(`git:${token}`).toString('base64');
      baseline.push(
        await timed(() =>
          runBaseline('git', ['clone', '--bare', '-q', remote.url, target], {
            env: {
              GIT_CONFIG_COUNT: '1',
              GIT_CONFIG_KEY_0: 'http.extraHeader',
              GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
            },
          }),
        ),
      );
    }
    return [benchRow('restore_cold', median(ours), 's', 'git clone --bare', median(baseline))];
  } finally {
    await server.close();
    await ws.remove();
  }
}

/**
 * Every mirror row of DESIGN §15: S, M and L by default (L writes 200 MB several times and gives
 * restore_warm.L and rss_write_L_mb); `--sizes` narrows it, and `--quick` keeps to S.
 */
export async function runMirrorBench(options: { sizes?: string[] } = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sizes = (options.sizes ?? ['S', 'M', 'L']).filter((size): size is AppSize =>
    ['S', 'M', 'L'].includes(size),
  );
  for (const size of sizes) {
    rows.push(
      ...(await benchVersionWrite(size, { withRestore: size === 'L', withRss: size === 'L' })),
    );
  }
  rows.push(...(await benchRestoreCold()));
  return rows;
}

// Runnable alone: `node dist/bench/mirror/mirror-bench.js [S,M,L]` (default: all three).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runMirrorBench({ sizes: process.argv[2]?.split(',') }).then(
    (rows) => {
      for (const row of rows) {
        const against = row.baseline
          ? ` vs ${row.baselineValue} (${row.baseline}), ratio ${row.ratio}`
          : '';
        process.stderr.write(`${row.name}: ${row.value} ${row.unit}${against}\n`);
      }
      process.stdout.write(`${JSON.stringify(rows)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
