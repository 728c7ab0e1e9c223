/**
 * Repository histories the gateway must never honour, written with git plumbing straight into a
 * bare repository (a provider lets anyone with push access put them there; porcelain would
 * refuse to make them). Every case carries scripts that would create a marker file if git ran
 * them as hooks, an fsmonitor or a submodule command, so a test can prove nothing ran.
 */
import { execFileSync } from 'node:child_process';
import { isKeptByBundleFilter } from '../../core/app-bundle-filter.js';
import { manifestFor } from '../gateway/catalog/catalog-support.js';

/** A tree: a file's content, an executable, a submodule (gitlink) or a folder. */
export type TreeSpec = {
  [name: string]: string | { exec: string } | { gitlink: string } | TreeSpec;
};

export interface HostileTree {
  name: string;
  description: string;
  /** The tree at the root of the commit, built around the marker path. */
  tree(marker: string): TreeSpec;
  /**
   * Whether a reader refuses the history (its paths or objects) or takes it as plain files: a
   * `config` or `hooks/` committed at the root is app content, never configuration.
   */
  refused: boolean;
  /**
   * Files the app-bundle filter drops from an import, so an install takes the version without
   * them instead of refusing it (a provider's archive carries no gitlinks, only their
   * `.gitmodules`).
   */
  strippedOnImport?: string[];
}

const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Mallory',
  GIT_AUTHOR_EMAIL: 'mallory@example.test',
  GIT_COMMITTER_NAME: 'Mallory',
  GIT_COMMITTER_EMAIL: 'mallory@example.test',
};

function git(gitDir: string, args: string[], input?: string): string {
  return execFileSync('git', ['--git-dir', gitDir, ...args], { env: GIT_ENV, input })
    .toString('utf8')
    .trim();
}

/** A shell script that creates the marker. */
export function markerScript(marker: string): { exec: string } {
  return { exec: `#!/bin/sh\ntouch '${marker}'\n` };
}

/** A repository config that would run the marker script as every hook and as the fsmonitor. */
export function markerConfig(marker: string): string {
  return [
    '[core]',
    '\tbare = false',
    `\tfsmonitor = touch '${marker}'`,
    '\thooksPath = hooks',
    `\tsshCommand = touch '${marker}'`,
    '[protocol]',
    '\tallow = always',
    '',
  ].join('\n');
}

function hooks(marker: string): TreeSpec {
  const script = markerScript(marker);
  return {
    'post-checkout': script,
    'pre-commit': script,
    'post-merge': script,
    'reference-transaction': script,
    'pre-push': script,
    'fsmonitor-watchman': script,
  };
}

/** A `.git` folder of a kind git would read from a work tree: config and hooks. */
function dotGitFolder(marker: string): TreeSpec {
  return { HEAD: 'ref: refs/heads/main\n', config: markerConfig(marker), hooks: hooks(marker) };
}

/** The files of a small valid app, beside which each case puts its hostile entries. */
export const APP_FILES: Record<string, string> = {
  'dist/index.html': '<!doctype html><title>hostile</title>',
  'src/main.ts': 'export const hostile = true;\n',
};

function appTree(): TreeSpec {
  return {
    dist: { 'index.html': APP_FILES['dist/index.html'] },
    src: { 'main.ts': APP_FILES['src/main.ts'] },
  };
}

// An object id that stands in for a submodule's commit; a gitlink's commit is never fetched.
const SUBMODULE_COMMIT = 'a'.repeat(40);

