import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';
import { newId } from '../../core/ids.js';
import type { SnapshotFile } from '../../core/model.js';
import { summarizeSource } from '../../core/source-hash.js';
import type { GatewayHarness } from '../support/gateway-harness.js';

/** Files of an app by path: text or bytes. */
export type FileTree = Record<string, string | Buffer>;

/** A small app with a built `dist/`. */
export function sampleApp(extra: FileTree = {}): FileTree {
  return {
    'src/main.ts': 'console.log("hello");\n',
    'package.json': '{"name":"console"}\n',
    'dist/index.html':
      '<!doctype html><title>Console</title><script type="module" src="./assets/app.js"></script>',
    'dist/assets/app.js': 'document.title = "ready";\n',
    'dist/assets/app.css': 'body { margin: 0 }\n',
    'dist/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
    ...extra,
  };
}

/** A tar (or tar.gz) of a file tree, made by node-tar from real files on disk. */
export async function makeTar(files: FileTree, options: { gzip?: boolean } = {}): Promise<Buffer> {
  const root = await mkdtemp(join(tmpdir(), 'gateway-tar-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
    const chunks: Buffer[] = [];
    const stream = createTar(
      { cwd: root, gzip: options.gzip ?? false, portable: true },
      Object.keys(files),
    );
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export interface UploadOptions {
  summary?: string | null;
  /** Which part goes first. */
  order?: 'summary-first' | 'file-first';
  fileName?: string;
  fileField?: string;
  /** Where to post it (default: the worker's build route of the app). */
  path?: string;
}

/** Posts a `done_building` upload as multipart/form-data with the given part order. */
export async function uploadBuild(
  harness: GatewayHarness,
  appId: string,
  token: string,
  archive: Buffer | null,
  options: UploadOptions = {},
): Promise<Response> {
  const form = new FormData();
  const summary = options.summary === undefined ? 'Added the customer table' : options.summary;
  const addSummary = () => {
    if (summary !== null) form.append('summary', summary);
  };
  const addFile = () => {
    if (archive !== null) {
      form.append(
        options.fileField ?? 'snapshot',
        new Blob([new Uint8Array(archive)]),
        options.fileName ?? 'snapshot.tar',
      );
    }
  };

  if (options.order === 'file-first') {
    addFile();
    addSummary();
  } else {
    addSummary();
    addFile();
  }

  return harness.request(options.path ?? `/internal/v1/apps/${appId}/builds`, {
    method: 'POST',
    token,
    body: form,
  });
}

export function sha256Hex(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Saves a build of `files` for an app straight into the store, as the build route would: blobs,
 * then snapshot, build and draft in one write. Answers the snapshot hash.
 */
export async function seedDraft(
  harness: GatewayHarness,
  workspaceId: string,
  appId: string,
  files: FileTree,
): Promise<string> {
  const workspace = harness.store.workspace(workspaceId);
  const entries: SnapshotFile[] = [];
  for (const [path, content] of Object.entries(files)) {
    const bytes = Buffer.from(content);
    const sha256 = sha256Hex(bytes);
    await workspace.putBlob(sha256, bytes);
    entries.push({ path, size: bytes.length, sha256 });
  }

  const source = summarizeSource(entries);
  const createdAt = new Date().toISOString();
  const buildId = newId();
  await workspace.saveBuild({
    snapshot: {
      workspaceId,
      hash: source.hash,
      files: entries,
      fileCount: source.fileCount,
      totalBytes: source.totalBytes,
      createdAt,
    },
    build: {
      workspaceId,
      appId,
      id: buildId,
      summary: 'seeded',
      snapshotHash: source.hash,
      fileCount: source.fileCount,
      totalBytes: source.totalBytes,
      skipped: [],
      createdAt,
      sync: { status: 'disabled', version: null, error: null },
    },
    draft: { buildId, snapshotHash: source.hash, createdAt },
  });
  harness.gateway.context.services.preview.forgetDraft(workspaceId, appId);
  return source.hash;
}
