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

/**
 * Writes every blob, the trees and one commit with a single `git fast-import`, and answers the
 * commit's SHA. Blobs already in the repository's packs are skipped by git itself; the number
 * of processes is one whatever the number of files.
 */
export async function writeCommitObjects(input: CommitObjectsInput): Promise<string> {
  const signature = signatureAt(input.createdAt);
  const proc = spawnGit({
    gitDir: input.gitDir,
    // No deltas while importing: trying one against the previous blob costs more time than the
    // space it saves, and `maintain()` repacks with proper deltas later.
    args: ['fast-import', '--quiet', '--done', '--depth=0'],
    // Below the unpack limit fast-import would explode its pack into loose objects, one file and
    // often one folder each: far slower than keeping the one pack, which gc merges later.
    config: ['pack.compression=1', 'core.compression=1', 'fastimport.unpackLimit=0'],
    timeoutMs: input.timeoutMs,
  });
  const output: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer) => output.push(chunk));

  try {
    const marks = await streamBlobs(proc.stdin, input);
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

/** Streams each distinct blob once, reading ahead a bounded amount; answers sha256 → mark. */
async function streamBlobs(
  stdin: Writable,
  input: CommitObjectsInput,
): Promise<Map<string, string>> {
  const marks = new Map<string, string>();
  const unique = input.files.filter((file) => {
    if (marks.has(file.sha256)) return false;
    marks.set(file.sha256, `:${marks.size + 2}`);
    return true;
  });

  const pending: { file: VersionFile; content: Promise<Buffer> }[] = [];
  let aheadBytes = 0;
  let next = 0;
  const fill = () => {
    while (
      next < unique.length &&
      pending.length < READ_AHEAD_FILES &&
      (pending.length === 0 || aheadBytes + unique[next].size <= READ_AHEAD_BYTES)
    ) {
      const file = unique[next++];
      aheadBytes += file.size;
      const content = input.readBlob(file.sha256);
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
  return marks;
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
