import { readFile } from 'node:fs/promises';
import type { StagedFile } from '../../gateway/ingest/read-snapshot-archive.js';
import { openMirror } from '../../mirror/index.js';
import { stagedApp } from './staged-app.js';

/**
 * Writes one version in a process of its own and prints its peak RSS in MB, so the figure is the
 * mirror's and not the benchmark's. Argument: a JSON file `{dataDir, files}`.
 */
async function main(): Promise<void> {
  const { dataDir, files } = JSON.parse(await readFile(process.argv[2], 'utf8')) as {
    dataDir: string;
    files: StagedFile[];
  };
  const app = stagedApp(files);
  const mirror = openMirror({ dataDir, workspaceId: 'bench', appId: 'rss' });
  await mirror.writeVersion({
    files: app.files,
    readBlob: app.readBlob,
    manifest: app.manifest,
    summary: 'rss',
    createdAt: '2026-01-01T00:00:00Z',
    version: 1,
    parent: null,
  });
  // maxRSS is in kilobytes on Linux.
  process.stdout.write(`${JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
