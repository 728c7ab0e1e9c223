import { Parser, type ReadEntry } from 'tar';
import { GatewayError } from '../../core/errors.js';
import { MAX_META_BYTES } from './archive-limits.js';
import type { FramedEntry } from './tar-framer.js';

const NODE_TAR_TYPES: Record<string, readonly string[]> = {
  file: ['File', 'OldFile', 'ContiguousFile'],
  directory: ['Directory'],
  symlink: ['SymbolicLink'],
};

interface Expected {
  entry: FramedEntry;
  receive(readEntry: ReadEntry): void;
}

function disagreement(reason: string, cause?: unknown): GatewayError {
  return new GatewayError('invalid_archive', `The body is not a valid tar archive: ${reason}.`, {
    cause,
  });
}

/**
 * node-tar's strict parser, fed by the raw framer, checked against it entry by entry: each
 * entry node-tar produces must be the one the framer announced, of the same type and size. Two
 * independent readings that disagree mean an archive built to be read two ways; it is refused.
 */
export class CheckedTarParser {
  readonly #parser: Parser;
  readonly #expected: Expected[] = [];
  readonly #ended: Promise<void>;
  #failure: GatewayError | null = null;

  constructor() {
    // The body reaches node-tar already gunzipped, so its own sniffing of compression is off.
    this.#parser = new Parser({
      strict: true,
      maxMetaEntrySize: MAX_META_BYTES,
      zstd: false,
      brotli: false,
    });

    this.#parser.on('entry', (readEntry: ReadEntry) => this.#receive(readEntry));
    this.#parser.on('ignoredEntry', () => this.#fail(disagreement('an entry node-tar skipped')));
    this.#ended = new Promise((resolve) => {
      this.#parser.on('end', resolve);
      this.#parser.on('error', (error: unknown) => {
        this.#fail(disagreement('node-tar refused it', error));
        resolve();
      });
    });
  }

  /** Announces the next entry and what to do with its body when node-tar hands it over. */
  expect(entry: FramedEntry, receive: (readEntry: ReadEntry) => void): void {
    this.#expected.push({ entry, receive });
  }

  /** Feeds bytes the framer forwarded. */
  write(bytes: Buffer): void {
    this.#throwIfFailed();
    this.#parser.write(bytes);
    this.#throwIfFailed();
  }

  /** Ends the input and waits for node-tar to finish; every announced entry must have come. */
  async end(): Promise<void> {
    this.#throwIfFailed();
    this.#parser.end();
    await this.#ended;
    this.#throwIfFailed();
    if (this.#expected.length > 0) throw disagreement('node-tar read fewer entries');
  }

  #receive(readEntry: ReadEntry): void {
    const expected = this.#expected.shift();

    if (expected === undefined) {
      this.#fail(disagreement('node-tar read an entry the raw reading did not'));
    } else if (!NODE_TAR_TYPES[expected.entry.kind]?.includes(readEntry.type)) {
      this.#fail(disagreement('node-tar read an entry of another type'));
    } else if (readEntry.size !== expected.entry.size) {
      this.#fail(disagreement('node-tar read an entry of another size'));
    }

    if (this.#failure !== null || expected === undefined) {
      readEntry.resume();
      return;
    }
    expected.receive(readEntry);
  }

  #fail(error: GatewayError): void {
    this.#failure ??= error;
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure;
  }
}
