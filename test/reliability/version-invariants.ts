import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { GatewayClient } from './gateway-client.js';
import { WORKSPACE } from './gateway-client.js';

/** One build as the test uploaded it, in upload order. */
export interface UploadedBuild {
  id: string;
  snapshotHash: string;
}

/** What the store, the mirror and the remote must agree on for one app. */
export interface ExpectedApp {
  appId: string;
  /** The repository path on the git server. */
  remoteGitDir: string;
  dataDir: string;
  /** Every build the gateway answered 201 for, in the order the store took them. */
  builds: readonly UploadedBuild[];
}

/**
 * The versions the builds must have made: a build whose source differs from the last version's
 * makes the next one, an equal source makes none.
 */
export function expectedVersions(builds: readonly UploadedBuild[]): {
  hashes: string[];
  versionOfBuild: Map<string, number>;
} {
  const hashes: string[] = [];
  const versionOfBuild = new Map<string, number>();
  for (const build of builds) {
    if (hashes.at(-1) !== build.snapshotHash) hashes.push(build.snapshotHash);
    versionOfBuild.set(build.id, hashes.length);
  }
  return { hashes, versionOfBuild };
}

/** The bare mirror of an app (DESIGN §6). */
export function mirrorGitDir(dataDir: string, appId: string): string {
  return join(dataDir, 'mirrors', WORKSPACE, `${appId}.git`);
}

/**
 * Every way the gateway's state can disagree with what was uploaded, as readable lines; an
 * empty list means: no build lost, one pushed tag per version in order with no gap, the same
 * refs in mirror and remote, both repositories pass `git fsck --strict`, and the app says synced.
 */
export async function findInconsistencies(
  client: GatewayClient,
  expected: ExpectedApp,
): Promise<string[]> {
  const problems: string[] = [];
  const { hashes, versionOfBuild } = expectedVersions(expected.builds);
  const n = hashes.length;

  const builds = new Map((await client.builds(expected.appId)).map((b) => [b.id, b]));
  for (const uploaded of expected.builds) {
    const stored = builds.get(uploaded.id);
    if (!stored) {
      problems.push(`build ${uploaded.id} is missing from GET builds`);
      continue;
    }
    if (stored.snapshotHash !== uploaded.snapshotHash)
      problems.push(`build ${uploaded.id} has snapshot ${stored.snapshotHash}`);
    if (stored.sync.status !== 'synced' || stored.sync.version !== versionOfBuild.get(uploaded.id))
      problems.push(
        `build ${uploaded.id} sync is ${stored.sync.status} v${stored.sync.version}, expected synced v${versionOfBuild.get(uploaded.id)}`,
      );
  }
  if (builds.size !== expected.builds.length)
    problems.push(
      `GET builds lists ${builds.size} builds, ${expected.builds.length} were uploaded`,
    );

  const remote = readTags(expected.remoteGitDir);
  const mirror = readTags(mirrorGitDir(expected.dataDir, expected.appId));
  const wantTags = hashes.map((_, i) => `second-app-v${i + 1}`);
  if (remote.tags.map((t) => t.name).join(' ') !== wantTags.join(' '))
    problems.push(
      `remote tags are [${remote.tags.map((t) => t.name).join(' ')}], expected v1..v${n}`,
    );
  if (JSON.stringify(mirror) !== JSON.stringify(remote))
    problems.push('the mirror and the remote have different tags or main');

  remote.tags.forEach((tag, i) => {
    if (tag.type !== 'tag') problems.push(`${tag.name} is not an annotated tag`);
    const manifest = JSON.parse(
      git(expected.remoteGitDir, ['show', `${tag.name}:second-app.json`]).stdout,
    ) as { source: { hash: string }; sourceControl: { version: number } };
    if (manifest.source.hash !== hashes[i] || manifest.sourceControl.version !== i + 1)
      problems.push(
        `${tag.name} holds source ${manifest.source.hash} as v${manifest.sourceControl.version}`,
      );
  });

  // One commit per version on one line of history: no commit written twice, none lost.
  const history = git(expected.remoteGitDir, ['rev-list', '--first-parent', 'main'], true)
    .stdout.split('\n')
    .filter(Boolean)
    .reverse();
  const tagged = remote.tags.map((t) => t.commit);
  if (history.join(' ') !== tagged.join(' '))
    problems.push(
      `remote main has ${history.length} commits, not exactly the ${n} tagged ones in order`,
    );

  const versions = (await client.versions(expected.appId)).slice().reverse();
  if (versions.length !== n) problems.push(`GET versions lists ${versions.length}, expected ${n}`);
  versions.forEach((v, i) => {
    if (v.version !== i + 1 || v.sourceHash !== hashes[i] || !v.pushed || v.commitSha !== tagged[i])
      problems.push(`version record ${JSON.stringify(v)} does not match v${i + 1} on the remote`);
  });

  const app = await client.app(expected.appId);
  const sc = app.sourceControl;
  if (sc.status !== 'synced' || !sc.pushed || sc.version !== n || sc.sourceHash !== hashes.at(-1))
    problems.push(`app source control is ${JSON.stringify(sc)}, expected synced and pushed v${n}`);

  for (const [name, dir] of [
    ['remote', expected.remoteGitDir],
    ['mirror', mirrorGitDir(expected.dataDir, expected.appId)],
  ]) {
    const fsck = git(dir!, ['fsck', '--strict', '--no-progress'], true);
    if (fsck.status !== 0) problems.push(`git fsck --strict of the ${name} failed: ${fsck.stderr}`);
  }
  return problems;
}

interface TagRef {
  name: string;
  type: string;
  commit: string;
}

function readTags(gitDir: string): { main: string; tags: TagRef[] } {
  const lines = git(gitDir, [
    'for-each-ref',
    '--sort=version:refname',
    '--format=%(refname:short) %(objecttype) %(*objectname)',
    'refs/tags',
  ]).stdout;
  const tags = lines
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, type, commit] = line.split(' ') as [string, string, string];
      return { name, type, commit };
    });
  const main = git(gitDir, ['rev-parse', '--verify', '--quiet', 'refs/heads/main'], true).stdout;
  return { main: main.trim(), tags };
}

/** Runs git on a bare repository with no user or system config; throws unless `tolerate`. */
export function git(
  gitDir: string,
  args: string[],
  tolerate = false,
): { status: number; stdout: string; stderr: string } {
  const result = spawnSync('git', [`--git-dir=${gitDir}`, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  const out = { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  if (out.status !== 0 && !tolerate)
    throw new Error(`git ${args.join(' ')} in ${gitDir} failed: ${out.stderr}`);
  return out;
}
