// The order-statistic index behind every leaderboard: a treap (randomised balanced search tree) whose nodes carry
// their subtree's size, so rank, the k-th entry, top-N from a cursor and around-me are all O(log n).
//
// Memory is the constraint: an isolate has 128 MB and a board must stay exact at 1,000,000 entries. So an entry here
// is only numbers: its `slot` (a small integer the caller owns: the board uses its entries table's integer key) is
// the node's index into six typed arrays, 32 bytes in all. Player ids never enter the index; the caller turns slots
// into ids for the few rows it returns. A Map of ids and a string per entry would cost 5–8× as much.
// Pure: no I/O, no clock; randomness only shapes the tree, never an answer.
//
// Order: `sortKey` ascending (the caller maps a descending board to -score), then `reachedAt` ascending (earlier to
// reach the score ranks higher), then the slot (the board hands slots out in arrival order, so of two entries that
// reached the same score in the same millisecond, the one that joined the board first ranks higher, every time).

export type RankEntry = { slot: number; score: number; reachedAt: number };
/** A position in the order: what a page cursor remembers, so the next page starts after it even if ranks moved. */
export type RankKey = { sortKey: number; reachedAt: number; slot: number };

const NIL = 0;

export class RankIndex {
  private cap: number;
  private sortKey: Float64Array;
  private at: Float64Array;
  private left: Int32Array;
  private right: Int32Array;
  /** Subtree size; 0 marks a slot that holds no entry (size[NIL] stays 0 too). */
  private size: Int32Array;
  private prio: Uint32Array;
  private root = NIL;
  private seed: number;

  /** `descending`: higher scores rank first (the usual board). Slots are 1-based; `capacity` is a hint. */
  constructor(
    readonly descending = true,
    capacity = 1024,
    seed = 0x9e3779b9,
  ) {
    this.cap = Math.max(2, capacity);
    this.sortKey = new Float64Array(this.cap);
    this.at = new Float64Array(this.cap);
    this.left = new Int32Array(this.cap);
    this.right = new Int32Array(this.cap);
    this.size = new Int32Array(this.cap);
    this.prio = new Uint32Array(this.cap);
    this.seed = seed >>> 0 || 1;
  }

  /** Bytes of typed array per slot: everything the index holds. */
  static readonly BYTES_PER_SLOT = 8 + 8 + 4 + 4 + 4 + 4;

  get count(): number {
    return this.size[this.root];
  }

  /** Bytes the index holds now (its slot capacity, which grows by doubling, times BYTES_PER_SLOT). */
  get bytes(): number {
    return this.cap * RankIndex.BYTES_PER_SLOT;
  }

  has(slot: number): boolean {
    return Number.isInteger(slot) && slot > NIL && slot < this.cap && this.size[slot] > 0;
  }

  get(slot: number): RankEntry | null {
    return this.has(slot) ? this.entry(slot) : null;
  }

  /** Adds or moves an entry. O(log n). */
  upsert(slot: number, score: number, reachedAt: number): void {
    if (!Number.isInteger(slot) || slot <= NIL) throw new RangeError(`slot must be a positive integer, got ${slot}`);
    if (this.has(slot)) this.remove(slot);
    this.ensure(slot + 1);
    this.place(slot, this.keyOf(score), reachedAt, this.random());
    const [l, r] = this.split(this.root, this.sortKey[slot], reachedAt, slot);
    this.root = this.merge(this.merge(l, slot), r);
  }

  remove(slot: number): boolean {
    if (!this.has(slot)) return false;
    this.root = this.removeAt(this.root, slot);
    this.size[slot] = 0;
    this.left[slot] = NIL;
    this.right[slot] = NIL;
    return true;
  }

  /** 1-based rank of an entry, or 0 if absent. O(log n). */
  rank(slot: number): number {
    return this.has(slot) ? this.before(this.sortKey[slot], this.at[slot], slot) + 1 : 0;
  }

  /** The entry at 1-based rank `r`, or null. O(log n). */
  atRank(r: number): RankEntry | null {
    const n = this.select(r - 1);
    return n === NIL ? null : this.entry(n);
  }

