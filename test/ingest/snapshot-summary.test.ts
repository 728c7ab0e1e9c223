import { createHash } from 'node:crypto';
import { summarizeSource } from '../../core/source-hash.js';
import type { StagedFile } from '../../gateway/ingest/read-snapshot-archive.js';
import { summarizeStagedFiles } from '../../gateway/ingest/snapshot-summary.js';

function staged(path: string, content: string, executable = false): StagedFile {
  const sha256 = createHash('sha256').update(content).digest('hex');
  return {
    path,
    size: Buffer.byteLength(content),
    sha256,
    executable,
    staged: { path: '/staging/small-contents', offset: 0 },
  };
}

describe('the snapshot summary of staged files', () => {
  const files = [
    staged('src/z.ts', 'z'),
    staged('dist/index.html', '<!doctype html>'),
    staged('bin/run', '#!/bin/sh', true),
    staged('src/\u00e9.ts', 'accent'),
    staged('src/Z.ts', 'upper'),
  ];

  test('is the source hash of the files, with their count and bytes', () => {
    const summary = summarizeStagedFiles(files);
    const expected = summarizeSource(files);
    expect(summary).toMatchObject({
      snapshotHash: expected.hash,
      fileCount: 5,
      totalBytes: 1 + 15 + 9 + 6 + 5,
    });
    expect(summary.snapshotHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('does not depend on the order of the archive', () => {
    expect(summarizeStagedFiles([...files].reverse()).snapshotHash).toBe(
      summarizeStagedFiles(files).snapshotHash,
    );
  });

  test('lists the files in UTF-8 byte order, executable marked only where set', () => {
    expect(summarizeStagedFiles(files).files).toEqual([
      { path: 'bin/run', size: 9, sha256: files[2]!.sha256, executable: true },
      { path: 'dist/index.html', size: 15, sha256: files[1]!.sha256 },
      { path: 'src/Z.ts', size: 5, sha256: files[4]!.sha256 },
      { path: 'src/z.ts', size: 1, sha256: files[0]!.sha256 },
      { path: 'src/\u00e9.ts', size: 6, sha256: files[3]!.sha256 },
    ]);
  });

  test('changes when one byte of one file changes', () => {
    const changed = files.map((file) =>
      file.path === 'src/z.ts' ? staged('src/z.ts', 'y') : file,
    );
    expect(summarizeStagedFiles(changed).snapshotHash).not.toBe(
      summarizeStagedFiles(files).snapshotHash,
    );
  });
});
