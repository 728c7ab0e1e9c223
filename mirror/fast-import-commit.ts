import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { GatewayError } from '../core/errors.js';
import { localGitError } from './git-failure.js';
import { spawnGit } from './git-runner.js';
import { signatureAt } from './identity.js';

/** One file of a version as the caller knows it: content comes from `readBlob(sha256)`. */
export interface VersionFile {
  path: string;
  size: number;
  sha256: string;
  executable?: boolean;
}

/** A file whose bytes are already in memory (the manifest). */
export interface InlineFile {
  path: string;
  content: Buffer;
}

export interface CommitObjectsInput {
  gitDir: string;
  /** The whole tree when `replaceTree` is true; otherwise changes on top of the parent's tree. */
  files: readonly VersionFile[];
  inline: readonly InlineFile[];
  readBlob: (sha256: string) => Promise<Buffer>;
  parent: string | null;
  message: string;
  createdAt: string;
  /** Start from an empty tree (a version) rather than the parent's tree (a manifest change). */
  replaceTree: boolean;
  timeoutMs: number;
}

// fast-import must be given a branch for a commit. This one is reset before the stream ends,
// so fast-import never writes it: refs move only in the caller's one ref transaction.
const SCRATCH_REF = 'refs/second-app-scratch/commit';

// How many blob bytes may be read ahead of what fast-import has taken, so reading from the
// store overlaps with git's hashing and compression without holding a whole version in memory.
const READ_AHEAD_BYTES = 32 * 1024 * 1024;
const READ_AHEAD_FILES = 16;

// A second fast-import always takes half of the blobs: fast-import compresses, hashes and writes
// on one core, which is most of a large version's time. Small versions pay one process start
// for it (a few ms), and in return every version costs the same number of git processes.

const FAST_IMPORT_ARGS = ['fast-import', '--quiet', '--done', '--depth=0'];
// Below the unpack limit fast-import would explode its pack into loose objects, one file and
// often one folder each: far slower than keeping the one pack, which gc merges later.
const FAST_IMPORT_CONFIG = ['pack.compression=1', 'core.compression=1', 'fastimport.unpackLimit=0'];

/**
 * Writes every blob, the trees and one commit with `git fast-import`, and answers the commit's
 * SHA. Blobs already in the repository's packs are skipped by git itself. Two processes (a helper
 * writes half the blobs on the other core), whatever the number of files.
 */
export async function writeCommitObjects(input: CommitObjectsInput): Promise<string> {
  const signature = signatureAt(input.createdAt);
  const { own, helped } = splitBlobs(distinctBlobs(input.files));
  const proc = startFastImport(input);
  const output: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  const helper = helped.length > 0 ? writeBlobsAside(input, helped) : null;
  // Settled below or when the main import fails; never reported as unhandled meanwhile.
  helper?.oids.catch(() => undefined);

  try {
    const marks = new Map<string, string>();
    const readAhead = helper === null ? READ_AHEAD_BYTES : READ_AHEAD_BYTES / 2;
    await streamBlobs(proc.stdin, own, input.readBlob, readAhead, marks, 2);
    // The commit may name the helper's blobs only once they are in a pack of their own.
    if (helper !== null) for (const [sha256, oid] of await helper.oids) marks.set(sha256, oid);

    const lines: string[] = [
      `commit ${SCRATCH_REF}`,
      'mark :1',
      `author ${signature}`,
      `committer ${signature}`,
    ];
    const message = Buffer.from(
      input.message.endsWith('\n') ? input.message : `${input.message}\n`,
    );
    await write(proc.stdin, `${lines.join('\n')}\ndata ${message.length}\n`);
    await write(proc.stdin, message);

    const body: string[] = [];
    if (input.parent) body.push(`from ${input.parent}`);
    if (input.replaceTree) body.push('deleteall');
    for (const file of input.files) {
      const mode = file.executable ? '100755' : '100644';
      body.push(`M ${mode} ${marks.get(file.sha256)} ${quotePath(file.path)}`);
    }
    await write(proc.stdin, `${body.join('\n')}\n`);
    for (const file of input.inline) {
      await write(
        proc.stdin,
        `M 100644 inline ${quotePath(file.path)}\ndata ${file.content.length}\n`,
      );
      await write(proc.stdin, file.content);
      await write(proc.stdin, '\n');
    }
    await write(proc.stdin, `\nget-mark :1\nreset ${SCRATCH_REF}\n\ndone\n`);
    proc.stdin.end();
  } catch (err) {
    proc.kill();
    await proc.done.catch(() => undefined);
    helper?.stop();
    await helper?.oids.catch(() => undefined);
    throw err;
  }

  const exit = await proc.done;
  if (exit.code !== 0) throw localGitError('writing the version objects', exit);
  const sha = Buffer.concat(output).toString('utf8').trim();
  if (!/^[0-9a-f]{40}$/.test(sha)) {
    throw new GatewayError('internal', 'git fast-import did not report the commit it wrote.');
  }
  return sha;
}