  /** `limit` entries from 1-based rank `from`, in order. O(log n + limit). */
  range(from: number, limit: number): Array<RankEntry & { rank: number }> {
    const out: Array<RankEntry & { rank: number }> = [];
    if (limit <= 0 || from < 1 || from > this.count) return out;
    // In-order walk from the from-th node with an explicit stack: O(log n) to reach it, O(1) amortised per step.
    const stack: number[] = [];
    let n = this.root;
    let skip = from - 1;
    while (n !== NIL) {
      const ls = this.size[this.left[n]];
      if (skip < ls) {
        stack.push(n);
        n = this.left[n];
      } else if (skip === ls) {
        stack.push(n);
        break;
      } else {
        skip -= ls + 1;
        n = this.right[n];
      }
    }
    let rank = from;
    while (stack.length && out.length < limit) {
      const top = stack.pop()!;
      out.push({ ...this.entry(top), rank: rank++ });
      let c = this.right[top];
      while (c !== NIL) {
        stack.push(c);
        c = this.left[c];
      }
    }
    return out;
  }

  /** How many entries order strictly before `key`: the rank a page after that cursor starts at, minus one. */
  countBefore(key: RankKey): number {
    return this.before(key.sortKey, key.reachedAt, key.slot);
  }

  /** The cursor form of an entry. */
  cursorKey(e: RankEntry): RankKey {
    return { sortKey: this.keyOf(e.score), reachedAt: e.reachedAt, slot: e.slot };
  }

  /** Every entry in rank order. O(n), an object per entry: for tests and small boards, never a big board's hot path. */
  all(): Array<RankEntry & { rank: number }> {
    return this.range(1, this.count);
  }

  clear(): void {
    this.size.fill(0);
    this.left.fill(NIL);
    this.right.fill(NIL);
    this.root = NIL;
  }

  /**
   * Replaces the contents with `count` entries read by `row(i, into)` in rank order (a rebuild reads them straight
   * from an SQL cursor ordered by the same keys): an O(n) balanced build instead of n inserts, with 9 bytes per entry
   * of scratch. Out-of-order input (which SQLite's order never gives) is sorted here rather than trusted.
   */
  buildSorted(count: number, row: (i: number) => RankEntry | null): number {
    this.clear();
    const order = new Int32Array(count);
    let n = 0;
    let sorted = true;
    for (let i = 0; i < count; i++) {
      const e = row(i);
      if (!e) break;
      if (!Number.isInteger(e.slot) || e.slot <= NIL) throw new RangeError(`slot must be a positive integer, got ${e.slot}`);
      this.ensure(e.slot + 1);
      this.place(e.slot, this.keyOf(e.score), e.reachedAt, 0);
      if (n > 0 && sorted && !this.less(order[n - 1], this.sortKey[e.slot], e.reachedAt, e.slot)) sorted = false;
      order[n++] = e.slot;
    }
    const slots = order.subarray(0, n);
    if (!sorted) slots.sort((a, b) => (this.less(a, this.sortKey[b], this.at[b], b) ? -1 : a === b ? 0 : 1));
    // A perfectly balanced tree over the sorted slots, then random priorities handed out by depth (the largest to the
    // root's level): a valid treap whose priorities are distributed as inserts would have made them, so later inserts
    // keep it balanced.
    const depth = new Uint8Array(n);
    const perLevel = new Int32Array(64);
    const build = (lo: number, hi: number, d: number): number => {
      if (lo > hi) return NIL;
      const mid = (lo + hi) >>> 1;
      const node = slots[mid];
      depth[mid] = d;
      perLevel[d]++;
      this.left[node] = build(lo, mid - 1, d + 1);
      this.right[node] = build(mid + 1, hi, d + 1);
      this.pull(node);
      return node;
    };
    this.root = build(0, n - 1, 0);
    const prios = new Uint32Array(n);
    for (let i = 0; i < n; i++) prios[i] = this.random();
    prios.sort();
    const next = new Int32Array(64);
    for (let d = 0, end = n; d < 64; d++) {
      next[d] = end - perLevel[d];
      end = next[d];
    }
    for (let i = 0; i < n; i++) this.prio[slots[i]] = prios[next[depth[i]]++];
    return n;
  }

