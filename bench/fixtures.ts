import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';

/** The app sizes of the benchmark (DESIGN §15). */
export type AppSize = 'S' | 'M' | 'L';

/** File count and total bytes of each size. */
export const APP_SIZES: Record<AppSize, { files: number; bytes: number }> = {
  S: { files: 42, bytes: 800_000 },
  M: { files: 1_000, bytes: 20_000_000 },
  L: { files: 10_000, bytes: 200_000_000 },
};

export interface GeneratedApp {
  size: AppSize;
  /** The folder holding the files. */
  root: string;
  /** Relative paths, sorted. */
  paths: string[];
  totalBytes: number;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same app on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'const',
  'export',
  'function',
  'return',
  'import',
  'from',
  'props',
  'state',
  'value',
  'items',
  'customer',
  'order',
  'invoice',
  'render',
  'useEffect',
  'useState',
  'await',
  'async',
  'string',
  'number',
  'boolean',
  'interface',
  'type',
  'null',
  'undefined',
  'map',
  'filter',
  'reduce',
  'className',
  'onClick',
  'children',
  'style',
  'margin',
  'padding',
  'display',
  'flex',
  'grid',
];

const KINDS = [
  { ext: 'ts', dir: 'src/lib', binary: false, weight: 25 },
  { ext: 'tsx', dir: 'src/components', binary: false, weight: 25 },
  { ext: 'css', dir: 'src/styles', binary: false, weight: 10 },
  { ext: 'json', dir: 'src/data', binary: false, weight: 10 },
  { ext: 'js', dir: 'dist/assets', binary: false, weight: 10 },
  { ext: 'png', dir: 'public/images', binary: true, weight: 15 },
  { ext: 'woff2', dir: 'public/fonts', binary: true, weight: 5 },
];

/** Source-like text of `bytes` bytes in the style of `ext`, from a seeded PRNG. */
export function textContent(random: () => number, bytes: number, ext: string): Buffer {
  const parts: string[] = [];
  let length = 0;
  let line = 0;
  while (length < bytes) {
    const words: string[] = [];
    const count = 3 + Math.floor(random() * 9);
    for (let i = 0; i < count; i += 1) words.push(WORDS[Math.floor(random() * WORDS.length)]);
    const text =
      ext === 'css'
        ? `.c${line} { ${words.slice(0, 3).join('-')}: ${Math.floor(random() * 999)}px; }\n`
        : ext === 'json'
          ? `  "${words[0]}${line}": "${words.slice(1).join(' ')}",\n`
          : `  ${words.join(' ')}(${Math.floor(random() * 1e6)});\n`;
    parts.push(text);
    length += text.length;
    line += 1;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** Incompressible bytes, like compressed images and fonts. */
export function binaryContent(random: () => number, bytes: number): Buffer {
  const content = Buffer.allocUnsafe(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4)
    content.writeUInt32LE(Math.floor(random() * 4294967296), i);
  for (let i = bytes - (bytes % 4); i < bytes; i += 1) content[i] = Math.floor(random() * 256);
  return content;
}

/**
 * Writes a deterministic app of the given size into a new temp folder: text sources (.ts, .tsx,
 * .css, .json, built .js) and incompressible binaries (png, woff2), plus `dist/index.html`.
 * `variant` changes about `changedShare` of the files, for later versions of the same app.
 */
export async function generateApp(
  size: AppSize,
  options: { variant?: number; changedShare?: number; root?: string } = {},
): Promise<GeneratedApp> {
  const { files, bytes } = APP_SIZES[size];
  const root = options.root ?? (await mkdtemp(join(tmpdir(), `bench-app-${size}-`)));
  const random = seededRandom(0x5eed + files);
  const totalWeight = KINDS.reduce((sum, kind) => sum + kind.weight, 0);
  const average = bytes / files;
  const paths: string[] = [];
  let totalBytes = 0;

  const index = Buffer.from('<!doctype html><html><body><div id="root"></div></body></html>\n');
  await mkdir(join(root, 'dist'), { recursive: true });
  await writeFile(join(root, 'dist', 'index.html'), index);
  paths.push('dist/index.html');
  totalBytes += index.length;

  for (let n = 1; n < files; n += 1) {
    let pick = random() * totalWeight;
    const kind = KINDS.find((candidate) => (pick -= candidate.weight) < 0) ?? KINDS[0];
    // Binaries run larger than sources, as in real apps; the mean stays at the target.
    const scale = kind.binary ? 2.6 : 0.6;
    const fileBytes = Math.max(64, Math.floor(average * scale * (0.5 + random())));
    const seed = Math.floor(random() * 2 ** 31);
    // Drawn for every file, so each variant keeps the same sequence for everything else.
    const roll = random();
    const changed = options.variant && roll < (options.changedShare ?? 0.05);
    const contentRandom = seededRandom(changed ? seed + options.variant! : seed);
    const content = kind.binary
      ? binaryContent(contentRandom, fileBytes)
      : textContent(contentRandom, fileBytes, kind.ext);

    const path = `${kind.dir}/d${n % 37}/file-${n}.${kind.ext}`;
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
    paths.push(path);
    totalBytes += content.length;
  }

  return { size, root, paths: paths.sort(), totalBytes };
}

/** A tar of a generated app, as a worker uploads it; answers the tar's path. */
export async function tarApp(app: GeneratedApp, into: string): Promise<string> {
  const file = join(into, `app-${app.size}.tar`);
  await createTar({ file, cwd: app.root, portable: true }, app.paths);
  return file;
}
