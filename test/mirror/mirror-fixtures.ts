import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildManifest, serializeManifest } from '../../core/manifest.js';
import { summarizeSource } from '../../core/source-hash.js';
import type { VersionFile } from '../../mirror/fast-import-commit.js';

const run = promisify(execFile);

/** A version's files held in memory, shaped as the sync service hands them to the mirror. */
export interface FileSet {
  files: VersionFile[];
  contents: Map<string, Buffer>;
  readBlob: (sha256: string) => Promise<Buffer>;
  sourceHash: string;
}

/** Builds a file set from path → content (an `executable` suffix `*` marks mode 755). */
export function fileSet(entries: Record<string, string | Buffer>): FileSet {
  const blobs = new Map<string, Buffer>();
  const contents = new Map<string, Buffer>();
  const files: VersionFile[] = [];
  for (const [key, value] of Object.entries(entries)) {
    const executable = key.endsWith('*');
    const path = executable ? key.slice(0, -1) : key;
    const content = typeof value === 'string' ? Buffer.from(value) : value;
    const sha256 = createHash('sha256').update(content).digest('hex');
    blobs.set(sha256, content);
    contents.set(path, content);
    files.push({ path, size: content.length, sha256, executable });
  }
  const readBlob = async (sha256: string) => {
    const blob = blobs.get(sha256);
    if (!blob) throw new Error(`no blob ${sha256}`);
    return blob;
  };
  return { files, contents, readBlob, sourceHash: summarizeSource(files).hash };
}

/** The manifest bytes of version `version` of a file set. */
export function manifestOf(set: FileSet, version: number, availableInCatalog = false): Buffer {
  return serializeManifest(
    buildManifest({
      appName: 'Customer Console',
      source: summarizeSource(set.files),
      provider: 'git',
      owner: 'acme',
      repo: 'console',
      version,
      availableInCatalog,
    }),
  );
}

/** A temp folder removed by the returned function. */
export async function tempDir(
  prefix: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

/** Runs git directly (outside the mirror's runner), as a person inspecting a repository would. */
export async function git(gitDir: string | null, args: string[], input?: string): Promise<string> {
  const full = gitDir ? ['--git-dir', gitDir, ...args] : args;
  if (input === undefined) {
    const { stdout } = await run('git', full, { env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  }
  return new Promise((resolve, reject) => {
    const child = execFile('git', full, { env: GIT_ENV }, (err, stdout) =>
      err ? reject(err) : resolve(stdout.trim()),
    );
    child.stdin!.end(input);
  });
}

/** `git fsck --strict` of a repository; throws with git's output when anything is wrong. */
export async function fsckStrict(gitDir: string): Promise<void> {
  await git(gitDir, ['fsck', '--strict', '--no-dangling', '--no-progress']);
}

export const CREATED_AT = '2026-03-01T10:00:00.000Z';

/** Reads a tar stream into path → content (files only), as a worker unpacking a restore would. */
export async function readTar(stream: NodeJS.ReadableStream): Promise<Map<string, Buffer>> {
  const { Parser } = await import('tar');
  const files = new Map<string, Buffer>();
  const parser = new Parser();
  parser.on('entry', (entry) => {
    const chunks: Buffer[] = [];
    entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    entry.on('end', () => {
      if (entry.type === 'File') files.set(entry.path, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    parser.on('error', reject);
    parser.on('end', () => resolve());
    stream.pipe(parser as unknown as NodeJS.WritableStream);
  });
  return files;
}
