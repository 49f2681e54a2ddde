/**
 * A Bloom filter over string keys: "certainly absent" or "maybe present". Used to skip disk reads
 * for keys that were never written (a new Idempotency-Key is by far the common case), which would
 * otherwise cost a LevelDB read on every request.
 *
 * No false negatives: every added key answers "maybe present". False positives only cost the disk
 * read the filter normally saves. Sized for `capacity` keys at about 1% false positives; past
 * that the rate grows slowly, and correctness never depends on it.
 */
export class KeyFilter {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  readonly #hashes = 7;
  #count = 0;

  constructor(capacity: number) {
    // ~9.6 bits per key for 1% at k = 7, rounded up to a power of two so indexing is a mask.
    let size = 1 << 16;
    while (size < capacity * 10) size *= 2;
    this.#bits = new Uint32Array(size / 32);
    this.#mask = size - 1;
  }

  /** Keys added so far. */
  get count(): number {
    return this.#count;
  }

  add(key: string): void {
    hashes(key);
    const h1 = H1;
    const h2 = H2;
    for (let i = 0; i < this.#hashes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      this.#bits[bit >>> 5] |= 1 << (bit & 31);
    }
    this.#count++;
  }

  /** False only when `key` was certainly never added. */
  mightContain(key: string): boolean {
    hashes(key);
    const h1 = H1;
    const h2 = H2;
    for (let i = 0; i < this.#hashes; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      if ((this.#bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Results of {@link hashes} (module-level, so hashing allocates nothing). */
let H1 = 0;
let H2 = 0;

/** Two independent 32-bit hashes (FNV-1a and a murmur-style mix) for double hashing, into H1 and H2. */
function hashes(key: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  H1 = a >>> 0;
  H2 = (b ^ (b >>> 16)) | 1;
}
