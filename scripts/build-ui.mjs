// Copies the admin UI's static files from ui/ into dist/ui, where the gateway serves them from.
// The UI has no build step of its own yet; when ui/ is empty or missing this does nothing.
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'ui');
const target = join(root, 'dist', 'ui');

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

await rm(target, { recursive: true, force: true });

if (!(await exists(source)) || (await readdir(source)).length === 0) {
  process.stdout.write('build-ui: no ui/ files; skipping\n');
} else {
  await mkdir(target, { recursive: true });
  await cp(source, target, { recursive: true });
  process.stdout.write(`build-ui: copied ui/ to ${target}\n`);
}
