import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore } from '../../../adapters/store/create-store.js';
import type { Store } from '../../../adapters/store/store-port.js';
import type { SnapshotFile } from '../../../core/model.js';
import { summarizeSource } from '../../../core/source-hash.js';
import { snapshotTar } from '../../../gateway/restore/snapshot-tar.js';
import { untar } from './restore-support.js';

let dataDir: string;
let store: Store;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'snapshot-tar-'));
  store = await createStore({ dataDir });
});
afterEach(async () => {
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const workspace = store.workspace('acme');
  const entries: SnapshotFile[] = [];
  for (const [path, body] of Object.entries(files)) {
    const sha256 = createHash('sha256').update(body).digest('hex');
    await workspace.putBlob(sha256, Buffer.from(body));
    entries.push({ path, size: Buffer.byteLength(body), sha256 });
  }
  const source = summarizeSource(entries);
  const snapshot = {
    workspaceId: 'acme',
    hash: source.hash,
    files: entries,
    fileCount: source.fileCount,
    totalBytes: source.totalBytes,
    createdAt: new Date().toISOString(),
  };
  const chunks: Buffer[] = [];
  for await (const chunk of snapshotTar(store.reader('acme'), snapshot)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test('writes every stored file, long and non-ASCII names included, as a tar any reader takes', async () => {
  const long = `${'nested-folder/'.repeat(12)}component.tsx`;
  const files = {
    'dist/index.html': '<p>hi</p>',
    [long]: 'export {};\n',
    'src/café/menü.ts': 'export const menu = 1;\n',
    'empty.txt': '',
  };
  expect(await untar(await tarOf(files))).toEqual(new Map(Object.entries(files)));
});

test('leaves out the manifest and anything the app-bundle filter drops', async () => {
  const out = await untar(
    await tarOf({ 'dist/index.html': 'x', 'second-app.json': '{}', '.npmrc': 'token' }),
  );
  expect([...out.keys()]).toEqual(['dist/index.html']);
});
