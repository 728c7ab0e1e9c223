// Copies the admin UI's static files from ui/ into dist/ui, where the gateway serves them from.
// The UI has no build step of its own yet; when ui/ is empty or missing this does nothing.
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
  console.log('build-ui: no ui/ files; skipping');
} else {
  await mkdir(target, { recursive: true });
  await cp(source, target, { recursive: true });
  console.log(`build-ui: copied ui/ to ${target}`);
}
