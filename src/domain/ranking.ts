// The order-statistic index behind every leaderboard: a treap (randomised balanced search tree) whose nodes carry
// their subtree's size, so rank, the k-th entry, top-N from a cursor and around-me are all O(log n). Nodes live in
// typed arrays grown by doubling, not in objects: at 1,000,000 entries an object per node would cost ~3× the memory
// and make every rebuild a garbage-collector storm. Pure: no I/O, no clock; randomness only shapes the tree, never
// an answer.
//
// Order: `sortKey` ascending (the caller maps a descending board to -score), then `reachedAt` ascending (earlier to
// reach the score ranks higher), then the player id (so ties are decided the same way every time).

export type RankEntry = { playerId: string; score: number; reachedAt: number };
/** A position in the order: what a page cursor remembers, so the next page starts after it even if ranks moved. */
export type RankKey = { sortKey: number; reachedAt: number; playerId: string };

const NIL = 0;

export class RankIndex {
  private cap: number;
  private sortKey: Float64Array;
  private at: Float64Array;
  private left: Int32Array;
  private right: Int32Array;
  private size: Int32Array;
  private prio: Uint32Array;
  private ids: string[];
  private free: number[] = [];
  private root = NIL;
  private next = 1;
  private readonly byId = new Map<string, number>();
  private seed: number;

