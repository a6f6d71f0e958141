/**
 * Bulk construction of the state tree (a node restarting loads its whole state): instead of
 * n insertions (each a path walk and a chain of new nodes), compute every path once, sort
 * the paths, and build the canonical tree over the sorted run top-down, creating and
 * hashing each node exactly once. Entries may come in any order. Measured: ~3 s of CPU for
 * a million entries, root included (scripts/bench-smt.ts).
 */
import { HASH_LENGTH } from '../crypto/hash.js';
import { ZERO_DIGEST, bytesToLatin1, hashBytes, hashLatin1, hashPair, hashPairBytes, type Digest } from './fast-hash.js';
import { Branch, INTERIOR_PREFIX, LEAF_PREFIX, Leaf, SmtError, join, type Node } from './smt-node.js';

/** Collects entries (e.g. streamed from the store), then builds the tree once. A key given twice keeps its last value. */
export class SmtBuilder {
  private keys: string[] = [];
  private values: string[] = [];
  /** All paths back to back, 32 bytes each (one allocation instead of a string per entry). */
  private paths = new Uint8Array(HASH_LENGTH * 1024);
  private built = false;

  get count(): number {
    return this.keys.length;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    if (this.built) throw new SmtError('builder-spent', 'SmtBuilder.add after build');
    const i = this.keys.length;
    if ((i + 1) * HASH_LENGTH > this.paths.length) {
      const grown = new Uint8Array(this.paths.length * 2);
      grown.set(this.paths);
      this.paths = grown;
    }
    const path = hashBytes(key);
    const at = i * HASH_LENGTH;
    for (let j = 0; j < HASH_LENGTH; j++) this.paths[at + j] = path.charCodeAt(j);
    this.keys.push(bytesToLatin1(key));
    this.values.push(bytesToLatin1(value));
  }

  /** The root node and the number of distinct keys. The builder is spent afterwards. */
  build(): { readonly node: Node; readonly size: number } {
    if (this.built) throw new SmtError('builder-spent', 'SmtBuilder built twice');
    this.built = true;
    const { keys, values } = this;
    const { paths, order } = sortByPath(this.paths, keys.length);
    this.keys = [];
    this.values = [];
    this.paths = new Uint8Array(0);
    const run = new BuildRun(keys, values, paths, order);
    const node = run.build(0, keys.length, 0);
    return { node, size: keys.length - run.duplicates };
  }
}

/** Lexicographic order of two paths (entries a and b of the slab), ties by entry index. */
function comparePaths(paths: Uint8Array, a: number, b: number): number {
  const pa = a * HASH_LENGTH;
  const pb = b * HASH_LENGTH;
  for (let i = 0; i < HASH_LENGTH; i++) {
    const d = paths[pa + i]! - paths[pb + i]!;
    if (d !== 0) return d;
  }
  return a - b;
}

/**
 * Sorts the first n paths: a counting sort on the leading 8 or 16 bits, then each bucket
 * sorted by whole path (few entries each, as paths are uniform; a plain sort keeps a bucket
 * crowded on purpose from going quadratic). Returns the paths in that order, back to back,
 * and for each position the entry it came from. The building that follows then reads
 * memory in order, where partitioning the unsorted slab missed the cache on every access.
 */
function sortByPath(unsorted: Uint8Array, n: number): { paths: Uint8Array; order: Int32Array } {
  const wide = n > 1 << 16;
  const bucketOf = (e: number): number =>
    wide ? (unsorted[e * HASH_LENGTH]! << 8) | unsorted[e * HASH_LENGTH + 1]! : unsorted[e * HASH_LENGTH]!;
  const starts = new Int32Array((wide ? 1 << 16 : 1 << 8) + 1);
  for (let e = 0; e < n; e++) starts[bucketOf(e) + 1]!++;
  for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
  const order = new Int32Array(n);
  const fill = starts.slice(0, -1);
  for (let e = 0; e < n; e++) order[fill[bucketOf(e)]!++] = e;
  for (let b = 0; b + 1 < starts.length; b++) {
    const lo = starts[b]!;
    const hi = starts[b + 1]!;
    if (hi - lo <= 32) {
      for (let i = lo + 1; i < hi; i++) {
        const e = order[i]!;
        let j = i - 1;
        for (; j >= lo && comparePaths(unsorted, order[j]!, e) > 0; j--) order[j + 1] = order[j]!;
        order[j + 1] = e;
      }
    } else {
      order.subarray(lo, hi).sort((a, b) => comparePaths(unsorted, a, b));
    }
  }
  const paths = new Uint8Array(n * HASH_LENGTH);
  for (let i = 0; i < n; i++) {
    const from = order[i]! * HASH_LENGTH;
    const to = i * HASH_LENGTH;
    for (let j = 0; j < HASH_LENGTH; j++) paths[to + j] = unsorted[from + j]!;
  }
  return { paths, order };
}

class BuildRun {
  duplicates = 0;

  constructor(
    private readonly keys: readonly string[],
    private readonly values: readonly string[],
    /** Sorted paths, back to back. */
    private readonly paths: Uint8Array,
    /** The entry at each sorted position. */
    private readonly order: Int32Array,
  ) {}

  private bit(position: number, depth: number): number {
    return (this.paths[position * HASH_LENGTH + (depth >>> 3)]! >>> (7 - (depth & 7))) & 1;
  }

  private samePath(a: number, b: number): boolean {
    for (let i = 0; i < HASH_LENGTH; i++) {
      if (this.paths[a * HASH_LENGTH + i] !== this.paths[b * HASH_LENGTH + i]) return false;
    }
    return true;
  }

  /** The hash of the subtree that `build` returned last (a side channel: no pair allocated per node). */
  private digest: Digest = ZERO_DIGEST;

  private leaf(position: number): Leaf {
    const entry = this.order[position]!;
    const leaf = new Leaf(this.keys[entry]!, this.values[entry]!);
    this.digest = hashPairBytes(LEAF_PREFIX, this.paths, position * HASH_LENGTH, hashLatin1(leaf.value));
    return leaf;
  }

  /**
   * The canonical subtree at `depth` over sorted positions lo..hi-1, which share their
   * first `depth` path bits; so bit `depth` is 0 for a first run of them and 1 after.
   *
   * It is hashed on the way: the root is nearly always wanted next (a restarting node
   * checks it against the tip's header), and here the paths are at hand, which saves the
   * lazy hashing a sha256 per leaf.
   */
  build(lo: number, hi: number, depth: number): Node {
    const count = hi - lo;
    if (count === 0) {
      this.digest = ZERO_DIGEST;
      return null;
    }
    if (count === 1) return this.leaf(lo);
    if (this.samePath(lo, hi - 1)) {
      // Sorted, so all equal: the same key given more than once. Ties are sorted by entry
      // index, so the last position is the last one given, which wins.
      this.duplicates += count - 1;
      return this.leaf(hi - 1);
    }
    // The first position whose bit `depth` is 1.
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (this.bit(mid, depth) === 0) a = mid + 1;
      else b = mid;
    }
    const left = this.build(lo, a, depth + 1);
    const leftDigest = this.digest;
    const right = this.build(a, hi, depth + 1);
    const node = join(left, right);
    if (node instanceof Branch) {
      node.hash = hashPair(INTERIOR_PREFIX, leftDigest, this.digest);
      this.digest = node.hash;
    } else if (right === null) {
      // One leaf (shortcut): its hash is the same at any depth.
      this.digest = leftDigest;
    }
    return node;
  }
}