/** Every hostile history; each builds its tree only when asked. */
export function hostileTrees(): HostileTree[] {
  return [
    {
      name: 'dotgit-folder',
      description: 'a .git folder with a config and hooks',
      refused: true,
      tree: (marker) => ({ ...appTree(), '.git': dotGitFolder(marker) }),
    },
    {
      name: 'dotgit-upper-case',
      description: 'a .GIT folder, which is .git on a case-insensitive disk',
      refused: true,
      tree: (marker) => ({ ...appTree(), '.GIT': dotGitFolder(marker) }),
    },
    {
      name: 'dotgit-nested',
      description: 'a .git folder below a folder of the app',
      refused: true,
      tree: (marker) => ({ ...appTree(), vendor: { '.git': dotGitFolder(marker) } }),
    },
    {
      name: 'dotdot-entry',
      description: 'a tree entry named .. holding a config',
      refused: true,
      tree: (marker) => ({ ...appTree(), '..': { config: markerConfig(marker) } }),
    },
    {
      name: 'gitmodules-path-into-dotgit',
      description: 'a submodule whose path is .git/hooks, with its gitlink there',
      refused: true,
      tree: (marker) => ({
        ...appTree(),
        '.gitmodules': `[submodule "x"]\n\tpath = .git/hooks\n\turl = https://example.test/x.git\n\tupdate = !touch '${marker}'\n`,
        '.git': { hooks: { gitlink: SUBMODULE_COMMIT } },
      }),
    },
    {
      name: 'gitmodules-url-option',
      strippedOnImport: ['.gitmodules'],
      description: 'a submodule whose url starts with -, read by git as an option',
      refused: true,
      tree: (marker) => ({
        ...appTree(),
        '.gitmodules': `[submodule "sub"]\n\tpath = sub\n\turl = --upload-pack=touch '${marker}'\n`,
        sub: { gitlink: SUBMODULE_COMMIT },
      }),
    },
    {
      name: 'gitmodules-path-option',
      strippedOnImport: ['.gitmodules'],
      description: 'a submodule whose path starts with -',
      refused: true,
      tree: (marker) => ({
        ...appTree(),
        '.gitmodules': `[submodule "sub"]\n\tpath = -c core.sshCommand=touch '${marker}'\n\turl = https://example.test/x.git\n`,
        sub: { gitlink: SUBMODULE_COMMIT },
      }),
    },
    {
      name: 'repository-lookalike',
      description:
        'config, HEAD and hooks committed at the root, the shape of a bare repository, as plain files',
      refused: false,
      tree: (marker) => ({
        ...appTree(),
        HEAD: 'ref: refs/heads/main\n',
        config: markerConfig(marker),
        hooks: hooks(marker),
        refs: { heads: { '.keep': '' } },
        objects: { '.keep': '' },
      }),
    },
  ];
}

/** The regular files of a tree spec by path (executables included, gitlinks left out). */
export function filesOf(spec: TreeSpec, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec)) {
    const path = `${prefix}${name}`;
    if (typeof value === 'string') out[path] = value;
    else if ('exec' in value && typeof value.exec === 'string') out[path] = value.exec;
    else if ('gitlink' in value && typeof value.gitlink === 'string') continue;
    else Object.assign(out, filesOf(value as TreeSpec, `${path}/`));
  }
  return out;
}

/** Writes the tree's objects into a bare repository and answers the tree id. */
export function writeTree(gitDir: string, spec: TreeSpec): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(spec)) {
    if (typeof value === 'string' || ('exec' in value && typeof value.exec === 'string')) {
      const content = typeof value === 'string' ? value : (value.exec as string);
      const blob = git(gitDir, ['hash-object', '-w', '--stdin'], content);
      lines.push(`${typeof value === 'string' ? '100644' : '100755'} blob ${blob}\t${name}`);
    } else if ('gitlink' in value && typeof value.gitlink === 'string') {
      lines.push(`160000 commit ${value.gitlink}\t${name}`);
    } else {
      lines.push(`040000 tree ${writeTree(gitDir, value as TreeSpec)}\t${name}`);
    }
  }
  return git(gitDir, ['mktree', '--missing'], `${lines.join('\n')}\n`);
}

/**
 * Commits the tree on top of `parent` (or as a root), moves `main` to it and, when asked, points
 * an annotated version tag at it (replacing the tag, as someone with push access could).
 * Answers the commit id.
 */
export function plantCommit(
  gitDir: string,
  spec: TreeSpec,
  options: { parent?: string | null; tag?: string } = {},
): string {
  const tree = writeTree(gitDir, spec);
  const parent = options.parent ? ['-p', options.parent] : [];
  const commit = git(gitDir, ['commit-tree', ...parent, '-m', 'hostile', tree]);
  git(gitDir, ['update-ref', 'refs/heads/main', commit]);
  if (options.tag) git(gitDir, ['tag', '-f', '-a', options.tag, '-m', options.tag, commit]);
  return commit;
}

/** The commit `main` points at in a bare repository. */
export function mainOf(gitDir: string): string {
  return git(gitDir, ['rev-parse', 'refs/heads/main']);
}

/** Every object id a repository's refs point at. */
export function refTargets(gitDir: string): string[] {
  return git(gitDir, ['for-each-ref', '--format=%(objectname) %(*objectname)'])
    .split(/\s+/)
    .filter(Boolean);
}

/** True when the repository holds the object. */
export function hasObject(gitDir: string, id: string): boolean {
  try {
    git(gitDir, ['cat-file', '-e', id]);
    return true;
  } catch {
    return false;
  }
}

/**
 * A tree spec with a valid GitHub-catalog manifest at the root: its source hash covers the
 * regular files the app-bundle filter keeps, as a gateway that published the version computes it.
 */
export function withCatalogManifest(spec: TreeSpec, repo: string): TreeSpec {
  const kept = Object.entries(filesOf(spec)).filter(([path]) => isKeptByBundleFilter(path));
  return { ...spec, 'second-app.json': manifestFor(repo, Object.fromEntries(kept)) };
}
