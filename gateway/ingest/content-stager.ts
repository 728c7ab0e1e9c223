import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../../core/errors.js';
import type { StagedLocation } from './staged-content.js';

/** A file's content, hashed and written once to the staging folder. */
export interface StagedContent {
  sha256: string;
  size: number;
  location: StagedLocation;
}

// Content up to this size is held in memory until its hash is known, then appended to the one
// shared spool file of the read; larger content streams to a file of its own. Creating a file
// costs far more than writing its bytes (a journal entry, an inode, a directory slot), and an
// app is mostly small files: one file per distinct content made staging most of a read's time.
const IN_MEMORY_BYTES = 256 * 1024;

// Small contents are appended to the spool in batches of about this many bytes, one positional
// write each, which also bounds what a batch holds in memory.
const SPOOL_BATCH_BYTES = 512 * 1024;

// The name of the spool in the staging folder; content files are named by their sha256, which
// is 64 hex digits, so the two cannot meet.
const SPOOL_NAME = 'small-contents';

// Writes (spool batches, large files) in flight at once, at most: enough to keep the disk busy,
// far below any limit on open file handles, and with the batch size a bound on memory.
const MAX_WRITES_IN_FLIGHT = 32;

function asStagingError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new GatewayError('storage_full', undefined, { cause: error });
  }
  return new GatewayError('internal', 'Staging an uploaded file failed.', { cause: error });
}

/** One file being received: bytes in, hashed as they pass, staged when it ends. */
export class StagingFile {
  readonly #stager: ContentStager;
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #memory: Buffer[] | null = [];
  #stream: WriteStream | null = null;
  #temporaryPath: string | null = null;

  constructor(stager: ContentStager) {
    this.#stager = stager;
  }

  /** The bytes received so far. */
  get size(): number {
    return this.#size;
  }

