import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  buildGateway,
  killAllGatewayProcesses,
  startGatewayProcess,
  type GatewayBuild,
  type GatewayProcess,
} from '../support/gateway-process.js';
import { startGitServer, type GitServer } from '../support/git-server.js';
import {
  baseEnv,
  distinctApp,
  GatewayClient,
  GIT_OWNER,
  GIT_TOKEN,
  newSecrets,
  waitUntil,
} from './gateway-client.js';
import { findInconsistencies, type UploadedBuild } from './version-invariants.js';

/**
 * DATA_DIR is a 24 MB tmpfs, and its mirrors folder (4 MB) and upload staging folder (8 MB) are
 * tmpfs mounts of their own, so the mirror, the staging area and the store can each be filled
 * while the others still have room: which of them runs out is then the test's choice, not a
 * matter of how many bytes the others happened to leave. Mounting needs root (or CAP_SYS_ADMIN);
 * where it is refused the test is skipped and says why.
 */
const root = mkdtempSync(join(tmpdir(), 'reliability-full-disk-'));
const dataDir = join(root, 'data');
const mirrorsDir = join(dataDir, 'mirrors');
const stagingDir = join(dataDir, 'tmp');
const mounted: string[] = [];

function mountTmpfs(dir: string, size: string): string | null {
  mkdirSync(dir, { recursive: true });
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (result.error) return result.error.message;
  if (result.status !== 0) return (result.stderr || `mount exited with ${result.status}`).trim();
  mounted.unshift(dir);
  return null;
}

const refused =
  mountTmpfs(dataDir, '24m') ?? mountTmpfs(mirrorsDir, '4m') ?? mountTmpfs(stagingDir, '8m');
const withDisk = refused === null ? test : test.skip;
if (refused !== null) {
  // A file whose every test is skipped runs no hooks: clean up here.
  for (const dir of mounted.splice(0)) spawnSync('umount', [dir]);
  rmSync(root, { recursive: true, force: true });
  console.log(
    `full-disk test skipped: a small tmpfs cannot be mounted here (${refused}); a size-capped folder cannot be made in user space without it`,
  );
}

let gatewayBuild: GatewayBuild;
let gitServer: GitServer;
let gateway: GatewayProcess | undefined;

beforeAll(async () => {
  if (refused !== null) return;
  gatewayBuild = await buildGateway();
  gitServer = await startGitServer({ checkAuth: (_user, pass) => pass === GIT_TOKEN });
});

afterAll(async () => {
  await gateway?.stop();
  killAllGatewayProcesses();
  await gitServer?.close();
  await gatewayBuild?.remove();
  for (const dir of mounted) spawnSync('umount', [dir]);
  rmSync(root, { recursive: true, force: true });
});

/**
 * Fills a mount with 64 KiB files until the disk refuses one; `leave` of them are removed again,
 * so that little room is left. Answers the filler folder.
 */
