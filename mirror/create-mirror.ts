import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// What `git init --bare` makes, less the samples and descriptions: written directly, because a
// process spawn costs more than these few files and a version write should not pay for it.
const BASE_CONFIG = `[core]
\trepositoryformatversion = 0
\tfilemode = true
\tbare = true
`;

async function writeBareLayout(path: string): Promise<void> {
  for (const folder of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info']) {
    await mkdir(join(path, folder), { recursive: true });
  }
  await writeFile(join(path, 'config'), BASE_CONFIG + MIRROR_CONFIG);
  await writeFile(join(path, 'info', 'attributes'), NEUTRAL_ATTRIBUTES);
  await writeFile(join(path, 'description'), 'Second app mirror\n');
  // HEAD last: git (and mirrorExists) take a folder with HEAD for a repository.
  await writeFile(join(path, 'HEAD'), 'ref: refs/heads/main\n');
}

// Kept in the repository too, so a person who runs git by hand on a mirror gets the same safety
// the gateway passes on every command line.
const MIRROR_CONFIG = `[gc]
\tauto = 0
[maintenance]
\tauto = false
[transfer]
\tfsckObjects = true
[fetch]
\tfsckObjects = true
[receive]
\tfsckObjects = true
[core]
\thooksPath = /dev/null
\tfsmonitor = false
\tlogAllRefUpdates = true
`;

// In-tree .gitattributes could make `git archive` rewrite line endings, expand placeholders or
// drop files; info/attributes outranks them, so restores give back the committed bytes.
const NEUTRAL_ATTRIBUTES =
  '* -text -eol -crlf -ident -filter -diff -merge -export-ignore -export-subst -working-tree-encoding\n';

/** True when a bare repository exists at `gitDir`. */
export async function mirrorExists(gitDir: string): Promise<boolean> {
  try {
    return (await stat(join(gitDir, 'HEAD'))).isFile();
  } catch {
    return false;
  }
}

/**
 * Creates the bare repository at `gitDir` with the hardened config, unless it exists. It is
 * built under a temporary name and renamed into place, so a crash never leaves half a mirror.
 */
export async function ensureMirror(gitDir: string): Promise<boolean> {
  if (await mirrorExists(gitDir)) return false;

  const parent = dirname(gitDir);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.${basename(gitDir)}.new-${randomBytes(6).toString('hex')}`);

  try {
    await writeBareLayout(staging);
    await rename(staging, gitDir);
    return true;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Another writer created it first: theirs is as good as ours.
    if (await mirrorExists(gitDir)) return false;
    throw err;
  }
}
