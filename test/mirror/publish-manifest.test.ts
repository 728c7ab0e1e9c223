import type { AppMirror, PublishVersionInput } from '../../mirror/index.js';
import type { GitServer } from '../support/git-server.js';
import { CREATED_AT, fileSet, fsckStrict, git, manifestOf } from './mirror-fixtures.js';
import {
  openMirrorWithRemote,
  pushOutsideCommit,
  remoteOf,
  type MirrorWithRemote,
} from './remote-fixtures.js';

const V1 = fileSet({ 'dist/index.html': '<h1>one</h1>\n', 'src/main.ts': 'console.log(1);\n' });
const SHARED_AT = '2026-03-02T09:00:00.000Z';

describe('publishManifest (sharing) against a real git server', () => {
  let world: MirrorWithRemote;
  let server: GitServer;
  let mirror: AppMirror;
  let remotePath: string;

  beforeEach(async () => {
    world = await openMirrorWithRemote('mirror-share-');
    ({ server, mirror, remotePath } = world);
  });
  afterEach(() => world.close());

  const publishV1 = () => {
    const input: PublishVersionInput = {
      files: V1.files,
      readBlob: V1.readBlob,
      manifestFor: (n) => manifestOf(V1, n),
      summary: 'Build 1',
      createdAt: CREATED_AT,
      version: 1,
      remote: remoteOf(server, 'console'),
      timeoutMs: 10_000,
    };
    return mirror.publishVersion(input);
  };
  const share = () =>
    mirror.publishManifest({
      manifest: manifestOf(V1, 1, true),
      createdAt: SHARED_AT,
      remote: remoteOf(server, 'console'),
      timeoutMs: 10_000,
    });
  const remoteManifest = async () =>
    JSON.parse(await git(remotePath, ['show', 'main:second-app.json'])) as {
      sourceControl: { availableInCatalog: boolean };
    };

  it('commits the manifest on our main when the remote has not moved', async () => {
    const v1 = await publishV1();

    const shared = await share();

    expect(shared.outsideCommits).toBe(false);
    expect(await git(remotePath, ['rev-parse', 'main'])).toBe(shared.commitSha);
    expect(await git(remotePath, ['rev-parse', 'main^'])).toBe(v1.commitSha);
    expect((await remoteManifest()).sourceControl.availableInCatalog).toBe(true);
    // Sharing again with the same manifest makes nothing new.
    expect(await share()).toEqual(shared);
  });

  it('goes on top of a remote main that moved: the outside commit and its file stay', async () => {
    const v1 = await publishV1();
    const outside = await pushOutsideCommit(server, 'console', 'NOTES.md');

    const shared = await share();

    expect(shared.outsideCommits).toBe(true);
    expect(await git(remotePath, ['rev-list', 'main'])).toBe(
      [shared.commitSha, outside, v1.commitSha].join('\n'),
    );
    expect(await git(remotePath, ['show', 'main:NOTES.md'])).toBe('written by a person');
    expect((await remoteManifest()).sourceControl.availableInCatalog).toBe(true);
    expect(await mirror.resolve('main')).toBe(shared.commitSha);
    // The version's tag never moves.
    expect(await git(remotePath, ['rev-parse', 'second-app-v1^{commit}'])).toBe(v1.commitSha);
    await fsckStrict(remotePath);
    await fsckStrict(mirror.gitDir);
  });

  it('refuses a remote whose history was rewritten, and pushes nothing', async () => {
    await publishV1();
    const tree = await git(remotePath, ['rev-parse', 'main^{tree}']);
    const rewritten = await git(remotePath, [
      '-c',
      'user.name=Person',
      '-c',
      'user.email=p@example.com',
      'commit-tree',
      tree,
      '-m',
      'history rewritten',
    ]);
    await git(remotePath, ['update-ref', 'refs/heads/main', rewritten]);
    const localMain = await mirror.resolve('main');

    await expect(share()).rejects.toMatchObject({ code: 'remote_diverged' });

    expect(await git(remotePath, ['rev-parse', 'main'])).toBe(rewritten);
    expect(await mirror.resolve('main')).toBe(localMain);
  });
});