async function fill(dir: string, leave = 0): Promise<string> {
  const fillerDir = join(dir, 'filler');
  await mkdir(fillerDir, { recursive: true });
  const chunk = randomBytes(64 * 1024);
  for (let i = 0; ; i += 1) {
    const handle = await open(join(fillerDir, `f${i}`), 'w');
    try {
      await handle.write(chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      break;
    } finally {
      await handle.close();
    }
  }
  const files = readdirSync(fillerDir);
  for (const name of files.slice(0, leave)) await rm(join(fillerDir, name));
  return fillerDir;
}

/** An app build with an incompressible asset, so that storing it needs real room on disk. */
function heavyApp(n: number, bytes: number) {
  return { ...distinctApp('full-disk', n), 'dist/assets/blob.bin': randomBytes(bytes) };
}

withDisk(
  'a full disk answers storage_full, serves the last good draft, stores nothing half-written and recovers when space returns',
  async () => {
    const secrets = newSecrets();
    gateway = await startGatewayProcess({
      build: gatewayBuild,
      dataDir,
      env: { ...baseEnv(secrets), SYNC_RETRY_BASE_MS: '200', SYNC_MAX_ATTEMPTS: '30' },
    });
    const client = new GatewayClient(gateway.url, secrets);
    await client.connect(gitServer.baseUrl);
    const repo = 'second-app-full-disk';
    await gitServer.createRepo(GIT_OWNER, repo);
    const appId = await client.createApp('Full disk');
    const kept: UploadedBuild[] = [];
    const upload = async (files: Record<string, string | Buffer>, summary: string) => {
      const answer = await client.uploadBuild(appId, files, summary);
      if (answer.status === 201 && answer.body.build)
        kept.push({ id: answer.body.build.id, snapshotHash: answer.body.build.snapshotHash });
      return answer;
    };
    const synced = (version: number) =>
      waitUntil(
        async () => {
          const sc = (await client.app(appId)).sourceControl;
          return sc.status === 'synced' && sc.version === version;
        },
        60_000,
        async () =>
          `no v${version}: ${JSON.stringify((await client.app(appId)).sourceControl)}\n${gateway!.logTail(15)}`,
      );

    expect((await upload(distinctApp('full-disk', 1), 'Build 1')).status).toBe(201);
    await synced(1);

    // The mirror's disk is full: the build is stored, its sync fails with a code that says why.
    const mirrorFiller = await fill(mirrorsDir);
    expect((await upload(distinctApp('full-disk', 2), 'Build 2')).status).toBe(201);
    await waitUntil(
      async () => (await client.app(appId)).sourceControl.lastError?.code === 'storage_full',
      30_000,
      async () =>
        `the sync did not fail with storage_full: ${JSON.stringify((await client.app(appId)).sourceControl)}\n${gateway!.logTail(15)}`,
    );
    const failing = (await client.app(appId)).sourceControl;
    expect(failing).toMatchObject({ status: 'failed', version: 1 });
    expect(failing.nextRetryAt).not.toBeNull();
    expect((await client.preview(appId)).text).toContain('build 2');

    // An upload is refused with 507 whether staging or the database runs out, nothing of it is
    // listed, and the preview keeps serving the last good draft. First the staging disk is full.
    const stagingFiller = await fill(stagingDir);
    const staged = await upload(heavyApp(3, 512 * 1024), 'Build 3, no room to stage');
    expect({ status: staged.status, code: staged.body.error?.code }).toEqual({
      status: 507,
      code: 'storage_full',
    });
    expect(staged.body.error).toMatchObject({ message: expect.not.stringMatching(/store/) });
    await rm(stagingFiller, { recursive: true });

    // Then the store's disk: the files stage on their own mount, and the database has to find
    // room for an asset larger than anything it wrote before, so its write-ahead log cannot
    // take it in space it already holds.
    await fill(dataDir);
    const stored = await upload(heavyApp(4, 2 * 1024 * 1024), 'Build 4, no room to store');
    expect({ status: stored.status, code: stored.body.error?.code }).toEqual({
      status: 507,
      code: 'storage_full',
    });
    expect(stored.body.error).toMatchObject({ message: expect.stringMatching(/store/) });

    expect((await client.builds(appId)).map((build) => build.id).reverse()).toEqual(
      kept.map((build) => build.id),
    );
    expect((await client.app(appId)).draft?.buildId).toBe(kept.at(-1)!.id);
    const preview = await client.preview(appId);
    expect({ status: preview.status, page: preview.text.includes('build 2') }).toEqual({
      status: 200,
      page: true,
    });
    expect(readdirSync(stagingDir)).toEqual([]);

    // Space returns: the held sync finishes on its own and new builds are taken again.
    await rm(join(dataDir, 'filler'), { recursive: true });
    await rm(mirrorFiller, { recursive: true });
    expect((await upload(heavyApp(5, 512 * 1024), 'Build 5')).status).toBe(201);
    await synced(3);

    const problems = await findInconsistencies(client, {
      appId,
      remoteGitDir: gitServer.repoPath(GIT_OWNER, repo),
      dataDir,
      builds: kept,
    });
    expect(problems).toEqual([]);

    await gateway.stop();
    gateway = undefined;
    const db = new Database(join(dataDir, 'gateway.sqlite'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  },
  180_000,
);
