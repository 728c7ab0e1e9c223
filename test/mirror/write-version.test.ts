import { utimes, writeFile, readdir, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { observeGitSpawns, openMirror, type AppMirror } from '../../mirror/index.js';
import { CREATED_AT, fileSet, fsckStrict, git, manifestOf, tempDir } from './mirror-fixtures.js';

const APP = fileSet({
  'dist/index.html': '<!doctype html><title>x</title>\n',
  'src/app.ts': 'export const answer = 42;\n',
  'bin/run.sh*': '#!/bin/sh\necho run\n',
  'assets/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]),
  '"quoted" name.txt': 'a path that starts with a quote\n',
  'src/copy-of-app.ts': 'export const answer = 42;\n',
});

describe('writeVersion', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let mirror: AppMirror;

  beforeEach(async () => {
    dir = await tempDir('mirror-write-');
    mirror = openMirror({ dataDir: dir.path, workspaceId: 'ws1', appId: 'app1' });
  });
  afterEach(() => dir.remove());

  const write = (version: number, parent: string | null, summary = 'First version', set = APP) =>
    mirror.writeVersion({
      files: set.files,
      readBlob: set.readBlob,
      manifest: manifestOf(set, version),
      summary,
      createdAt: CREATED_AT,
      version,
      parent,
    });

  it('creates the bare mirror at the contract path with main and an annotated tag on one commit', async () => {
    expect(await mirror.exists()).toBe(false);
    const result = await write(1, null);

    expect(mirror.gitDir).toBe(join(dir.path, 'mirrors', 'ws1', 'app1.git'));
    expect(result).toMatchObject({ tag: 'second-app-v1', created: true });
    expect(await git(mirror.gitDir, ['rev-parse', 'main'])).toBe(result.commitSha);
    expect(await git(mirror.gitDir, ['cat-file', '-t', 'second-app-v1'])).toBe('tag');
    expect(await git(mirror.gitDir, ['rev-parse', 'second-app-v1^{commit}'])).toBe(
      result.commitSha,
    );
    expect(await git(mirror.gitDir, ['for-each-ref', '--format=%(refname)'])).toBe(
      'refs/heads/main\nrefs/tags/second-app-v1',
    );

    const tree = await git(mirror.gitDir, ['ls-tree', '-r', '--name-only', '-z', 'main']);
    expect(tree.split('\0').filter(Boolean).sort()).toEqual(
      [...APP.files.map((f) => f.path), 'second-app.json'].sort(),
    );
    expect(await git(mirror.gitDir, ['ls-tree', 'main', 'bin/run.sh'])).toMatch(/^100755 /);
    expect(await git(mirror.gitDir, ['show', 'main:second-app.json'])).toBe(
      manifestOf(APP, 1).toString().trim(),
    );
    for (const [path, content] of APP.contents) {
      expect(await mirror.readFile('second-app-v1', path)).toEqual(content);
    }

    const commit = await git(mirror.gitDir, ['cat-file', '-p', 'main']);
    expect(commit).toContain('author Second <second@localhost> 1772359200 +0000');
    expect(commit).toContain('committer Second <second@localhost> 1772359200 +0000');
    await fsckStrict(mirror.gitDir);
  });

  it('makes the same commit and tag SHA for the same snapshot on the same parent', async () => {
    const first = await write(1, null);
    const other = openMirror({ dataDir: dir.path, workspaceId: 'ws1', appId: 'app2' });
    const second = await other.writeVersion({
      files: [...APP.files].reverse(),
      readBlob: APP.readBlob,
      manifest: manifestOf(APP, 1),
      summary: 'First version',
      createdAt: CREATED_AT,
      version: 1,
      parent: null,
    });

    expect(second.commitSha).toBe(first.commitSha);
    expect(await git(other.gitDir, ['rev-parse', 'second-app-v1'])).toBe(
      await git(mirror.gitDir, ['rev-parse', 'second-app-v1']),
    );
  });

  it('is idempotent: writing the same version again creates nothing', async () => {
    const first = await write(1, null);
    const objectsBefore = await git(mirror.gitDir, ['count-objects', '-v']);
    const packsBefore = await readdir(join(mirror.gitDir, 'objects', 'pack'));

    const again = await write(1, null);

    expect(again).toEqual({ ...first, created: false });
    expect(await git(mirror.gitDir, ['count-objects', '-v'])).toBe(objectsBefore);
    expect(await readdir(join(mirror.gitDir, 'objects', 'pack'))).toEqual(packsBefore);
    expect(await git(mirror.gitDir, ['rev-list', '--count', 'main'])).toBe('1');
  });

  it('starts the same number of git processes for 3 files as for 600', async () => {
    const countFor = async (appId: string, files: number) => {
      const entries: Record<string, string> = {};
      for (let n = 0; n < files; n += 1)
        entries[`src/d${n % 7}/f${n}.ts`] = `export const n = ${n};\n`;
      const set = fileSet(entries);
      const target = openMirror({ dataDir: dir.path, workspaceId: 'ws1', appId });
      let spawns = 0;
      const stop = observeGitSpawns(() => (spawns += 1));
      try {
        await target.writeVersion({
          files: set.files,
          readBlob: set.readBlob,
          manifest: manifestOf(set, 1),
          summary: 'count',
          createdAt: CREATED_AT,
          version: 1,
          parent: null,
        });
      } finally {
        stop();
      }
      return spawns;
    };

    const small = await countFor('small', 3);
    expect(await countFor('large', 600)).toBe(small);
    expect(small).toBeLessThanOrEqual(5);
  });

  it('refuses stored content that does not match its sha256, writing no refs', async () => {
    const corrupt = { ...APP, readBlob: async () => Buffer.from('not what was hashed') };
    await expect(write(1, null, 'x', corrupt)).rejects.toMatchObject({ code: 'hash_mismatch' });
    expect(await mirror.resolve('main')).toBeNull();
    expect(await mirror.listTags()).toEqual([]);
  });

  describe('a version large enough to be written by two fast-imports', () => {
    // 24 files of 1 MiB: past the size from which a second fast-import takes half the blobs.
    const big = (seed: number) =>
      fileSet(
        Object.fromEntries(
          Array.from({ length: 24 }, (_, n) => [
            `assets/f${n}.bin`,
            Buffer.alloc(1024 * 1024, `${seed}:${n};`),
          ]),
        ),
      );

    it('makes the tree git itself makes of the same files, and passes fsck', async () => {
      const set = big(1);
      const result = await write(1, null, 'Large', set);
      await fsckStrict(mirror.gitDir);

      // The tree as `git add` of a work tree would write it, built by git's own plumbing.
      const other = await tempDir('mirror-write-check-');
      try {
        const repo = join(other.path, 'check.git');
        await git(null, ['init', '--quiet', '--bare', repo]);
        const entries: string[] = [];
        for (const [path, content] of [
          ...set.contents,
          ['second-app.json', manifestOf(set, 1)] as const,
        ]) {
          const blob = join(other.path, 'blob');
          await writeFile(blob, content);
          const oid = await git(repo, ['hash-object', '-w', blob]);
          entries.push(`100644 blob ${oid}\t${path}`);
        }
        const assets = entries.filter((line) => line.includes('\tassets/'));
        const assetsTree = await git(
          repo,
          ['mktree'],
          assets.map((line) => line.replace('\tassets/', '\t')).join('\n'),
        );
        const manifestLine = entries.find((line) => line.endsWith('\tsecond-app.json'))!;
        const root = await git(
          repo,
          ['mktree'],
          [`040000 tree ${assetsTree}\tassets`, manifestLine].join('\n'),
        );
        expect(await git(mirror.gitDir, ['rev-parse', `${result.commitSha}^{tree}`])).toBe(root);
      } finally {
        await other.remove();
      }
    });

    it('refuses corrupt content in either half, writing no refs', async () => {
      const set = big(2);
      for (const index of [0, 1, 23]) {
        const wrong = set.files[index]!.sha256;
        const corrupt = {
          ...set,
          readBlob: async (sha256: string) =>
            sha256 === wrong ? Buffer.from('not what was hashed') : set.readBlob(sha256),
        };
        await expect(write(1, null, 'x', corrupt)).rejects.toMatchObject({
          code: 'hash_mismatch',
        });
        expect(await mirror.resolve('main')).toBeNull();
        expect(await mirror.listTags()).toEqual([]);
      }
    });
  });

  it('keeps a clean repository through maintenance', async () => {
    let parent: string | null = null;
    for (let version = 1; version <= 3; version += 1) {
      const set = fileSet({ 'dist/index.html': `v${version}` });
      parent = (await write(version, parent, `v${version}`, set)).commitSha;
    }
    await mirror.maintain();
    await fsckStrict(mirror.gitDir);
    expect(await git(mirror.gitDir, ['rev-list', '--count', 'main'])).toBe('3');
  });

  it('refuses a version whose tag already names another commit', async () => {
    const first = await write(1, null);
    await expect(write(1, null, 'Something else')).rejects.toMatchObject({
      name: 'TagTakenError',
      code: 'remote_diverged',
      existingCommit: first.commitSha,
    });
    expect(await git(mirror.gitDir, ['rev-parse', 'main'])).toBe(first.commitSha);
  });

  it('chains versions on their parent and keeps the tag message sanitized and capped', async () => {
    const first = await write(1, null);
    const next = fileSet({
      ...Object.fromEntries(APP.contents),
      'src/app.ts': 'export const answer = 43;\n',
    });
    const hostileSummary = `Second\u0007 version\r\n\twith a tab\u001b[31m\n${'x'.repeat(20_000)}`;
    const second = await write(2, first.commitSha, hostileSummary, next);

    expect(await git(mirror.gitDir, ['rev-parse', `${second.commitSha}^`])).toBe(first.commitSha);
    const tagBody = await git(mirror.gitDir, ['cat-file', 'tag', 'second-app-v2']);
    const message = tagBody.slice(tagBody.indexOf('\n\n') + 2);
    expect(message.startsWith('Second version\n\twith a tab[31m\nxxx')).toBe(true);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(16 * 1024);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    expect(message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    await fsckStrict(mirror.gitDir);
  });

  it.each([
    ['.git/config'],
    ['src/.GIT/hooks/x'],
    ['.git./x'],
    ['.git /x'],
    ['GIT~1/x'],
    ['.g\u200cit/x'],
    ['../escape.txt'],
    ['a/../b.txt'],
    ['./a.txt'],
    ['/etc/passwd'],
    ['a\\b.txt'],
    ['a//b.txt'],
    ['bad\u0001name.txt'],
    ['new\nline.txt'],
  ])('refuses the path %j and writes nothing', async (path) => {
    const hostile = fileSet({ 'dist/index.html': 'ok', [path]: 'x' });
    await expect(write(1, null, 'x', hostile)).rejects.toMatchObject({ code: 'unsafe_path' });
    expect(await mirror.exists()).toBe(false);
  });

  it('refuses twin paths and a path that is both a file and a folder', async () => {
    const twin = fileSet({ 'a.txt': 'x' });
    twin.files.push({ ...twin.files[0] });
    await expect(write(1, null, 'x', twin)).rejects.toMatchObject({ code: 'unsafe_path' });
    await expect(write(1, null, 'x', fileSet({ a: 'x', 'a/b': 'y' }))).rejects.toMatchObject({
      code: 'unsafe_path',
    });
    expect(await mirror.exists()).toBe(false);
  });

  it('fails clearly on a fresh lock and removes a stale one before writing', async () => {
    const first = await write(1, null);
    const lock = join(mirror.gitDir, 'refs', 'heads', 'main.lock');
    await mkdir(join(mirror.gitDir, 'refs', 'heads'), { recursive: true });
    await writeFile(lock, '');
    const next = fileSet({ 'dist/index.html': 'two' });
    const second = () =>
      mirror.writeVersion({
        files: next.files,
        readBlob: next.readBlob,
        manifest: manifestOf(next, 2),
        summary: 'two',
        createdAt: CREATED_AT,
        version: 2,
        parent: first.commitSha,
      });

    await expect(second()).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringMatching(/locked/),
    });
    expect(await git(mirror.gitDir, ['rev-parse', 'main'])).toBe(first.commitSha);
    expect(await mirror.hasTag('second-app-v2')).toBe(false);

    const old = new Date(Date.now() - 11 * 60 * 1000);
    await utimes(lock, old, old);
    const result = await second();
    expect(result.created).toBe(true);
    expect(await git(mirror.gitDir, ['rev-parse', 'main'])).toBe(result.commitSha);
  });

  it('refuses ids that are not safe path segments', () => {
    expect(() => openMirror({ dataDir: dir.path, workspaceId: '..', appId: 'a' })).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
    expect(() => openMirror({ dataDir: dir.path, workspaceId: 'ws', appId: 'a/../../b' })).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
  });

  it('writes a manifest-only commit on main without a tag', async () => {
    const first = await write(1, null);
    const shared = manifestOf(APP, 1, true);
    const result = await mirror.writeManifestCommit({
      manifest: shared,
      createdAt: CREATED_AT,
      parent: first.commitSha,
    });

    expect(result.created).toBe(true);
    expect(await git(mirror.gitDir, ['rev-parse', 'main^'])).toBe(first.commitSha);
    expect(await git(mirror.gitDir, ['diff', '--name-only', first.commitSha, 'main'])).toBe(
      'second-app.json',
    );
    expect((await mirror.listTags()).map((t) => t.name)).toEqual(['second-app-v1']);
    expect(await mirror.readFile('main', 'second-app.json')).toEqual(shared);

    const again = await mirror.writeManifestCommit({
      manifest: shared,
      createdAt: CREATED_AT,
      parent: first.commitSha,
    });
    expect(again).toEqual({ commitSha: result.commitSha, created: false });
    await fsckStrict(mirror.gitDir);
  });
});
