import { rm } from 'node:fs/promises';
import type { AppMirror, PublishVersionInput } from '../../mirror/index.js';
import { writeCommitObjects } from '../../mirror/fast-import-commit.js';
import type { GitServer } from '../support/git-server.js';
import {
  CREATED_AT,
  fileSet,
  fsckStrict,
  git,
  manifestOf,
  type FileSet,
} from './mirror-fixtures.js';
import {
  openMirrorWithRemote,
  pushOutsideCommit,
  remoteOf,
  type MirrorWithRemote,
} from './remote-fixtures.js';

const V1 = fileSet({ 'dist/index.html': '<h1>one</h1>\n', 'src/main.ts': 'console.log(1);\n' });
const V2 = fileSet({ 'dist/index.html': '<h1>two</h1>\n', 'src/main.ts': 'console.log(2);\n' });
const V3 = fileSet({ 'dist/index.html': '<h1>three</h1>\n', 'src/main.ts': 'console.log(3);\n' });

describe('publishVersion against a real git server', () => {
  let world: MirrorWithRemote;
  let server: GitServer;
  let mirror: AppMirror;
  let remotePath: string;

  beforeEach(async () => {
    world = await openMirrorWithRemote('mirror-publish-');
    ({ server, mirror, remotePath } = world);
  });
  afterEach(() => world.close());

  const input = (
    set: FileSet,
    version: number,
    extra: Partial<PublishVersionInput> = {},
  ): PublishVersionInput => ({
    files: set.files,
    readBlob: set.readBlob,
    manifestFor: (n) => manifestOf(set, n),
    summary: `Build ${version}`,
    createdAt: CREATED_AT,
    version,
    remote: remoteOf(server, 'console'),
    timeoutMs: 10_000,
    ...extra,
  });

  const remoteTags = async () =>
    (await git(remotePath, ['tag', '--list'])).split('\n').filter(Boolean);

  it('writes, records and pushes branch and tag together', async () => {
    const recorded: unknown[] = [];
    const result = await mirror.publishVersion(
      input(V1, 1, { onWritten: async (w) => void recorded.push(w) }),
    );

    expect(result).toMatchObject({
      version: 1,
      tag: 'second-app-v1',
      created: true,
      pushed: true,
      outsideCommits: false,
    });
    expect(recorded).toEqual([{ ...result, pushed: false }]);
    expect(await git(remotePath, ['rev-parse', 'main'])).toBe(result.commitSha);
    expect(await git(remotePath, ['rev-parse', 'second-app-v1'])).toBe(
      await git(mirror.gitDir, ['rev-parse', 'second-app-v1']),
    );
    expect(await git(remotePath, ['cat-file', '-t', 'second-app-v1'])).toBe('tag');

    const second = await mirror.publishVersion(input(V2, 2));
    expect(await git(remotePath, ['rev-parse', 'main^'])).toBe(result.commitSha);
    expect(await git(remotePath, ['rev-parse', 'main'])).toBe(second.commitSha);
    expect(await remoteTags()).toEqual(['second-app-v1', 'second-app-v2']);
    await fsckStrict(remotePath);
    await fsckStrict(mirror.gitDir);
  });

  it('fetches the remote into its own namespace without touching local refs', async () => {
    await mirror.publishVersion(input(V1, 1));
    const outside = await pushOutsideCommit(server, 'console', 'NOTES.md');
    const localMain = await mirror.resolve('main');

    const state = await mirror.fetchRemote({
      remote: remoteOf(server, 'console'),
      timeoutMs: 10_000,
    });

    expect(state.main).toBe(outside);
    expect(state.tags.map((t) => t.name)).toEqual(['second-app-v1']);
    expect(await mirror.resolve('main')).toBe(localMain);
    expect(await git(mirror.gitDir, ['rev-parse', 'refs/remotes/origin/main'])).toBe(outside);
  });

  it('builds on a remote main that moved: the outside commit stays in history', async () => {
    const first = await mirror.publishVersion(input(V1, 1));
    const outside = await pushOutsideCommit(server, 'console', 'NOTES.md');

    const second = await mirror.publishVersion(input(V2, 2));

    expect(second).toMatchObject({ version: 2, outsideCommits: true, pushed: true, created: true });
    expect(await git(mirror.gitDir, ['rev-parse', `${second.commitSha}^`])).toBe(outside);
    expect(await git(remotePath, ['rev-list', 'main'])).toBe(
      [second.commitSha, outside, first.commitSha].join('\n'),
    );
    // The new version's tree is the snapshot: the person's file is in history, not in version 2.
    expect(await mirror.readFile('second-app-v2', 'NOTES.md')).toBeNull();

    const third = await mirror.publishVersion(input(V3, 3));
    expect(third.outsideCommits).toBe(false);
    expect(await git(mirror.gitDir, ['rev-parse', `${third.commitSha}^`])).toBe(second.commitSha);
  });

  it('takes the next number when the remote already has the tag at another commit', async () => {
    const first = await mirror.publishVersion(input(V1, 1));
    // Someone tagged version 2 on the remote, on a commit of their own.
    const outside = await pushOutsideCommit(server, 'console', 'NOTES.md');
    await git(remotePath, [
      '-c',
      'user.name=Person',
      '-c',
      'user.email=p@example.com',
      'tag',
      '-a',
      '-m',
      'not ours',
      'second-app-v2',
      outside,
    ]);

    const result = await mirror.publishVersion(input(V2, 2));

    expect(result).toMatchObject({ version: 3, tag: 'second-app-v3', outsideCommits: true });
    expect(await git(remotePath, ['rev-parse', 'second-app-v2^{commit}'])).toBe(outside);
    expect(await git(remotePath, ['rev-parse', 'second-app-v3^{commit}'])).toBe(result.commitSha);
    expect(await mirror.readFile('second-app-v3', 'second-app.json')).toEqual(manifestOf(V2, 3));
    expect(first.version).toBe(1);
    await fsckStrict(mirror.gitDir);
  });

  describe('converges after a crash at each step', () => {
    const expectConverged = async (version: number, commitSha: string) => {
      expect(await remoteTags()).toEqual(
        Array.from({ length: version }, (_, i) => `second-app-v${i + 1}`),
      );
      expect(await git(remotePath, ['rev-parse', 'main'])).toBe(commitSha);
      expect(await git(remotePath, ['rev-list', '--count', 'main'])).toBe(String(version));
      expect((await mirror.listTags()).map((t) => t.name)).toEqual(await remoteTags());
      await fsckStrict(mirror.gitDir);
      await fsckStrict(remotePath);
    };

    it('objects written, refs not moved', async () => {
      await mirror.publishVersion(input(V1, 1));
      const parent = (await mirror.resolve('main'))!;
      const orphan = await writeCommitObjects({
        gitDir: mirror.gitDir,
        files: V2.files,
        inline: [{ path: 'second-app.json', content: manifestOf(V2, 2) }],
        readBlob: V2.readBlob,
        parent,
        message: 'Build 2\n\nSecond app version 2\n',
        createdAt: CREATED_AT,
        replaceTree: true,
        timeoutMs: 10_000,
      });
      expect(await mirror.resolve('main')).toBe(parent);

      const result = await mirror.publishVersion(input(V2, 2));
      expect(result.commitSha).toBe(orphan);
      await expectConverged(2, result.commitSha);
    });

    it('a blob read fails mid-write (the process dies), then the retry succeeds', async () => {
      await mirror.publishVersion(input(V1, 1));
      let reads = 0;
      const failing = {
        ...V2,
        readBlob: async (sha: string) =>
          ++reads === 2 ? Promise.reject(new Error('disk gone')) : V2.readBlob(sha),
      };
      await expect(mirror.publishVersion(input(failing, 2))).rejects.toThrow('disk gone');
      expect(await mirror.hasTag('second-app-v2')).toBe(false);

      const result = await mirror.publishVersion(input(V2, 2));
      await expectConverged(2, result.commitSha);
    });

    it('refs moved and tag created, never recorded or pushed', async () => {
      await mirror.publishVersion(input(V1, 1));
      const written = await mirror.writeVersion({
        files: V2.files,
        readBlob: V2.readBlob,
        manifest: manifestOf(V2, 2),
        summary: 'Build 2',
        createdAt: CREATED_AT,
        version: 2,
        parent: await mirror.resolve('main'),
      });

      const result = await mirror.publishVersion(input(V2, 2));
      expect(result).toMatchObject({
        version: 2,
        created: false,
        pushed: true,
        commitSha: written.commitSha,
      });
      await expectConverged(2, written.commitSha);
    });

    it('recording failed after the write: the retry adopts the version', async () => {
      const failingRecord = async () => {
        throw new Error('store down');
      };
      await expect(
        mirror.publishVersion(input(V1, 1, { onWritten: failingRecord })),
      ).rejects.toThrow('store down');
      expect(await remoteTags()).toEqual([]);

      const result = await mirror.publishVersion(input(V1, 1));
      expect(result).toMatchObject({ version: 1, created: false, pushed: true });
      await expectConverged(1, result.commitSha);
    });

    it('push interrupted by a server that stops answering', async () => {
      await mirror.publishVersion(input(V1, 1));
      let written: string | null = null;
      const hangBeforePush = async (w: { commitSha: string }) => {
        written = w.commitSha;
        server.setMode('hang');
      };
      await expect(
        mirror.publishVersion(input(V2, 2, { timeoutMs: 1500, onWritten: hangBeforePush })),
      ).rejects.toMatchObject({ code: 'provider_unavailable', providerStatus: 0 });
      server.setMode('ok');

      const result = await mirror.publishVersion(input(V2, 2));
      expect(result.commitSha).toBe(written);
      await expectConverged(2, result.commitSha);
    });

    it('push landed but the answer was lost: the retry pushes nothing new', async () => {
      await mirror.publishVersion(input(V1, 1));
      const pushed = await mirror.publishVersion(input(V2, 2));
      const again = await mirror.publishVersion(input(V2, 2));
      expect(again).toMatchObject({
        version: 2,
        created: false,
        pushed: true,
        commitSha: pushed.commitSha,
      });
      await expectConverged(2, pushed.commitSha);
    });

    it('written locally, remote main moved before the push: the next attempt builds on it', async () => {
      await mirror.publishVersion(input(V1, 1));
      const moveRemote = async () => {
        await pushOutsideCommit(server, 'console', 'NOTES.md');
      };
      await expect(
        mirror.publishVersion(input(V2, 2, { onWritten: moveRemote })),
      ).rejects.toMatchObject({
        code: 'remote_diverged',
      });

      const result = await mirror.publishVersion(input(V2, 2));
      // Version 2 stays a local tag that was never pushed; the source goes out as version 3.
      expect(result).toMatchObject({ version: 3, outsideCommits: true, pushed: true });
      expect(await remoteTags()).toEqual(['second-app-v1', 'second-app-v3']);
      await fsckStrict(remotePath);
    });
  });

  it('rebuilds a missing mirror from the remote, one tag shallowly', async () => {
    await mirror.publishVersion(input(V1, 1));
    await mirror.publishVersion(input(V2, 2));
    const v3 = await mirror.publishVersion(input(V3, 3));
    await rm(mirror.gitDir, { recursive: true, force: true });

    expect(
      await mirror.cloneMissing({
        remote: remoteOf(server, 'console'),
        tag: 'second-app-v2',
        timeoutMs: 10_000,
      }),
    ).toBe(true);

    expect((await mirror.listTags()).map((t) => t.name)).toEqual(['second-app-v2']);
    expect(await git(mirror.gitDir, ['rev-list', '--count', 'second-app-v2'])).toBe('1');
    expect(await git(mirror.gitDir, ['rev-parse', '--is-shallow-repository'])).toBe('true');
    expect(await mirror.readFile('second-app-v2', 'src/main.ts')).toEqual(
      V2.contents.get('src/main.ts'),
    );
    expect(await mirror.resolve('main')).toBeNull();

    // A later publish on the shallow mirror still lands on the remote's history.
    const v4Files = fileSet({ 'dist/index.html': '<h1>four</h1>\n' });
    const v4 = await mirror.publishVersion(input(v4Files, 4));
    expect(v4).toMatchObject({ version: 4, outsideCommits: false, pushed: true });
    expect(await git(remotePath, ['rev-parse', 'main^'])).toBe(v3.commitSha);
  });

  it('rebuilds a whole mirror when no tag is given', async () => {
    await mirror.publishVersion(input(V1, 1));
    const v2 = await mirror.publishVersion(input(V2, 2));
    await rm(mirror.gitDir, { recursive: true, force: true });

    await mirror.cloneMissing({ remote: remoteOf(server, 'console'), timeoutMs: 10_000 });
    expect(await mirror.resolve('main')).toBe(v2.commitSha);
    expect((await mirror.listTags()).map((t) => t.name)).toEqual([
      'second-app-v1',
      'second-app-v2',
    ]);
    expect(
      await mirror.cloneMissing({ remote: remoteOf(server, 'console'), timeoutMs: 10_000 }),
    ).toBe(false);
  });

  it('answers not_found for a tag the remote does not have and leaves no mirror', async () => {
    await expect(
      mirror.cloneMissing({
        remote: remoteOf(server, 'console'),
        tag: 'second-app-v9',
        timeoutMs: 10_000,
      }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(await mirror.exists()).toBe(false);
  });
});
