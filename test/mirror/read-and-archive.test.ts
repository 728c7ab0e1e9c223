import { openMirror, type AppMirror } from '../../mirror/index.js';
import {
  CREATED_AT,
  fileSet,
  git,
  manifestOf,
  readTar,
  tempDir,
  type FileSet,
} from './mirror-fixtures.js';

const APP = fileSet({
  'dist/index.html': '<h1>hi</h1>\n',
  'src/a.ts': 'line one\nline two\n',
  'src/version.txt': 'commit $Format:%H$\n',
  'src/ignored.txt': 'must come back too\n',
  '.gitattributes': '* text eol=crlf\nsrc/ignored.txt export-ignore\n*.txt export-subst\n',
  'bin/tool*': '#!/bin/sh\n',
  'assets/blob.bin': Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256)),
});

describe('reading a version from the mirror', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let mirror: AppMirror;
  let commitSha: string;

  const write = (set: FileSet, version: number, parent: string | null) =>
    mirror.writeVersion({
      files: set.files,
      readBlob: set.readBlob,
      manifest: manifestOf(set, version),
      summary: `v${version}`,
      createdAt: CREATED_AT,
      version,
      parent,
    });

  beforeAll(async () => {
    dir = await tempDir('mirror-read-');
    mirror = openMirror({ dataDir: dir.path, workspaceId: 'ws1', appId: 'app1' });
    commitSha = (await write(APP, 1, null)).commitSha;
  });
  afterAll(() => dir.remove());

  it('lists files with mode, size and the sha256 of their content', async () => {
    const entries = await mirror.listFiles('second-app-v1', { sha256: true });
    const byPath = new Map(entries.map((e) => [e.path, e]));

    for (const file of APP.files) {
      expect(byPath.get(file.path)).toMatchObject({
        size: file.size,
        sha256: file.sha256,
        mode: file.executable ? '100755' : '100644',
      });
    }
    expect(byPath.has('second-app.json')).toBe(true);
    expect(entries).toHaveLength(APP.files.length + 1);
  });

  it('archives the exact committed bytes, whatever the in-tree .gitattributes say', async () => {
    const files = await readTar(await mirror.archive('second-app-v1'));

    expect([...files.keys()].sort()).toEqual([...APP.contents.keys()].sort());
    for (const [path, content] of APP.contents) expect(files.get(path)).toEqual(content);
  });

  it('includes the manifest only when asked', async () => {
    const files = await readTar(await mirror.archive('second-app-v1', { includeManifest: true }));
    expect(files.get('second-app.json')).toEqual(manifestOf(APP, 1));
  });

  it('answers an empty tar for a version holding only the manifest', async () => {
    const other = openMirror({ dataDir: dir.path, workspaceId: 'ws1', appId: 'empty' });
    const empty = fileSet({});
    await other.writeVersion({
      files: empty.files,
      readBlob: empty.readBlob,
      manifest: manifestOf(empty, 1),
      summary: 'empty',
      createdAt: CREATED_AT,
      version: 1,
      parent: null,
    });
    expect((await readTar(await other.archive('second-app-v1'))).size).toBe(0);
    expect([
      ...(await readTar(await other.archive('main', { includeManifest: true }))).keys(),
    ]).toEqual(['second-app.json']);
  });

  it('reads single files, tags and revisions', async () => {
    expect(await mirror.readFile('main', 'src/a.ts')).toEqual(Buffer.from('line one\nline two\n'));
    expect(await mirror.readFile('main', 'src/none.ts')).toBeNull();
    expect(await mirror.readFile('second-app-v9', 'src/a.ts')).toBeNull();
    await expect(mirror.readFile('main', '../etc/passwd')).rejects.toMatchObject({
      code: 'unsafe_path',
    });

    expect(await mirror.resolve('main')).toBe(commitSha);
    expect(await mirror.resolve('second-app-v1')).toBe(commitSha);
    expect(await mirror.resolve('second-app-v2')).toBeNull();
    expect(await mirror.hasTag('second-app-v1')).toBe(true);
    expect(await mirror.hasTag('second-app-v2')).toBe(false);
    expect(await mirror.listTags()).toEqual([
      {
        name: 'second-app-v1',
        version: 1,
        commitSha,
        tagSha: await git(mirror.gitDir, ['rev-parse', 'second-app-v1']),
      },
    ]);
  });

  it('refuses revisions that git could read as options or ranges', async () => {
    for (const rev of ['--output=/tmp/x', 'main..second-app-v1', 'main@{1}', 'HEAD:src', '']) {
      await expect(mirror.resolve(rev)).rejects.toMatchObject({ code: 'invalid_request' });
    }
    await expect(mirror.archive('second-app-v7')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('archive of a tree the gateway did not write', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let mirror: AppMirror;

  beforeEach(async () => {
    dir = await tempDir('mirror-hostile-');
    mirror = openMirror({ dataDir: dir.path, workspaceId: 'ws1', appId: 'app1' });
    const set = fileSet({ 'dist/index.html': 'x' });
    await mirror.writeVersion({
      files: set.files,
      readBlob: set.readBlob,
      manifest: manifestOf(set, 1),
      summary: 'v1',
      createdAt: CREATED_AT,
      version: 1,
      parent: null,
    });
  });
  afterEach(() => dir.remove());

  // Plumbing writes what fsck would refuse on a fetch; here it stands for any route by which
  // such a tree could reach the mirror.
  const craftCommit = async (lines: string) => {
    const tree = await git(mirror.gitDir, ['mktree'], lines);
    return git(mirror.gitDir, [
      '-c',
      'user.name=x',
      '-c',
      'user.email=x@x',
      'commit-tree',
      '-m',
      'hostile',
      tree,
    ]);
  };

  it.each([
    ['a .git entry', '.git', 'unsafe_path'],
    ['a .GIT entry', '.GIT', 'unsafe_path'],
    ['a .. entry', '..', 'unsafe_path'],
  ])('refuses %s', async (_label, name, code) => {
    const blob = await git(mirror.gitDir, ['hash-object', '-w', '--stdin'], 'payload\n');
    const commit = await craftCommit(`100644 blob ${blob}\t${name}\n100644 blob ${blob}\tok.txt\n`);
    await expect(mirror.archive(commit)).rejects.toMatchObject({ code });
  });

  it('refuses a symlink', async () => {
    const target = await git(mirror.gitDir, ['hash-object', '-w', '--stdin'], '/etc/passwd');
    const commit = await craftCommit(`120000 blob ${target}\tlink\n`);
    await expect(mirror.archive(commit)).rejects.toMatchObject({ code: 'unsupported_entry' });
  });
});
