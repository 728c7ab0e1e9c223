import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../../core/errors.js';

/** A file's content, hashed and written once to the staging folder under its sha256. */
export interface StagedContent {
  sha256: string;
  size: number;
  stagedPath: string;
}

// Content up to this size is held in memory until its hash is known, so a file whose content
// is staged already costs no write at all; larger content streams to a temporary file.
const IN_MEMORY_BYTES = 256 * 1024;

// Files being written at once, at most: enough to keep the disk busy, far below any limit on
// open file handles.
const MAX_FILES_IN_FLIGHT = 32;

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
    return this.#stager.commit(sha256, this.#size, this.#memory, this.#stream, this.#temporaryPath);
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
 * Stages file contents in a private folder, one file per distinct sha256, and knows every path
 * it created so that a failed read leaves nothing behind.
 */
export class ContentStager {
  readonly #dir: string;
  readonly #created = new Set<string>();
  readonly #staged = new Map<string, Promise<string>>();
  readonly #open = new Set<WriteStream>();
  readonly #work = new Set<Promise<unknown>>();
  #temporaryCount = 0;
  #failure: GatewayError | null = null;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Starts receiving one file. */
  begin(): StagingFile {
    return new StagingFile(this);
  }

  /**
   * Resolves when no open file has writes waiting on the disk and few enough files are being
   * staged; rejects on a write failure. The reader waits on this between slices of input, which
   * bounds both memory and open file handles whatever the archive holds.
   */
  async drained(): Promise<void> {
    this.#throwIfFailed();
    while (this.#work.size > MAX_FILES_IN_FLIGHT) {
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

  /** Waits for every file begun so far to be staged; rejects with the first failure. */
  async settle(): Promise<void> {
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
    this.#throwIfFailed();
  }

  /** Removes every file this stager created (after waiting for writes in flight). */
  async removeAll(): Promise<void> {
    for (const stream of this.#open) stream.destroy();
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
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

  /** @internal Stages finished content under its sha256, or drops it when staged already. */
  commit(
    sha256: string,
    size: number,
    memory: Buffer[] | null,
    stream: WriteStream | null,
    temporaryPath: string | null,
  ): Promise<StagedContent> {
    const target = join(this.#dir, sha256);
    const already = this.#staged.get(sha256);

    const staging = (async (): Promise<string> => {
      if (already !== undefined) {
        if (stream !== null) {
          await closeStream(stream);
          await rm(temporaryPath!, { force: true });
          this.#created.delete(temporaryPath!);
        }
        return already;
      }

      this.#created.add(target);
      if (stream === null) {
        await writeFile(target, Buffer.concat(memory!), { flag: 'wx', mode: 0o600 });
      } else {
        await closeStream(stream);
        await rename(temporaryPath!, target);
        this.#created.delete(temporaryPath!);
      }
      return target;
    })();

    if (already === undefined) this.#staged.set(sha256, staging);
    const done = staging.then((stagedPath) => ({ sha256, size, stagedPath }));
    this.#track(done);
    return done;
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
