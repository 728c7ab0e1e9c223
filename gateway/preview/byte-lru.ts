/**
 * A least-recently-used cache bounded by the bytes of its values. A Map keeps insertion order,
 * so a hit re-inserts its key and the oldest key is always first.
 */
export class ByteLru<K, V extends { byteLength: number }> {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;
  readonly #largest: number;
  #bytes = 0;

  /**
   * `capacity` bytes in all; values larger than `largestEntry` are never kept, so one big file
   * cannot flush every small one.
   */
  constructor(capacity: number, largestEntry = Math.floor(capacity / 8)) {
    this.#capacity = capacity;
    this.#largest = largestEntry;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    if (value.byteLength > this.#largest) return;

    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= previous.byteLength;
    }

    this.#entries.set(key, value);
    this.#bytes += value.byteLength;

    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.#capacity) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.byteLength;
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }
}