/** One `git fast-import` into the mirror, with the import settings above. */
function startFastImport(input: CommitObjectsInput) {
  return spawnGit({
    gitDir: input.gitDir,
    // No deltas while importing: trying one against the previous blob costs more time than the
    // space it saves, and `maintain()` repacks with proper deltas later.
    args: FAST_IMPORT_ARGS,
    config: FAST_IMPORT_CONFIG,
    timeoutMs: input.timeoutMs,
  });
}

/** Each content once, in the order the files name them. */
function distinctBlobs(files: readonly VersionFile[]): VersionFile[] {
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(file.sha256) && seen.add(file.sha256));
}

/**
 * The blobs the main import writes and those a helper import writes beside it, alternated by
 * size so both carry about half the bytes (a lone blob stays with the main import).
 */
function splitBlobs(blobs: VersionFile[]): { own: VersionFile[]; helped: VersionFile[] } {
  const own: VersionFile[] = [];
  const helped: VersionFile[] = [];
  let ownBytes = 0;
  let helpedBytes = 0;
  for (const file of blobs) {
    if (ownBytes <= helpedBytes) {
      own.push(file);
      ownBytes += file.size;
    } else {
      helped.push(file);
      helpedBytes += file.size;
    }
  }
  return { own, helped };
}

/** A helper import under way: the object ids it will answer, and a way to stop it early. */
interface BlobsAside {
  oids: Promise<Map<string, string>>;
  stop(): void;
}

/**
 * Writes blobs with a second fast-import; `oids` answers sha256 → git object id once its pack
 * is complete, so the main import can name them. Its objects are unreachable until the main
 * import's commit names them, like the main import's own until the refs move.
 */
function writeBlobsAside(input: CommitObjectsInput, blobs: VersionFile[]): BlobsAside {
  const proc = startFastImport(input);
  const output: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer) => output.push(chunk));

  const oids = (async () => {
    const marks = new Map<string, string>();
    try {
      await streamBlobs(proc.stdin, blobs, input.readBlob, READ_AHEAD_BYTES / 2, marks, 1);
      const asks = [...marks.values()].map((mark) => `get-mark ${mark}\n`).join('');
      await write(proc.stdin, `${asks}done\n`);
      proc.stdin.end();
    } catch (err) {
      proc.kill();
      await proc.done.catch(() => undefined);
      throw err;
    }

    const exit = await proc.done;
    if (exit.code !== 0) throw localGitError('writing the version objects', exit);
    const written = Buffer.concat(output).toString('utf8').split('\n').filter(Boolean);
    if (written.length !== marks.size || !written.every((oid) => /^[0-9a-f]{40}$/.test(oid))) {
      throw new GatewayError('internal', 'git fast-import did not report the blobs it wrote.');
    }
    const bySha256 = new Map<string, string>();
    [...marks.keys()].forEach((sha256, i) => bySha256.set(sha256, written[i]!));
    return bySha256;
  })();

  return { oids, stop: () => proc.kill() };
}

/**
 * Streams blobs, reading ahead a bounded amount, and records each one's mark (numbered from
 * `firstMark`) in `marks` by sha256.
 */
async function streamBlobs(
  stdin: Writable,
  blobs: readonly VersionFile[],
  readBlob: (sha256: string) => Promise<Buffer>,
  readAheadBytes: number,
  marks: Map<string, string>,
  firstMark: number,
): Promise<void> {
  for (const [i, file] of blobs.entries()) marks.set(file.sha256, `:${firstMark + i}`);

  const pending: { file: VersionFile; content: Promise<Buffer> }[] = [];
  let aheadBytes = 0;
  let next = 0;
  const fill = () => {
    while (
      next < blobs.length &&
      pending.length < READ_AHEAD_FILES &&
      (pending.length === 0 || aheadBytes + blobs[next].size <= readAheadBytes)
    ) {
      const file = blobs[next++];
      aheadBytes += file.size;
      const content = readBlob(file.sha256);
      // Settled later in order; a rejection is observed there, not reported as unhandled here.
      content.catch(() => undefined);
      pending.push({ file, content });
    }
  };

  fill();
  while (pending.length > 0) {
    const { file, content } = pending.shift()!;
    const bytes = await content;
    aheadBytes -= file.size;
    // The store is content-addressed, so a mismatch is corruption: better no version than a
    // commit whose files differ from the source hash it claims.
    if (
      bytes.length !== file.size ||
      createHash('sha256').update(bytes).digest('hex') !== file.sha256
    ) {
      throw new GatewayError(
        'hash_mismatch',
        `The stored content of ${file.path} does not match its sha256.`,
      );
    }
    await write(stdin, `blob\nmark ${marks.get(file.sha256)}\ndata ${bytes.length}\n`);
    await write(stdin, bytes);
    await write(stdin, '\n');
    fill();
  }
}

/** fast-import reads a path to the end of the line; only a leading quote needs C quoting. */
function quotePath(path: string): string {
  return path.startsWith('"') ? `"${path.replace(/"/g, '\\"')}"` : path;
}

async function write(stream: Writable, chunk: string | Buffer): Promise<void> {
  if (stream.destroyed) throw new GatewayError('internal', 'git fast-import stopped early.');
  if (stream.write(chunk)) return;

  // Waits for room, or for the process to go away; both listeners are removed either way.
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
