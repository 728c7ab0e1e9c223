import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';

/** One file of the benchmark app's `dist/`. */
export interface PreviewAppFile {
  /** Path below `dist/`. */
  path: string;
  size: number;
}

const KIB = 1024;

/** Sizes growing by a fixed factor from `smallest`: a bundle has many small files, few big ones. */
function spread(count: number, smallest: number, largest: number): number[] {
  const factor = count === 1 ? 1 : (largest / smallest) ** (1 / (count - 1));
  return Array.from({ length: count }, (_, i) => Math.round(smallest * factor ** i));
}

/**
 * The files of a realistic built app: 50 files in the mix a bundler emits. Most are small (route
 * chunks, icons, page HTML of 1 to 30 KB); a few are big (the vendor chunk of 200 KB, the main
 * chunk, the main stylesheet, photos). Sizes are fixed so every run serves the same bytes.
 */
export function previewAppFiles(): PreviewAppFile[] {
  const files: PreviewAppFile[] = [{ path: 'index.html', size: 2 * KIB }];
  spread(9, 1 * KIB, 8 * KIB).forEach((size, i) =>
    files.push({ path: `pages/page-${i}/index.html`, size }),
  );

  files.push(
    { path: 'assets/vendor.js', size: 200 * KIB },
    { path: 'assets/main.js', size: 90 * KIB },
  );
  spread(13, 2 * KIB, 30 * KIB).forEach((size, i) =>
    files.push({ path: `assets/route-${i}.js`, size }),
  );

  files.push({ path: 'assets/main.css', size: 40 * KIB });
  spread(9, 1 * KIB, 8 * KIB).forEach((size, i) =>
    files.push({ path: `assets/route-${i}.css`, size }),
  );

  spread(15, 1 * KIB, 120 * KIB).forEach((size, i) =>
    files.push({ path: `img/picture-${i}.png`, size }),
  );
  return files;
}

function contentOf(file: PreviewAppFile): Buffer {
  if (file.path.endsWith('.png')) return randomBytes(file.size);
  // Text files: readable, compressible content of the exact size.
  const line = `/* ${file.path} */ const value = "${'x'.repeat(40)}";\n`;
  return Buffer.from(line.repeat(Math.ceil(file.size / line.length)).slice(0, file.size));
}

/**
 * Writes the app under `root` (`root/dist/...` plus a source file) and answers the folder the
 * baseline serves (`root/dist`) and a tar of the whole app for the gateway's build upload.
 */
export async function writePreviewApp(root: string): Promise<{ distDir: string; tar: Buffer }> {
  const paths: string[] = ['src/main.ts'];
  await mkdir(join(root, 'src'), { recursive: true });
  await writeFile(join(root, 'src/main.ts'), 'export {};\n');

  for (const file of previewAppFiles()) {
    const target = join(root, 'dist', file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, contentOf(file));
    paths.push(`dist/${file.path}`);
  }

  const chunks: Buffer[] = [];
  for await (const chunk of createTar({ cwd: root, portable: true }, paths))
    chunks.push(chunk as Buffer);
  return { distDir: join(root, 'dist'), tar: Buffer.concat(chunks) };
}
