// Builds the admin UI into dist/ui: ui/src/main.ts bundled by esbuild, ui/styles.css, and
// ui/index.html rewritten to name them. Bundles carry a content hash in their names so the
// gateway can let browsers cache them for a year; index.html keeps its name and is never cached.
//
// `node scripts/build-ui.mjs [outDir]` builds into outDir (default dist/ui), which tests use to
// build into a temporary folder.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'ui');

/** Builds the UI into `outDir` and answers the names of the written assets. */
export async function buildUi(outDir = join(root, 'dist', 'ui')) {
  await rm(outDir, { recursive: true, force: true });
  const assetsDir = join(outDir, 'assets');
  await mkdir(assetsDir, { recursive: true });

  const result = await build({
    entryPoints: { main: join(source, 'src', 'main.ts'), styles: join(source, 'styles.css') },
    bundle: true,
    format: 'esm',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: false,
    entryNames: '[name]-[hash]',
    outdir: assetsDir,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    tsconfig: join(source, 'tsconfig.json'),
  });

  // The metafile names each entry's output; index.html refers to the unhashed names.
  const names = {};
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const entry = basename(meta.entryPoint);
    const plain = entry === 'main.ts' ? 'main.js' : entry;
    names[plain] = basename(output);
  }
  if (!names['main.js'] || !names['styles.css']) {
    throw new Error('build-ui: esbuild did not write main.js and styles.css');
  }

  let html = await readFile(join(source, 'index.html'), 'utf8');
  for (const [plain, hashed] of Object.entries(names)) {
    const reference = `/assets/${plain}`;
    if (!html.includes(reference))
      throw new Error(`build-ui: index.html does not name ${reference}`);
    html = html.replaceAll(reference, `/assets/${hashed}`);
  }
  await writeFile(join(outDir, 'index.html'), html);

  return { outDir, assets: Object.values(names) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : undefined;
  const { outDir: written, assets } = await buildUi(outDir);
  process.stdout.write(`build-ui: wrote index.html and ${assets.join(', ')} to ${written}\n`);
}
