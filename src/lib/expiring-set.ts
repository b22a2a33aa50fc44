// A bounded set of strings that each stay for a while, per isolate: remembers "looked up, not there" answers so a flood
// of made-up ids costs one lookup per id per window instead of one per request. The clock is passed in.

export class ExpiringSet {
  /** id → when it stops counting (epoch ms). A Map iterates in insertion order, so the first entry is the oldest. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  has(id: string, now: number): boolean {
    const t = this.until.get(id);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(id);
    return false;
  }

  add(id: string, now: number): void {
    this.until.delete(id); // re-added ids move to the back, so eviction stays oldest-first
    // One time to live for all, so entries expire in insertion order: drop from the front while they have expired,
    // then, if still full, the oldest live one (forgetting it early only costs one more lookup). O(1) amortised, so a
    // flood that keeps the set full does not make every add a scan.
    for (const [k, t] of this.until) {
      if (t > now && this.until.size < this.maxEntries) break;
      this.until.delete(k);
    }
    this.until.set(id, now + this.ttlMs);
  }

  delete(id: string): void {
    this.until.delete(id);
  }

  get size(): number {
    return this.until.size;
  }
}
