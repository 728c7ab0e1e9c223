import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../../core/errors.js';
import { newId } from '../../../core/ids.js';
import { BLOB_CHUNK_BYTES } from '../../../adapters/store/blob-chunks.js';
import type { Store, WorkspaceReader, WorkspaceStore } from '../../../adapters/store/store-port.js';
import {
  appRecord,
  at,
  auditRecord,
  buildWrite,
  installedFromRecord,
  jobRecord,
  settingsRecord,
  sha256Of,
  snapshotRecord,
  versionRecord,
} from './store-fixtures.js';

/** What the contract suite needs from an adapter's test file. */
export interface StoreHarness {
  /** A store on fresh, empty storage. */
  open(): Promise<Store>;
  /** How many chunk rows or documents hold this blob, read from the storage itself. */
  storedChunkCount(store: Store, workspaceId: string, sha256: string): Promise<number>;
  /** Closes every store this harness opened and removes their storage. */
  dispose(): Promise<void>;
}

const WRITER_METHODS = [
  'createApp',
  'patchApp',
  'putBlob',
  'putSnapshot',
  'saveBuild',
  'updateBuildSync',
  'insertVersion',
  'markVersionPushed',
  'putSettings',
  'deleteSettings',
  'putJob',
  'appendAudit',
  'putSecret',
  'deleteSecret',
  'acquireLease',
  'releaseLease',
] as const satisfies readonly Exclude<keyof WorkspaceStore, keyof WorkspaceReader>[];

const READER_METHODS = [
  'getApp',
  'listApps',
  'getSnapshot',
  'getBlob',
  'hasBlobs',
  'getBuild',
  'listBuilds',
  'getVersion',
  'listVersions',
  'getSettings',
  'getJob',
  'unfinishedJobsOfApp',
  'unfinishedJobsOfWorkspace',
  'listAudit',
  'getSecret',
];

/** Expects `promise` to reject with a GatewayError of `code`. */
async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).code).toBe(code);
}