  /** Adds bytes. Returns false when the disk is behind; `ContentStager.drained` waits for it. */
  write(chunk: Buffer): boolean {
    this.#hash.update(chunk);
    this.#size += chunk.length;

    if (this.#memory !== null) {
      this.#memory.push(chunk);
      if (this.#size <= IN_MEMORY_BYTES) return true;
      this.#spill();
      return this.#stream!.writableNeedDrain === false;
    }
    return this.#stream!.write(chunk);
  }

  /** The content is complete: stages it (once per sha256) and says where. */
  end(): Promise<StagedContent> {
    const sha256 = this.#hash.digest('hex');
    if (this.#memory !== null) return this.#stager.commitSmall(sha256, this.#size, this.#memory);
    return this.#stager.commitLarge(sha256, this.#size, this.#stream!, this.#temporaryPath!);
  }

  #spill(): void {
    const { stream, path } = this.#stager.openTemporary();
    this.#stream = stream;
    this.#temporaryPath = path;
    for (const piece of this.#memory!) stream.write(piece);
    this.#memory = null;
  }
}

/**
 * Stages file contents in a private folder, each distinct sha256 once: small contents packed
 * one after another into a single spool file, large ones in a file each named by their sha256.
 * It knows every path it created, so that a failed read leaves nothing behind.
 */
export class ContentStager {
  readonly #dir: string;
  readonly #spoolPath: string;
  readonly #created = new Set<string>();
  readonly #staged = new Map<string, Promise<StagedLocation>>();
  readonly #open = new Set<WriteStream>();
  readonly #work = new Set<Promise<unknown>>();
  #spool: Promise<FileHandle> | null = null;
  #spoolBytes = 0;
  #batch: Buffer[] = [];
  #batchStart = 0;
  #batchBytes = 0;
  #temporaryCount = 0;
  #failure: GatewayError | null = null;

  constructor(dir: string) {
    this.#dir = dir;
    this.#spoolPath = join(dir, SPOOL_NAME);
  }

  /** Starts receiving one file. */
  begin(): StagingFile {
    return new StagingFile(this);
  }

  /**
   * Resolves when no open file has writes waiting on the disk and few enough writes are in
   * flight; rejects on a write failure. The reader waits on this between slices of input, which
   * bounds both memory and open file handles whatever the archive holds.
   */
  async drained(): Promise<void> {
    this.#throwIfFailed();
    while (this.#work.size > MAX_WRITES_IN_FLIGHT) {
      // A failure lands in #failure through #track; the race only waits.
      await Promise.race(this.#work).catch(() => undefined);
    }
    for (const stream of this.#open) {
      if (!stream.writableNeedDrain) continue;
      await new Promise<void>((resolve) => {
        stream.once('drain', resolve);
        stream.once('close', resolve);
      });
    }
    this.#throwIfFailed();
  }

  /**
   * Writes what is still batched, waits for every file begun so far to be staged and closes the
   * spool; rejects with the first failure. Nothing may be staged after it.
   */
  async settle(): Promise<void> {
    this.#flush();
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
    await this.#closeSpool();
    this.#throwIfFailed();
  }

  /** Removes every file this stager created (after waiting for writes in flight). */
  async removeAll(): Promise<void> {
    for (const stream of this.#open) stream.destroy();
    this.#batch = [];
    this.#batchBytes = 0;
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
    await this.#closeSpool().catch(() => undefined);
    await Promise.all([...this.#created].map((path) => rm(path, { force: true })));
    this.#created.clear();
  }

  /** @internal A temporary file for content too large to hold until its hash is known. */
  openTemporary(): { stream: WriteStream; path: string } {
    this.#temporaryCount += 1;
    const path = join(this.#dir, `incoming-${this.#temporaryCount}`);
    this.#created.add(path);
    const stream = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    this.#open.add(stream);
    stream.on('error', (error) => this.#fail(error));
    stream.on('close', () => this.#open.delete(stream));
    return { stream, path };
  }

  /** @internal Appends small finished content to the spool, or reuses its earlier copy. */
  commitSmall(sha256: string, size: number, memory: Buffer[]): Promise<StagedContent> {
    let location = this.#staged.get(sha256);
    if (location === undefined) {
      // The offset is taken now, in the order contents end, so it never depends on when the
      // batch holding the bytes reaches the disk.
      const placed: StagedLocation = { path: this.#spoolPath, offset: this.#spoolBytes };
      location = Promise.resolve(placed);
      this.#staged.set(sha256, location);
      if (size > 0) this.#append(memory.length === 1 ? memory[0]! : Buffer.concat(memory, size));
    }
    return location.then((where) => ({ sha256, size, location: where }));
  }

  /** @internal Names finished large content by its sha256, or drops it when staged already. */
  commitLarge(
    sha256: string,
    size: number,
    stream: WriteStream,
    temporaryPath: string,
  ): Promise<StagedContent> {
    const target = join(this.#dir, sha256);
    const already = this.#staged.get(sha256);

    const staging = (async (): Promise<StagedLocation> => {
      await closeStream(stream);
      if (already !== undefined) {
        await rm(temporaryPath, { force: true });
        this.#created.delete(temporaryPath);
        return already;
      }
      this.#created.add(target);
      await rename(temporaryPath, target);
      this.#created.delete(temporaryPath);
      return { path: target, offset: 0 };
    })();

    if (already === undefined) this.#staged.set(sha256, staging);
    const done = staging.then((location) => ({ sha256, size, location }));
    this.#track(done);
    return done;
  }

  #append(content: Buffer): void {
    this.#batch.push(content);
    this.#batchBytes += content.length;
    this.#spoolBytes += content.length;
    if (this.#batchBytes >= SPOOL_BATCH_BYTES) this.#flush();
  }

  #flush(): void {
    if (this.#batchBytes === 0) return;
    const buffers = this.#batch;
    const position = this.#batchStart;
    const bytes = this.#batchBytes;
    this.#batch = [];
    this.#batchStart = this.#spoolBytes;
    this.#batchBytes = 0;

    this.#spool ??= this.#openSpool();
    const spool = this.#spool;
    this.#track(spool.then((handle) => writeAll(handle, buffers, bytes, position)));
  }

  async #openSpool(): Promise<FileHandle> {
    this.#created.add(this.#spoolPath);
    return open(this.#spoolPath, 'wx', 0o600);
  }

  async #closeSpool(): Promise<void> {
    const spool = this.#spool;
    this.#spool = null;
    if (spool === null) return;
    // A spool that failed to open has its failure recorded by the write that waited on it.
    const handle = await spool.catch(() => null);
    await handle?.close();
  }

  #track(work: Promise<unknown>): void {
    this.#work.add(work);
    work.then(
      () => this.#work.delete(work),
      (error: unknown) => {
        this.#work.delete(work);
        this.#fail(error);
      },
    );
  }

  #fail(error: unknown): void {
    this.#failure ??= asStagingError(error);
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure;
  }
}

/** One positional write of a batch; a short write is retried from where it stopped. */
async function writeAll(
  handle: FileHandle,
  buffers: Buffer[],
  bytes: number,
  position: number,
): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten === bytes) return;

  // A regular file writes short only when the disk fills; writing the rest then fails with the
  // error that says so.
  const rest = Buffer.concat(buffers, bytes).subarray(bytesWritten);
  let written = 0;
  while (written < rest.length) {
    const result = await handle.write(
      rest,
      written,
      rest.length - written,
      position + bytesWritten + written,
    );
    if (result.bytesWritten === 0) throw new GatewayError('storage_full');
    written += result.bytesWritten;
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.closed) {
      resolve();
      return;
    }
    stream.once('error', reject);
    stream.once('close', resolve);
    stream.end();
  });
}
