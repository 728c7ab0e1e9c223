import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { localGitError } from './git-failure.js';
import { runGit } from './git-runner.js';

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
export async function ensureMirror(gitDir: string, timeoutMs: number): Promise<boolean> {
  if (await mirrorExists(gitDir)) return false;

  const parent = dirname(gitDir);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.${basename(gitDir)}.new-${randomBytes(6).toString('hex')}`);

  try {
    const exit = await runGit({
      args: ['init', '--quiet', '--bare', '--template=', '-b', 'main', staging],
      timeoutMs,
    });
    if (exit.code !== 0) throw localGitError('creating the mirror', exit);

    await appendFile(join(staging, 'config'), MIRROR_CONFIG);
    await mkdir(join(staging, 'info'), { recursive: true });
    await writeFile(join(staging, 'info', 'attributes'), NEUTRAL_ATTRIBUTES);
    await rename(staging, gitDir);
    return true;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Another writer created it first: theirs is as good as ours.
    if (await mirrorExists(gitDir)) return false;
    throw err;
  }
}

/** Makes sure an existing mirror (one cloned by an older gateway, say) has neutral attributes. */
export async function ensureNeutralAttributes(gitDir: string): Promise<void> {
  await mkdir(join(gitDir, 'info'), { recursive: true });
  await writeFile(join(gitDir, 'info', 'attributes'), NEUTRAL_ATTRIBUTES);
}