  /** Depth of the tree (for tests and the bench: stays about 2·log2(n)). */
  depth(): number {
    let max = 0;
    const walk: Array<[number, number]> = this.root === NIL ? [] : [[this.root, 1]];
    while (walk.length) {
      const [n, d] = walk.pop()!;
      if (d > max) max = d;
      if (this.left[n] !== NIL) walk.push([this.left[n], d + 1]);
      if (this.right[n] !== NIL) walk.push([this.right[n], d + 1]);
    }
    return max;
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private keyOf(score: number): number {
    // -0 and 0 must compare equal and ordering must not depend on the sign of zero.
    return this.descending ? (score === 0 ? 0 : -score) : score;
  }

  private scoreOf(key: number): number {
    return this.descending ? (key === 0 ? 0 : -key) : key;
  }

  private entry(n: number): RankEntry {
    return { slot: n, score: this.scoreOf(this.sortKey[n]), reachedAt: this.at[n] };
  }

  /** xorshift32: deterministic per index, so a test can reproduce a tree; the answers never depend on it. */
  private random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }

  private ensure(slots: number) {
    if (slots <= this.cap) return;
    // Doubling while small; past 64 Ki slots a quarter more each time, because growing copies every array and the
    // old and new copies coexist for a moment: at 1,000,000 entries doubling would briefly need 96 MB, this 72 MB.
    let cap = this.cap;
    while (cap < slots) cap = cap < 65_536 ? cap * 2 : Math.ceil(cap * 1.25);
    const grow = <T extends Float64Array | Int32Array | Uint32Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(cap);
      b.set(a);
      return b;
    };
    this.sortKey = grow(this.sortKey, Float64Array);
    this.at = grow(this.at, Float64Array);
    this.left = grow(this.left, Int32Array);
    this.right = grow(this.right, Int32Array);
    this.size = grow(this.size, Int32Array);
    this.prio = grow(this.prio, Uint32Array);
    this.cap = cap;
  }

  private place(n: number, key: number, reachedAt: number, prio: number) {
    this.sortKey[n] = key;
    this.at[n] = reachedAt;
    this.left[n] = NIL;
    this.right[n] = NIL;
    this.size[n] = 1;
    this.prio[n] = prio;
  }

  /** Does node n order strictly before (key, at, slot)? */
  private less(n: number, key: number, at: number, slot: number): boolean {
    const k = this.sortKey[n];
    if (k !== key) return k < key;
    const a = this.at[n];
    if (a !== at) return a < at;
    return n < slot;
  }

  private pull(n: number) {
    this.size[n] = 1 + this.size[this.left[n]] + this.size[this.right[n]];
  }

  /** Splits t into (nodes before key, the rest). */
  private split(t: number, key: number, at: number, slot: number): [number, number] {
    if (t === NIL) return [NIL, NIL];
    if (this.less(t, key, at, slot)) {
      const [l, r] = this.split(this.right[t], key, at, slot);
      this.right[t] = l;
      this.pull(t);
      return [t, r];
    }
    const [l, r] = this.split(this.left[t], key, at, slot);
    this.left[t] = r;
    this.pull(t);
    return [l, t];
  }

  private merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    if (this.prio[a] >= this.prio[b]) {
      this.right[a] = this.merge(this.right[a], b);
      this.pull(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]);
    this.pull(b);
    return b;
  }

  private removeAt(t: number, n: number): number {
    if (t === NIL) return NIL;
    if (t === n) return this.merge(this.left[t], this.right[t]);
    if (this.less(n, this.sortKey[t], this.at[t], t)) this.left[t] = this.removeAt(this.left[t], n);
    else this.right[t] = this.removeAt(this.right[t], n);
    this.pull(t);
    return t;
  }

  private before(key: number, at: number, slot: number): number {
    let n = this.root;
    let count = 0;
    while (n !== NIL) {
      if (this.less(n, key, at, slot)) {
        count += this.size[this.left[n]] + 1;
        n = this.right[n];
      } else n = this.left[n];
    }
    return count;
  }

  /** The node at 0-based position k, or NIL. */
  private select(k: number): number {
    if (k < 0 || k >= this.count) return NIL;
    let n = this.root;
    while (n !== NIL) {
      const ls = this.size[this.left[n]];
      if (k < ls) n = this.left[n];
      else if (k === ls) return n;
      else {
        k -= ls + 1;
        n = this.right[n];
      }
    }
    return NIL;
  }
}