/** The one behaviour every store adapter must have, run against each of them. */
export function describeStoreContract(name: string, harness: StoreHarness): void {
  describe(`${name} store contract`, () => {
    let store: Store;

    beforeAll(async () => {
      store = await harness.open();
    });

    afterAll(async () => {
      await harness.dispose();
    });

    /** A view of a workspace no other test uses, with one app in it. */
    async function workspaceWithApp() {
      const ws = store.workspace(newId());
      const app = appRecord(ws.workspaceId);
      await ws.createApp(app);
      return { ws, app };
    }

    describe('apps', () => {
      test('createApp stores the app as given and listApps answers oldest first', async () => {
        const ws = store.workspace(newId());
        const later = appRecord(ws.workspaceId, { name: 'Later', createdAt: at(5) });
        const earlier = appRecord(ws.workspaceId, { name: 'Earlier', createdAt: at(1) });
        await ws.createApp(later);
        await ws.createApp(earlier);

        expect(await ws.getApp(later.id)).toEqual(later);
        expect((await ws.listApps()).map((app) => app.name)).toEqual(['Earlier', 'Later']);
        expect(await ws.getApp(newId())).toBeNull();
      });

      test('createApp refuses an id that exists and leaves the stored app as it was', async () => {
        const { ws, app } = await workspaceWithApp();

        await expectCode(ws.createApp({ ...app, name: 'Impostor' }), 'invalid_request');

        expect((await ws.getApp(app.id))?.name).toBe(app.name);
      });

      test('createApp refuses an app id that could not stand as a path segment', async () => {
        const ws = store.workspace(newId());

        await expectCode(
          ws.createApp(appRecord(ws.workspaceId, { id: '../x' })),
          'invalid_request',
        );

        expect(await ws.listApps()).toEqual([]);
      });

      test('patchApp merges sourceControl field by field and replaces the other fields', async () => {
        const { ws, app } = await workspaceWithApp();
        const installedFrom = {
          provider: 'github' as const,
          owner: 'acme',
          repo: 'second-app-x',
          tag: 'second-app-v3',
          version: 3,
          commitSha: 'a'.repeat(40),
          installedAt: at(9),
        };

        await ws.patchApp(app.id, { sourceControl: { backed: true, status: 'pending' } });
        await ws.patchApp(app.id, { sourceControl: { repo: 'second-app-x', version: 3 } });
        const patched = await ws.patchApp(app.id, { name: 'Renamed', installedFrom });

        expect(patched).toEqual(await ws.getApp(app.id));
        expect(patched?.name).toBe('Renamed');
        expect(patched?.installedFrom).toEqual(installedFrom);
        expect(patched?.sourceControl).toEqual({
          ...app.sourceControl,
          backed: true,
          status: 'pending',
          repo: 'second-app-x',
          version: 3,
        });
        expect(patched?.updatedAt).not.toBe(app.updatedAt);
        expect(patched?.createdAt).toBe(app.createdAt);
      });

      test('patchApp can set a field back to null', async () => {
        const { ws, app } = await workspaceWithApp();
        const error = { code: 'rate_limited', message: 'The provider rate limit was reached.' };

        await ws.patchApp(app.id, { sourceControl: { lastError: error, nextRetryAt: at(4) } });
        const cleared = await ws.patchApp(app.id, { sourceControl: { lastError: null } });

        expect(cleared?.sourceControl.lastError).toBeNull();
        expect(cleared?.sourceControl.nextRetryAt).toBe(at(4));
      });

      test('patchApp answers null for an app that does not exist', async () => {
        const ws = store.workspace(newId());

        expect(await ws.patchApp(newId(), { name: 'x' })).toBeNull();
        expect(await ws.listApps()).toEqual([]);
      });

      test('patchApp refuses fields outside the patch shape and changes nothing', async () => {
        const { ws, app } = await workspaceWithApp();
        const foreign = { workspaceId: 'other' } as unknown as Parameters<
          WorkspaceStore['patchApp']
        >[1];
        const unknownField = { sourceControl: { token: 'x' } } as unknown as Parameters<
          WorkspaceStore['patchApp']
        >[1];

        await expectCode(ws.patchApp(app.id, foreign), 'invalid_request');
        await expectCode(ws.patchApp(app.id, unknownField), 'invalid_request');

        expect(await ws.getApp(app.id)).toEqual(app);
      });
    });

    describe('blobs', () => {
      test('a blob put twice is stored once and reads back byte for byte', async () => {
        const ws = store.workspace(newId());
        const content = randomBytes(1000);
        const sha = sha256Of(content);

        await ws.putBlob(sha, content);
        await ws.putBlob(sha, Buffer.from(content));

        expect((await ws.getBlob(sha))?.equals(content)).toBe(true);
        expect(await harness.storedChunkCount(store, ws.workspaceId, sha)).toBe(1);
      });

      test('a blob larger than one chunk is split into chunks and round-trips exactly', async () => {
        const ws = store.workspace(newId());
        const content = randomBytes(2 * BLOB_CHUNK_BYTES + 12_345);
        const sha = sha256Of(content);

        await ws.putBlob(sha, content);
        const read = await ws.getBlob(sha);

        expect(read?.length).toBe(content.length);
        expect(read?.equals(content)).toBe(true);
        expect(await harness.storedChunkCount(store, ws.workspaceId, sha)).toBe(3);
      });

      test('an empty blob round-trips', async () => {
        const ws = store.workspace(newId());
        const empty = Buffer.alloc(0);

        await ws.putBlob(sha256Of(empty), empty);

        expect((await ws.getBlob(sha256Of(empty)))?.length).toBe(0);
      });

      test('hasBlobs answers which of the given blobs the workspace holds', async () => {
        const ws = store.workspace(newId());
        const held = [randomBytes(10), randomBytes(20)];
        for (const content of held) await ws.putBlob(sha256Of(content), content);
        const missing = sha256Of(randomBytes(5));

        const answer = await ws.hasBlobs([...held.map(sha256Of), missing]);

        expect(answer).toEqual(new Set(held.map(sha256Of)));
        expect(await ws.hasBlobs([])).toEqual(new Set());
        expect(await ws.getBlob(missing)).toBeNull();
      });

      test('hasBlobs takes as many keys as a 50,000-file snapshot has', async () => {
        const ws = store.workspace(newId());
        const held = randomBytes(32);
        await ws.putBlob(sha256Of(held), held);
        const keys = Array.from({ length: 50_000 }, (_, i) => sha256Of(Buffer.from(`file ${i}`)));
        keys[31_337] = sha256Of(held);

        expect(await ws.hasBlobs(keys)).toEqual(new Set([sha256Of(held)]));
      });

      test('putBlob refuses content that does not match its sha256, and stores nothing', async () => {
        const ws = store.workspace(newId());
        const sha = sha256Of(Buffer.from('the real content'));

        await expectCode(ws.putBlob(sha, Buffer.from('other content')), 'invalid_request');
        await expectCode(ws.putBlob('not-a-sha', Buffer.from('x')), 'invalid_request');

        expect(await ws.getBlob(sha)).toBeNull();
        expect(await ws.hasBlobs([sha])).toEqual(new Set());
      });
    });

    describe('snapshots', () => {
      test('putSnapshot stores the file list; the same hash again keeps the first record', async () => {
        const ws = store.workspace(newId());
        const snapshot = snapshotRecord(ws.workspaceId);

        await ws.putSnapshot(snapshot);
        await ws.putSnapshot({ ...snapshot, createdAt: at(99), files: [] });

        expect(await ws.getSnapshot(snapshot.hash)).toEqual(snapshot);
        expect(await ws.getSnapshot(snapshotRecord(ws.workspaceId).hash)).toBeNull();
      });

      test('a snapshot whose file list passes 8 MiB round-trips', async () => {
        const ws = store.workspace(newId());
        const files = Array.from({ length: 40_000 }, (_, i) => ({
          path: `src/${'deep/'.repeat(40)}file-${i}.ts`,
          size: i,
          sha256: sha256Of(Buffer.from(String(i))),
        }));
        const snapshot = snapshotRecord(ws.workspaceId, { files, fileCount: files.length });

        await ws.putSnapshot(snapshot);

        expect(await ws.getSnapshot(snapshot.hash)).toEqual(snapshot);
      });

      test('putSnapshot refuses a malformed hash', async () => {
        const ws = store.workspace(newId());

        await expectCode(
          ws.putSnapshot(snapshotRecord(ws.workspaceId, { hash: 'abc' })),
          'invalid_request',
        );
        expect(await ws.getSnapshot('abc')).toBeNull();
      });
    });

    describe('saveBuild', () => {
      test('writes snapshot, build and job, moves the draft and sets source control', async () => {
        const { ws, app } = await workspaceWithApp();
        const write = buildWrite(ws.workspaceId, app.id);

        const saved = await ws.saveBuild(write);

        expect(saved.draft).toEqual(write.draft);
        expect(saved.sourceControl).toEqual({ ...app.sourceControl, status: 'pending' });
        expect(await ws.getApp(app.id)).toEqual(saved);
        expect(await ws.getSnapshot(write.snapshot.hash)).toEqual(write.snapshot);
        expect(await ws.getBuild(app.id, write.build.id)).toEqual(write.build);
        expect(await ws.getJob(write.job!.id)).toEqual(write.job);
      });

      test('without a job, saves the build and queues nothing', async () => {
        const { ws, app } = await workspaceWithApp();

        await ws.saveBuild(buildWrite(ws.workspaceId, app.id, { withJob: false }));

        expect(await ws.unfinishedJobsOfApp(app.id)).toEqual([]);
        expect(await ws.listBuilds(app.id)).toHaveLength(1);
      });

      test('the same build saved again is a retry: it completes and keeps one build', async () => {
        const { ws, app } = await workspaceWithApp();
        const write = buildWrite(ws.workspaceId, app.id);

        await ws.saveBuild(write);
        const again = await ws.saveBuild(write);

        expect(again.draft).toEqual(write.draft);
        expect(await ws.listBuilds(app.id)).toEqual([write.build]);
      });

      test('a build whose clock reads no later than the newest build is placed just after it, with its job', async () => {
        const { ws, app } = await workspaceWithApp();
        const first = buildWrite(ws.workspaceId, app.id, { createdAt: at(5) });
        await ws.saveBuild(first);

        // Another writer read its clock first and committed second.
        const late = buildWrite(ws.workspaceId, app.id, { createdAt: at(3) });
        const saved = await ws.saveBuild(late);
        const placed = new Date(Date.parse(at(5)) + 1).toISOString();

        expect(saved.draft).toEqual({ ...late.draft, createdAt: placed });
        expect((await ws.listBuilds(app.id)).map((b) => [b.id, b.createdAt])).toEqual([
          [late.build.id, placed],
          [first.build.id, at(5)],
        ]);
        expect(
          (await ws.unfinishedJobsOfApp(app.id)).map((job) => [job.id, job.createdAt]),
        ).toEqual([
          [first.job!.id, at(5)],
          [late.job!.id, placed],
        ]);

        // Saved again, it is a retry and keeps the moment it was stored at.
        await ws.saveBuild(late);
        expect((await ws.getBuild(app.id, late.build.id))?.createdAt).toBe(placed);
        expect(await ws.listBuilds(app.id)).toHaveLength(2);
      });

      test('fails whole: a build id held by another build leaves nothing of the write', async () => {
        const { ws, app } = await workspaceWithApp();
        const first = buildWrite(ws.workspaceId, app.id);
        const appAfterFirst = await ws.saveBuild(first);

        // Same build id, new snapshot and job: the snapshot would be written before the build
        // row is refused, so only a real transaction leaves it out.
        const clash = buildWrite(ws.workspaceId, app.id, {
          buildId: first.build.id,
          createdAt: at(7),
        });
        await expectCode(ws.saveBuild(clash), 'invalid_request');

        expect(await ws.getSnapshot(clash.snapshot.hash)).toBeNull();
        expect(await ws.getJob(clash.job!.id)).toBeNull();
        expect(await ws.getApp(app.id)).toEqual(appAfterFirst);
        expect(await ws.getBuild(app.id, first.build.id)).toEqual(first.build);
        expect(await ws.unfinishedJobsOfApp(app.id)).toEqual([first.job]);
      });

      test('fails whole with not_found when the app does not exist', async () => {
        const ws = store.workspace(newId());
        const write = buildWrite(ws.workspaceId, newId());

        await expectCode(ws.saveBuild(write), 'not_found');

        expect(await ws.getSnapshot(write.snapshot.hash)).toBeNull();
        expect(await ws.getJob(write.job!.id)).toBeNull();
      });

      test('refuses a draft, build or job that does not match the write', async () => {
        const { ws, app } = await workspaceWithApp();
        const write = buildWrite(ws.workspaceId, app.id);
        const other = buildWrite(ws.workspaceId, app.id);

        await expectCode(ws.saveBuild({ ...write, draft: other.draft }), 'invalid_request');
        await expectCode(
          ws.saveBuild({ ...write, build: { ...write.build, snapshotHash: other.snapshot.hash } }),
          'invalid_request',
        );
        await expectCode(
          ws.saveBuild({ ...write, job: { ...write.job!, appId: newId() } }),
          'invalid_request',
        );

        expect(await ws.getSnapshot(write.snapshot.hash)).toBeNull();
        expect(await ws.getApp(app.id)).toEqual(app);
      });
    });

    describe('saveBuild with a new app or a new installedFrom', () => {
      test('createApp: the app and its first build appear together, the build as its draft', async () => {
        const ws = store.workspace(newId());
        const app = appRecord(ws.workspaceId, { installedFrom: installedFromRecord(1) });
        const write = { ...buildWrite(ws.workspaceId, app.id), createApp: app };

        const saved = await ws.saveBuild(write);

        expect(saved).toEqual({
          ...app,
          draft: write.draft,
          sourceControl: { ...app.sourceControl, status: 'pending' },
          updatedAt: expect.any(String),
        });
        expect(await ws.listApps()).toEqual([saved]);
        expect(await ws.getSnapshot(write.snapshot.hash)).toEqual(write.snapshot);
        expect(await ws.listBuilds(app.id)).toEqual([write.build]);
        expect(await ws.getJob(write.job!.id)).toEqual(write.job);
      });

      test('createApp: an id that exists refuses the whole write and keeps the stored app', async () => {
        const { ws, app } = await workspaceWithApp();
        const write = {
          ...buildWrite(ws.workspaceId, app.id),
          createApp: { ...app, name: 'Impostor' },
        };

        await expectCode(ws.saveBuild(write), 'invalid_request');

        expect(await ws.listApps()).toEqual([app]);
        expect(await ws.listBuilds(app.id)).toEqual([]);
        expect(await ws.getSnapshot(write.snapshot.hash)).toBeNull();
        expect(await ws.getJob(write.job!.id)).toBeNull();
      });

      test('createApp: a build id held by another app refuses the write and leaves no app', async () => {
        const { ws, app: other } = await workspaceWithApp();
        const first = buildWrite(ws.workspaceId, other.id);
        const otherAfter = await ws.saveBuild(first);
        const app = appRecord(ws.workspaceId);

        // The new app is stored before its build is refused: only one write takes it back out.
        const clash = {
          ...buildWrite(ws.workspaceId, app.id, { buildId: first.build.id }),
          createApp: app,
        };
        await expectCode(ws.saveBuild(clash), 'invalid_request');

        expect(await ws.getApp(app.id)).toBeNull();
        expect(await ws.listApps()).toEqual([otherAfter]);
        expect(await ws.getSnapshot(clash.snapshot.hash)).toBeNull();
        expect(await ws.getJob(clash.job!.id)).toBeNull();
        expect(await ws.getBuild(other.id, first.build.id)).toEqual(first.build);
      });

      test('createApp: a job id held by another app refuses the write and leaves no app', async () => {
        const { ws, app: other } = await workspaceWithApp();
        const held = jobRecord(ws.workspaceId, other.id);
        await ws.putJob(held);
        const app = appRecord(ws.workspaceId);
        const base = buildWrite(ws.workspaceId, app.id);

        // The job is the last row the write touches before the app's draft: app and build are
        // already in when it is refused.
        const write = { ...base, job: { ...base.job!, id: held.id }, createApp: app };
        await expectCode(ws.saveBuild(write), 'invalid_request');

        expect(await ws.getApp(app.id)).toBeNull();
        expect(await ws.getBuild(app.id, write.build.id)).toBeNull();
        expect(await ws.getSnapshot(write.snapshot.hash)).toBeNull();
        expect(await ws.getJob(held.id)).toEqual(held);
        expect(await ws.listApps()).toEqual([other]);
      });

      test('createApp must be the app the build names, of this workspace', async () => {
        const ws = store.workspace(newId());
        const app = appRecord(ws.workspaceId);
        const write = buildWrite(ws.workspaceId, app.id);

        await expectCode(
          ws.saveBuild({ ...write, createApp: { ...app, id: newId() } }),
          'invalid_request',
        );
        await expectCode(
          ws.saveBuild({ ...write, createApp: { ...app, workspaceId: newId() } }),
          'invalid_request',
        );

        expect(await ws.listApps()).toEqual([]);
        expect(await ws.getSnapshot(write.snapshot.hash)).toBeNull();
      });

      test('installedFrom moves with the draft in one write; a refused write moves neither', async () => {
        const ws = store.workspace(newId());
        const app = appRecord(ws.workspaceId, { installedFrom: installedFromRecord(1) });
        const install = { ...buildWrite(ws.workspaceId, app.id), createApp: app };
        const installed = await ws.saveBuild(install);
        const v2 = installedFromRecord(2);
        const update = {
          ...buildWrite(ws.workspaceId, app.id, { createdAt: v2.installedAt }),
          installedFrom: v2,
        };

        // The same update under the install's build id: refused after its snapshot went in.
        const buildId = install.build.id;
        const clash = {
          ...update,
          build: { ...update.build, id: buildId },
          draft: { ...update.draft, buildId },
          job: { ...update.job!, buildId },
        };
        await expectCode(ws.saveBuild(clash), 'invalid_request');
        expect(await ws.getApp(app.id)).toEqual(installed);
        expect(await ws.getSnapshot(update.snapshot.hash)).toBeNull();

        const updated = await ws.saveBuild(update);
        expect(updated.draft).toEqual(update.draft);
        expect(updated.installedFrom).toEqual(v2);
        expect(await ws.getApp(app.id)).toEqual(updated);

        // A build that does not say where the app comes from leaves installedFrom as it is.
        const later = await ws.saveBuild(buildWrite(ws.workspaceId, app.id, { createdAt: at(60) }));
        expect(later.installedFrom).toEqual(v2);
        expect(later.draft?.createdAt).toBe(at(60));
      });
    });

    describe('builds', () => {
      test('listBuilds answers newest first and honours the limit', async () => {
        const { ws, app } = await workspaceWithApp();
        const times = [at(20), at(30), at(40)];
        const ids: string[] = [];
        for (const createdAt of times) {
          const write = buildWrite(ws.workspaceId, app.id, { createdAt, withJob: false });
          ids.push(write.build.id);
          await ws.saveBuild(write);
        }

        const builds = await ws.listBuilds(app.id);

        expect(builds.map((build) => build.id)).toEqual([ids[2], ids[1], ids[0]]);
        expect((await ws.listBuilds(app.id, 2)).map((build) => build.id)).toEqual([ids[2], ids[1]]);
      });

      test('getBuild needs the right app; updateBuildSync replaces the sync block', async () => {
        const { ws, app } = await workspaceWithApp();
        const write = buildWrite(ws.workspaceId, app.id);
        await ws.saveBuild(write);
        const sync = {
          status: 'failed' as const,
          version: null,
          error: { code: 'x', message: 'y' },
        };

        await ws.updateBuildSync(app.id, write.build.id, sync);

        expect((await ws.getBuild(app.id, write.build.id))?.sync).toEqual(sync);
        expect(await ws.getBuild(newId(), write.build.id)).toBeNull();
        await expectCode(ws.updateBuildSync(app.id, newId(), sync), 'not_found');
      });
    });

    describe('versions', () => {
      test('insertVersion answers false for a number that exists and keeps the first', async () => {
        const { ws, app } = await workspaceWithApp();
        const first = versionRecord(ws.workspaceId, app.id, 1);

        expect(await ws.insertVersion(first)).toBe(true);
        expect(await ws.insertVersion(versionRecord(ws.workspaceId, app.id, 1))).toBe(false);

        expect(await ws.getVersion(app.id, 1)).toEqual(first);
      });

      test('listVersions answers newest first; markVersionPushed sets pushed', async () => {
        const { ws, app } = await workspaceWithApp();
        for (const number of [2, 1, 4]) {
          await ws.insertVersion(versionRecord(ws.workspaceId, app.id, number));
        }

        await ws.markVersionPushed(app.id, 2);

        const versions = await ws.listVersions(app.id);
        expect(versions.map((version) => version.version)).toEqual([4, 2, 1]);
        expect(versions.map((version) => version.pushed)).toEqual([false, true, false]);
        await expectCode(ws.markVersionPushed(app.id, 3), 'not_found');
      });

      test('insertVersion refuses an app that does not exist and a bad number', async () => {
        const { ws, app } = await workspaceWithApp();
        const ghost = newId();

        await expectCode(ws.insertVersion(versionRecord(ws.workspaceId, ghost, 1)), 'not_found');
        await expectCode(
          ws.insertVersion(versionRecord(ws.workspaceId, app.id, 0)),
          'invalid_request',
        );

        expect(await ws.listVersions(ghost)).toEqual([]);
        expect(await ws.listVersions(app.id)).toEqual([]);
      });
    });

    describe('settings and secrets', () => {
      test('putSettings stores, replaces and deleteSettings removes', async () => {
        const ws = store.workspace(newId());
        const settings = settingsRecord(ws.workspaceId);

        expect(await ws.getSettings()).toBeNull();
        await ws.putSettings(settings);
        expect(await ws.getSettings()).toEqual(settings);

        const changed = { ...settings, owner: 'other-org', missingPermissions: ['workflow'] };
        await ws.putSettings(changed);
        expect(await ws.getSettings()).toEqual(changed);

        await ws.deleteSettings();
        expect(await ws.getSettings()).toBeNull();
      });

      test('putSecret stores an opaque value, replaces it, and deleteSecret removes it', async () => {
        const ws = store.workspace(newId());

        await ws.putSecret('provider-token', 'v1.sealed.value');
        await ws.putSecret('other', 'kept');
        expect(await ws.getSecret('provider-token')).toBe('v1.sealed.value');

        await ws.putSecret('provider-token', 'v1.sealed.newer');
        expect(await ws.getSecret('provider-token')).toBe('v1.sealed.newer');

        await ws.deleteSecret('provider-token');
        expect(await ws.getSecret('provider-token')).toBeNull();
        expect(await ws.getSecret('other')).toBe('kept');
      });
    });

    describe('sync jobs', () => {
      test('putJob inserts and updates; unfinishedJobsOfApp lists every job not done, oldest first', async () => {
        const { ws, app } = await workspaceWithApp();
        const newer = jobRecord(ws.workspaceId, app.id, { createdAt: at(9) });
        const older = jobRecord(ws.workspaceId, app.id, { createdAt: at(5), state: 'running' });
        const done = jobRecord(ws.workspaceId, app.id, { createdAt: at(1), state: 'done' });
        for (const job of [newer, older, done]) await ws.putJob(job);

        expect((await ws.unfinishedJobsOfApp(app.id)).map((job) => job.id)).toEqual([
          older.id,
          newer.id,
        ]);

        const failed = {
          ...older,
          state: 'failed' as const,
          attempts: 6,
          lastError: { code: 'provider_unavailable', message: 'The provider did not answer.' },
          params: { available: true },
          updatedAt: at(12),
        };
        await ws.putJob(failed);

        expect(await ws.getJob(older.id)).toEqual(failed);
        // A job that failed for good still holds its place: it waits for a retry.
        expect(await ws.unfinishedJobsOfApp(app.id)).toEqual([failed, newer]);
        expect(await store.unfinishedJobs(100)).not.toContainEqual(failed);
      });

      test('unfinishedJobsOfWorkspace lists the jobs not done of every app of this workspace, oldest first', async () => {
        const { ws, app } = await workspaceWithApp();
        const otherApp = appRecord(ws.workspaceId);
        await ws.createApp(otherApp);
        const neighbour = await workspaceWithApp();
        const queued = jobRecord(ws.workspaceId, app.id, { createdAt: at(5) });
        const failed = jobRecord(ws.workspaceId, otherApp.id, {
          createdAt: at(2),
          state: 'failed',
          attempts: 1,
          lastError: { code: 'auth_failed', message: 'The provider refused the token.' },
        });
        const done = jobRecord(ws.workspaceId, app.id, { createdAt: at(1), state: 'done' });
        const running = jobRecord(ws.workspaceId, otherApp.id, {
          createdAt: at(7),
          state: 'running',
        });
        // Made at the same instant as `running`: stored after it, so listed after it.
        const sameInstant = jobRecord(ws.workspaceId, app.id, { createdAt: at(7) });
        const foreign = jobRecord(neighbour.ws.workspaceId, neighbour.app.id, {
          createdAt: at(3),
        });
        for (const job of [queued, failed, done, running, sameInstant]) await ws.putJob(job);
        await neighbour.ws.putJob(foreign);

        expect(await ws.unfinishedJobsOfWorkspace()).toEqual([
          failed,
          queued,
          running,
          sameInstant,
        ]);
        expect(await store.reader(ws.workspaceId).unfinishedJobsOfWorkspace()).toHaveLength(4);
        expect(await neighbour.ws.unfinishedJobsOfWorkspace()).toEqual([foreign]);
        expect(await store.workspace(newId()).unfinishedJobsOfWorkspace()).toEqual([]);

        await ws.putJob({ ...failed, state: 'done', updatedAt: at(8) });

        expect((await ws.unfinishedJobsOfWorkspace()).map((job) => job.id)).toEqual([
          queued.id,
          running.id,
          sameInstant.id,
        ]);
      });

      test('putJob refuses a job id held by a job of another app', async () => {
        const { ws, app } = await workspaceWithApp();
        const otherApp = appRecord(ws.workspaceId);
        await ws.createApp(otherApp);
        const job = jobRecord(ws.workspaceId, app.id);
        await ws.putJob(job);

        await expectCode(ws.putJob({ ...job, appId: otherApp.id }), 'invalid_request');

        expect(await ws.getJob(job.id)).toEqual(job);
        expect(await ws.unfinishedJobsOfApp(otherApp.id)).toEqual([]);
      });

      test('putJob refuses a job of an app that does not exist', async () => {
        const ws = store.workspace(newId());
        const job = jobRecord(ws.workspaceId, newId());

        await expectCode(ws.putJob(job), 'not_found');

        expect(await ws.getJob(job.id)).toBeNull();
      });

      test('unfinishedJobs lists every workspace, oldest first, up to the limit', async () => {
        const fresh = await harness.open();
        const a = fresh.workspace(newId());
        const b = fresh.workspace(newId());
        const appA = appRecord(a.workspaceId);
        const appB = appRecord(b.workspaceId);
        await a.createApp(appA);
        await b.createApp(appB);
        const jobs = [
          jobRecord(a.workspaceId, appA.id, { createdAt: at(3) }),
          jobRecord(b.workspaceId, appB.id, { createdAt: at(1), state: 'running' }),
          jobRecord(a.workspaceId, appA.id, { createdAt: at(2) }),
          jobRecord(b.workspaceId, appB.id, { createdAt: at(4) }),
          jobRecord(b.workspaceId, appB.id, { createdAt: at(0), state: 'done' }),
          jobRecord(a.workspaceId, appA.id, { createdAt: at(0), state: 'failed' }),
        ];
        for (const job of jobs) await fresh.workspace(job.workspaceId).putJob(job);

        const all = await fresh.unfinishedJobs(10);

        expect(all).toEqual([jobs[1], jobs[2], jobs[0], jobs[3]]);
        expect(await fresh.unfinishedJobs(2)).toEqual([jobs[1], jobs[2]]);
      });
    });

    describe('audit', () => {
      test('listAudit answers newest first, filters by app and honours the limit', async () => {
        const { ws, app } = await workspaceWithApp();
        const events = [
          auditRecord(ws.workspaceId, { at: at(1), action: 'app.create', appId: app.id }),
          auditRecord(ws.workspaceId, { at: at(3), action: 'settings.save' }),
          auditRecord(ws.workspaceId, { at: at(2), action: 'source-control.retry', appId: app.id }),
        ];
        for (const event of events) await ws.appendAudit(event);

        expect(await ws.listAudit()).toEqual([events[1], events[2], events[0]]);
        expect(await ws.listAudit({ appId: app.id })).toEqual([events[2], events[0]]);
        expect(await ws.listAudit({ limit: 1 })).toEqual([events[1]]);
      });

      test('an event appended again under its id is kept once', async () => {
        const ws = store.workspace(newId());
        const event = auditRecord(ws.workspaceId);

        await ws.appendAudit(event);
        await ws.appendAudit(event);

        expect(await ws.listAudit()).toEqual([event]);
      });
    });

    describe('leases', () => {
      test('acquire, renew by the same holder, refused to another, released', async () => {
        const ws = store.workspace(newId());

        expect(await ws.acquireLease('sync:app1', 'gateway-a', 60_000)).toBe(true);
        expect(await ws.acquireLease('sync:app1', 'gateway-a', 60_000)).toBe(true);
        expect(await ws.acquireLease('sync:app1', 'gateway-b', 60_000)).toBe(false);
        expect(await ws.acquireLease('sync:app2', 'gateway-b', 60_000)).toBe(true);

        await ws.releaseLease('sync:app1', 'gateway-b');
        expect(await ws.acquireLease('sync:app1', 'gateway-b', 60_000)).toBe(false);

        await ws.releaseLease('sync:app1', 'gateway-a');
        expect(await ws.acquireLease('sync:app1', 'gateway-b', 60_000)).toBe(true);
      });

      test('an expired lease goes to the next holder who asks', async () => {
        const ws = store.workspace(newId());

        expect(await ws.acquireLease('sync:app', 'gateway-a', 50)).toBe(true);
        expect(await ws.acquireLease('sync:app', 'gateway-b', 60_000)).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 150));

        expect(await ws.acquireLease('sync:app', 'gateway-b', 60_000)).toBe(true);
        expect(await ws.acquireLease('sync:app', 'gateway-a', 60_000)).toBe(false);
      });

      test('a lease refuses a missing key or holder and a duration that is not positive', async () => {
        const ws = store.workspace(newId());

        await expectCode(ws.acquireLease('', 'a', 1000), 'invalid_request');
        await expectCode(ws.acquireLease('k', '', 1000), 'invalid_request');
        await expectCode(ws.acquireLease('k', 'a', 0), 'invalid_request');
        await expectCode(ws.acquireLease('k', 'a', Number.NaN), 'invalid_request');
      });
    });

    describe('workspace isolation', () => {
      /** Workspace A with one of everything. */
      async function populatedWorkspace() {
        const { ws, app } = await workspaceWithApp();
        const content = randomBytes(64);
        await ws.putBlob(sha256Of(content), content);
        const write = buildWrite(ws.workspaceId, app.id);
        await ws.saveBuild(write);
        await ws.insertVersion(versionRecord(ws.workspaceId, app.id, 1));
        await ws.putSettings(settingsRecord(ws.workspaceId));
        await ws.appendAudit(auditRecord(ws.workspaceId, { appId: app.id }));
        await ws.putSecret('provider-token', 'sealed');
        return { ws, app, write, blob: sha256Of(content) };
      }

      test("an id of workspace A is invisible through B's view", async () => {
        const { app, write, blob } = await populatedWorkspace();
        const b = store.workspace(newId());

        expect(await b.getApp(app.id)).toBeNull();
        expect(await b.listApps()).toEqual([]);
        expect(await b.getBlob(blob)).toBeNull();
        expect(await b.hasBlobs([blob])).toEqual(new Set());
        expect(await b.getSnapshot(write.snapshot.hash)).toBeNull();
        expect(await b.getBuild(app.id, write.build.id)).toBeNull();
        expect(await b.listBuilds(app.id)).toEqual([]);
        expect(await b.getVersion(app.id, 1)).toBeNull();
        expect(await b.listVersions(app.id)).toEqual([]);
        expect(await b.getSettings()).toBeNull();
        expect(await b.getJob(write.job!.id)).toBeNull();
        expect(await b.unfinishedJobsOfApp(app.id)).toEqual([]);
        expect(await b.unfinishedJobsOfWorkspace()).toEqual([]);
        expect(await b.listAudit({ appId: app.id })).toEqual([]);
        expect(await b.listAudit()).toEqual([]);
        expect(await b.getSecret('provider-token')).toBeNull();
      });

      test("B's view cannot change A's records", async () => {
        const { ws: a, app, write } = await populatedWorkspace();
        const b = store.workspace(newId());
        const appBefore = await a.getApp(app.id);

        expect(await b.patchApp(app.id, { name: 'Taken over' })).toBeNull();
        await expectCode(b.updateBuildSync(app.id, write.build.id, write.build.sync), 'not_found');
        await expectCode(b.markVersionPushed(app.id, 1), 'not_found');
        await expectCode(b.insertVersion(versionRecord(b.workspaceId, app.id, 2)), 'not_found');
        await expectCode(b.putJob(jobRecord(b.workspaceId, app.id)), 'not_found');
        await expectCode(b.saveBuild(buildWrite(b.workspaceId, app.id)), 'not_found');
        await b.deleteSettings();
        await b.deleteSecret('provider-token');
        expect(await b.acquireLease('sync', 'gateway-b', 60_000)).toBe(true);
        expect(await a.acquireLease('sync', 'gateway-a', 60_000)).toBe(true);

        expect(await a.getApp(app.id)).toEqual(appBefore);
        expect(await a.listVersions(app.id)).toHaveLength(1);
        expect(await a.getSettings()).not.toBeNull();
        expect(await a.getSecret('provider-token')).toBe('sealed');
      });

      test('records that carry another workspace id are refused and nothing is written', async () => {
        const { ws: a, app } = await workspaceWithApp();
        const b = store.workspace(newId());
        const other = b.workspaceId;
        const write = buildWrite(a.workspaceId, app.id);
        const foreignApp = appRecord(other);
        const auditsBefore = await a.listAudit();

        await expectCode(a.createApp(foreignApp), 'invalid_request');
        await expectCode(
          a.putSnapshot({ ...write.snapshot, workspaceId: other }),
          'invalid_request',
        );
        await expectCode(
          a.saveBuild({ ...write, snapshot: { ...write.snapshot, workspaceId: other } }),
          'invalid_request',
        );
        await expectCode(
          a.saveBuild({ ...write, build: { ...write.build, workspaceId: other } }),
          'invalid_request',
        );
        await expectCode(
          a.saveBuild({ ...write, job: { ...write.job!, workspaceId: other } }),
          'invalid_request',
        );
        await expectCode(a.insertVersion(versionRecord(other, app.id, 1)), 'invalid_request');
        await expectCode(a.putSettings(settingsRecord(other)), 'invalid_request');
        await expectCode(a.putJob(jobRecord(other, app.id)), 'invalid_request');
        await expectCode(a.appendAudit(auditRecord(other)), 'invalid_request');

        for (const view of [a, b]) {
          expect(await view.getApp(foreignApp.id)).toBeNull();
          expect(await view.getSnapshot(write.snapshot.hash)).toBeNull();
          expect(await view.getBuild(app.id, write.build.id)).toBeNull();
          expect(await view.listVersions(app.id)).toEqual([]);
          expect(await view.getSettings()).toBeNull();
        }
        expect(await a.getApp(app.id)).toEqual(app);
        expect(await a.listAudit()).toEqual(auditsBefore);
        expect(await b.listAudit()).toEqual([]);
      });

      test('a workspace id that is not a safe id is refused', () => {
        for (const bad of ['', '../etc', 'A-upper', 'a/b', 'x'.repeat(65)]) {
          expect(() => store.workspace(bad)).toThrow(GatewayError);
          expect(() => store.reader(bad)).toThrow(GatewayError);
        }
      });
    });

    describe('reader', () => {
      test('has the reader methods and, at run time, no way to write', async () => {
        const { ws, app } = await workspaceWithApp();
        const reader = store.reader(ws.workspaceId);

        expect(reader.workspaceId).toBe(ws.workspaceId);
        expect(Object.keys(reader).sort()).toEqual(['workspaceId', ...READER_METHODS].sort());
        for (const method of WRITER_METHODS) {
          expect(method in reader).toBe(false);
          expect((reader as unknown as Record<string, unknown>)[method]).toBeUndefined();
        }
        expect(Object.isFrozen(reader)).toBe(true);
        expect(Object.getPrototypeOf(reader)).toBe(Object.prototype);
        expect(() => {
          (reader as unknown as Record<string, unknown>).putBlob = ws.putBlob;
        }).toThrow(TypeError);

        expect(await reader.getApp(app.id)).toEqual(app);
      });
    });

    describe('writeCount', () => {
      test('counts every mutating call and no read', async () => {
        const { ws, app } = await workspaceWithApp();
        const reader = store.reader(ws.workspaceId);
        const before = store.writeCount;

        await reader.getApp(app.id);
        await reader.listApps();
        await reader.listAudit();
        await ws.getSettings();
        await ws.hasBlobs([sha256Of(Buffer.from('x'))]);
        expect(store.writeCount).toBe(before);

        await ws.appendAudit(auditRecord(ws.workspaceId));
        await ws.patchApp(app.id, { name: 'n' });
        await expectCode(ws.createApp(app), 'invalid_request');
        expect(store.writeCount).toBe(before + 3);
      });
    });

    describe('lifecycle', () => {
      test('ping answers while open; a closed store refuses work', async () => {
        const fresh = await harness.open();
        await fresh.ping();
        expect(['sqlite', 'mongodb']).toContain(fresh.kind);

        await fresh.close();

        await expect(fresh.ping()).rejects.toThrow();
      });
    });
  });
}