  /** `descending`: higher scores rank first (the usual board). */
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
    this.ids = new Array<string>(this.cap);
    this.seed = seed >>> 0 || 1;
  }

  get count(): number {
    return this.byId.size;
  }

  /** Bytes held by the typed arrays per slot (the id strings and the id map come on top). */
  static readonly BYTES_PER_SLOT = 8 + 8 + 4 + 4 + 4 + 4;

  has(playerId: string): boolean {
    return this.byId.has(playerId);
  }

  get(playerId: string): RankEntry | null {
    const n = this.byId.get(playerId);
    return n === undefined ? null : this.entry(n);
  }

  /** Adds or moves a player. O(log n). */
  upsert(playerId: string, score: number, reachedAt: number): void {
    if (this.byId.has(playerId)) this.remove(playerId);
    const n = this.alloc(playerId, this.keyOf(score), reachedAt);
    const [l, r] = this.split(this.root, this.sortKey[n], reachedAt, playerId);
    this.root = this.merge(this.merge(l, n), r);
  }

  remove(playerId: string): boolean {
    const n = this.byId.get(playerId);
    if (n === undefined) return false;
    this.root = this.removeAt(this.root, n);
    this.byId.delete(playerId);
    this.ids[n] = "";
    this.free.push(n);
    return true;
  }

  /** 1-based rank of a player, or 0 if absent. O(log n). */
  rank(playerId: string): number {
    const n = this.byId.get(playerId);
    return n === undefined ? 0 : this.before(this.sortKey[n], this.at[n], playerId) + 1;
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
    return this.before(key.sortKey, key.reachedAt, key.playerId);
  }

  /** The cursor form of an entry. */
  cursorKey(e: RankEntry): RankKey {
    return { sortKey: this.keyOf(e.score), reachedAt: e.reachedAt, playerId: e.playerId };
  }

  /** Every entry in rank order (finalization, snapshots). O(n). */
  all(): Array<RankEntry & { rank: number }> {
    return this.range(1, this.count);
  }

  clear(): void {
    this.byId.clear();
    this.free = [];
    this.root = NIL;
    this.next = 1;
  }

  /**
   * Replaces the contents with `entries`, which must already be in rank order (as SQLite returns them from an index):
   * an O(n) balanced build instead of n inserts. Random priorities are sorted and handed out level by level, so the
   * result is a valid treap and later inserts keep it balanced.
   */
  buildSorted(entries: ArrayLike<RankEntry>): void {
    this.buildFrom(entries.length, (i) => entries[i].playerId, (i) => entries[i].score, (i) => entries[i].reachedAt);
  }

  /**
   * The same from columns, which a rebuild fills straight from the SQL cursor (no object per entry is kept). SQLite
   * orders ids by their UTF-8 bytes and this index by UTF-16 code units; they disagree only for rare characters, so
   * the order is checked in one pass and sorted here only if it differs.
   */
  buildColumns(count: number, ids: readonly string[], scores: Float64Array, reachedAt: Float64Array): void {
    const cmp = (a: number, b: number) => {
      const ka = this.keyOf(scores[a]);
      const kb = this.keyOf(scores[b]);
      if (ka !== kb) return ka < kb ? -1 : 1;
      if (reachedAt[a] !== reachedAt[b]) return reachedAt[a] < reachedAt[b] ? -1 : 1;
      return ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0;
    };
    let order: Int32Array | null = null;
    for (let i = 1; i < count && !order; i++) {
      if (cmp(i - 1, i) > 0) order = Int32Array.from({ length: count }, (_, k) => k).sort(cmp);
    }
    const at = order ? (i: number) => order[i] : (i: number) => i;
    this.buildFrom(count, (i) => ids[at(i)], (i) => scores[at(i)], (i) => reachedAt[at(i)]);
  }

  private buildFrom(total: number, idOf: (i: number) => string, scoreOf: (i: number) => number, reachedAtOf: (i: number) => number): void {
    this.clear();
    this.ensure(total + 1);
    const prios = new Uint32Array(total);
    for (let i = 0; i < total; i++) prios[i] = this.random();
    prios.sort();
    let p = total - 1;
    // Breadth-first over the halves of the sorted range: a parent is always dequeued (and so prioritised) before its children.
    const qLo = new Int32Array(total);
    const qHi = new Int32Array(total);
    const qParent = new Int32Array(total);
    const qSide = new Int8Array(total);
    let head = 0;
    let tail = 0;
    if (total > 0) {
      qLo[0] = 0;
      qHi[0] = total - 1;
      qParent[0] = NIL;
      tail = 1;
    }
    const made = new Int32Array(total);
    while (head < tail) {
      const lo = qLo[head];
      const hi = qHi[head];
      const parent = qParent[head];
      const side = qSide[head];
      head++;
      const mid = (lo + hi) >>> 1;
      const n = this.alloc(idOf(mid), this.keyOf(scoreOf(mid)), reachedAtOf(mid));
      this.prio[n] = prios[p--];
      made[mid] = n;
      if (parent === NIL) this.root = n;
      else if (side < 0) this.left[parent] = n;
      else this.right[parent] = n;
      if (lo <= mid - 1) {
        qLo[tail] = lo;
        qHi[tail] = mid - 1;
        qParent[tail] = n;
        qSide[tail] = -1;
        tail++;
      }
      if (mid + 1 <= hi) {
        qLo[tail] = mid + 1;
        qHi[tail] = hi;
        qParent[tail] = n;
        qSide[tail] = 1;
        tail++;
      }
    }
    // Sizes bottom-up: the queue order reversed visits children before parents.
    for (let i = total - 1; i >= 0; i--) {
      const n = this.nodeAtQueue(i, made, qLo, qHi);
      this.size[n] = 1 + this.size[this.left[n]] + this.size[this.right[n]];
    }
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

  private nodeAtQueue(i: number, made: Int32Array, qLo: Int32Array, qHi: Int32Array): number {
    return made[(qLo[i] + qHi[i]) >>> 1];
  }

  private keyOf(score: number): number {
    // -0 and 0 must compare equal and ordering must not depend on the sign of zero.
    return this.descending ? (score === 0 ? 0 : -score) : score;
  }

  private scoreOf(key: number): number {
    return this.descending ? (key === 0 ? 0 : -key) : key;
  }

  private entry(n: number): RankEntry {
    return { playerId: this.ids[n], score: this.scoreOf(this.sortKey[n]), reachedAt: this.at[n] };
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
    let cap = this.cap;
    while (cap < slots) cap *= 2;
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
    this.ids.length = cap;
    this.cap = cap;
  }

  private alloc(playerId: string, key: number, reachedAt: number): number {
    let n = this.free.pop();
    if (n === undefined) {
      this.ensure(this.next + 1);
      n = this.next++;
    }
    this.sortKey[n] = key;
    this.at[n] = reachedAt;
    this.left[n] = NIL;
    this.right[n] = NIL;
    this.size[n] = 1;
    this.prio[n] = this.random();
    this.ids[n] = playerId;
    this.byId.set(playerId, n);
    return n;
  }

  /** Does node n order strictly before (key, at, id)? */
  private less(n: number, key: number, at: number, id: string): boolean {
    const k = this.sortKey[n];
    if (k !== key) return k < key;
    const a = this.at[n];
    if (a !== at) return a < at;
    return this.ids[n] < id;
  }

  private pull(n: number) {
    this.size[n] = 1 + this.size[this.left[n]] + this.size[this.right[n]];
  }

  /** Splits t into (nodes before key, the rest). */
  private split(t: number, key: number, at: number, id: string): [number, number] {
    if (t === NIL) return [NIL, NIL];
    if (this.less(t, key, at, id)) {
      const [l, r] = this.split(this.right[t], key, at, id);
      this.right[t] = l;
      this.pull(t);
      return [t, r];
    }
    const [l, r] = this.split(this.left[t], key, at, id);
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
    if (this.less(n, this.sortKey[t], this.at[t], this.ids[t])) this.left[t] = this.removeAt(this.left[t], n);
    else this.right[t] = this.removeAt(this.right[t], n);
    this.pull(t);
    return t;
  }

  private before(key: number, at: number, id: string): number {
    let n = this.root;
    let count = 0;
    while (n !== NIL) {
      if (this.less(n, key, at, id)) {
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
