// The event's clan directory (the ClanEventActor named `<eventId>|~clans`): every clan's latest standing, which is the
// live clan ranking (a page at a time, with the caller's own clan's place), and at expiry the finalization of every
// clan, then the final clan standings, recorded once with a digest. When the event keeps a clan leaderboard they are
// projected to D1 clan_standings, and each clan in a rank reward tier is handed its reward for its eligible members.
// Each step goes in chunks with bounded concurrency, booked on the object's own schedule: every alarm is a fresh
// invocation, so 10,000 clans never meet the subrequest limit, and a failure resumes where it stopped.
import { clanStandingStatements, type ClanStandingRow } from "../../db/clans";
import { DIRECTORY_REPORTS_PER_SECOND, clanStandings, clanStandingsDigestInput, decodeClanCursor, encodeClanCursor, reportEveryMs, type ClanKey } from "../../domain/clan";
import { iso } from "../../domain/time";
import { fail, ok, type Result } from "../../lib/result";
import type { ClanFinal, ClanInfo, ClanRanking, ClanStanding } from "../contracts";
import { FLUSH_MAX_ROWS, Outbox } from "../kit/outbox";
import type { Schedule } from "../kit/schedule";
import { clanActor } from "../stubs";

/** Clans finalized (or handed their rank reward) per directory invocation, and at most this many at once. */
export const FINALIZE_CHUNK = 200;
const CONCURRENCY = 20;

export type DirectoryKind = "finalize" | "project" | "rank";
type Row = { clan_id: string; total: number; completion: number; members: number; reached_at: number; rank?: number; reward_tier?: number };
type Final = { count: number; digest: string; finalizedAt: number; keepBoard: boolean };

/** Ranking order: highest total, then the earlier to reach it, then the clan id; `after` is the keyset condition past a cursor. */
const ORDER = "ORDER BY total DESC, reached_at, clan_id";
const AFTER = "(total < ?1 OR (total = ?1 AND (reached_at > ?2 OR (reached_at = ?2 AND clan_id > ?3))))";
const UP_TO = "(total > ?1 OR (total = ?1 AND (reached_at < ?2 OR (reached_at = ?2 AND clan_id <= ?3))))";

export class ClanDirectory {
  /** Clans per invocation (tests lower it to cross chunk boundaries with a few clans). */
  chunk = FINALIZE_CHUNK;
  /** Standing reports a second this object asks the clans to stay under (tests lower it). */
  reportsPerSecond = DIRECTORY_REPORTS_PER_SECOND;
  /** How many clans report here: counted once per wake, then kept (a COUNT per report would scan them all). */
  private clanCount: number | null = null;
  private readonly outbox: Outbox;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly eventId: string,
    private readonly schedule: Pick<Schedule<DirectoryKind>, "set">,
  ) {
    this.outbox = new Outbox(storage);
  }

  private get sql() {
    return this.storage.sql;
  }

  /** Records a clan's standing; answers how long the clan should wait before its next report. */
  report(s: ClanStanding, now: number): number {
    const known = this.count();
    if (!this.sql.exec("SELECT 1 FROM clans WHERE clan_id = ?", s.clanId).toArray().length) this.clanCount = known + 1;
    this.sql.exec(
      `INSERT INTO clans (clan_id, total, completion, members, updated_at, reached_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (clan_id) DO UPDATE SET total = excluded.total, completion = excluded.completion, members = excluded.members,
         updated_at = excluded.updated_at, reached_at = excluded.reached_at`,
      s.clanId,
      s.total,
      s.completion,
      s.members,
      now,
      s.reachedAt ?? 0,
    );
    return reportEveryMs(this.count(), this.reportsPerSecond);
  }

  /** The clans reporting here, from memory after the first count since the object woke. */
  private count(): number {
    this.clanCount ??= this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM clans").one().n;
    return this.clanCount;
  }

  /** A page of the live ranking, or of the final standings once recorded; `mine` is the caller's clan (its place, if ranked). */
  page(limit: number, cursor: string | null, mine: string | null): Result<ClanRanking> {
    const key = cursor === null ? null : decodeClanCursor(cursor);
    if (cursor !== null && !key) return fail(400, "invalid_cursor", "cursor is not one this ranking gave out");
    const final = this.final();
    const table = final ? "standings" : "clans";
    const args = key ? [key.total, key.reachedAt, key.clanId] : [];
    const rows = this.sql
      .exec<Row>(`SELECT clan_id, total, completion, members, reached_at${final ? ", rank, reward_tier" : ""} FROM ${table} ${key ? `WHERE ${AFTER}` : ""} ${ORDER} LIMIT ${limit + 1}`, ...args)
      .toArray();
    const before = key ? this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${UP_TO}`, ...args).one().n : 0;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return ok({
      eventId: this.eventId,
      // Held, not counted per request: the final standings record their count, the live clans are counted once a wake.
      count: final ? final.count : this.count(),
      finalized: final !== null,
      digest: final?.digest ?? null,
      clans: page.map((r, i) => entry(r, r.rank ?? before + i + 1)),
      nextCursor: rows.length > limit && last ? encodeClanCursor(keyOf(last)) : null,
      me: mine === null ? null : this.place(table, mine),
    });
  }

  /** Starts (or resumes) finalization and runs its first chunk; answers how many clans are final so far. */
  async finalizeAll(info: ClanInfo, keepBoard: boolean): Promise<number> {
    this.sql.exec("INSERT OR IGNORE INTO meta (k, v) VALUES ('finalizing', ?)", JSON.stringify({ keepBoard }));
    await this.finalizeStep(info, Date.now());
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM finals").one().n;
  }

  /** One chunk of clans; while clans remain the "finalize" row runs again (1 ms later, never at the tick's own time). */
  async finalizeStep(info: ClanInfo, now: number): Promise<void> {
    const started = this.meta("finalizing");
    if (!started || this.final()) return;
    const todo = this.sql
      .exec<{ clan_id: string }>("SELECT clan_id FROM clans WHERE clan_id NOT IN (SELECT clan_id FROM finals) ORDER BY clan_id LIMIT ?", this.chunk + 1)
      .toArray()
      .map((r) => r.clan_id);
    const chunk = todo.slice(0, this.chunk);
    const failure = await waves(chunk, (clanId) => clanActor(this.env, this.eventId, clanId).finalize(info), (clanId, done: ClanFinal | null) => {
      // A clan that never learned its definition froze nothing: it keeps the standing it last reported.
      const s = done ?? this.sql.exec<Row>("SELECT clan_id, total, completion, members, reached_at FROM clans WHERE clan_id = ?", clanId).toArray().map(standingOf)[0];
      if (s) this.sql.exec("INSERT OR IGNORE INTO finals (clan_id, total, reached_at, completion, members) VALUES (?, ?, ?, ?, ?)", clanId, s.total, s.reachedAt, s.completion, s.members);
    });
    if (failure) throw failure;
    if (todo.length > chunk.length) return this.schedule.set("finalize", now + 1);
    await this.record(info, JSON.parse(started).keepBoard === true, now);
  }

  /** The final standings, once every clan is final: ranks, reward tiers and the digest; then D1 and the rank rewards. */
  private async record(info: ClanInfo, keepBoard: boolean, now: number) {
    const ordered = this.sql.exec<Row>(`SELECT clan_id, total, completion, members, reached_at FROM finals ${ORDER}`).toArray().map(standingOf);
    const standings = clanStandings(ordered, keepBoard ? (info.definition.rankRewardTiers ?? []) : []);
    const digest = await sha256(clanStandingsDigestInput(this.eventId, standings));
    const final: Final = { count: standings.length, digest, finalizedAt: now, keepBoard };
    this.storage.transactionSync(() => {
      if (this.final()) return;
      for (const s of standings) {
        this.sql.exec(
          "INSERT INTO standings (rank, clan_id, total, reached_at, completion, members, reward_tier) VALUES (?, ?, ?, ?, ?, ?, ?)",
          s.rank,
          s.clanId,
          s.total,
          s.reachedAt,
          s.completion,
          s.members,
          s.rewardTier,
        );
        if (keepBoard) {
          const row: ClanStandingRow = { eventId: this.eventId, clanId: s.clanId, rank: s.rank, total: s.total, reachedAt: s.reachedAt, members: s.members, rewardTier: s.rewardTier, digest, finalizedAt: now };
          this.outbox.put("clan_standing", s.clanId, row);
        }
      }
      this.sql.exec("INSERT INTO meta (k, v) VALUES ('standings', ?)", JSON.stringify(final));
      if (keepBoard) this.schedule.set("project", now);
      if (standings.some((s) => s.rewardTier >= 0)) this.schedule.set("rank", now);
    });
  }

  /** The final standings to D1, a batch at a time. */
  async project(now: number): Promise<void> {
    await this.outbox.flush(this.env.DB, [this.outbox.source<ClanStandingRow>("clan_standing", clanStandingStatements)], FLUSH_MAX_ROWS);
    if (this.outbox.count() > 0) this.schedule.set("project", now + 1);
  }

  /** Each rewarded clan's rank reward, handed to the clan once (a chunk per invocation, marked as each lands). */
  async rankStep(info: ClanInfo, now: number): Promise<void> {
    const tiers = info.definition.rankRewardTiers ?? [];
    const todo = this.sql.exec<Row>("SELECT clan_id, rank, reward_tier FROM standings WHERE reward_tier >= 0 AND granted = 0 ORDER BY rank LIMIT ?", this.chunk + 1).toArray();
    const chunk = todo.slice(0, this.chunk);
    const failure = await waves(
      chunk,
      (r) => clanActor(this.env, this.eventId, r.clan_id).rankAward({ rank: r.rank!, rewardTier: r.reward_tier!, rewards: tiers[r.reward_tier!]?.rewards ?? [] }),
      (r) => this.sql.exec("UPDATE standings SET granted = 1 WHERE rank = ?", r.rank!),
    );
    if (failure) throw failure;
    if (todo.length > chunk.length) this.schedule.set("rank", now + 1);
  }

  private place(table: string, clanId: string) {
    const r = this.sql.exec<Row>(`SELECT clan_id, total, completion, members, reached_at${table === "standings" ? ", rank, reward_tier" : ""} FROM ${table} WHERE clan_id = ?`, clanId).toArray()[0];
    if (!r) return null;
    const k = keyOf(r);
    return entry(r, r.rank ?? this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${UP_TO}`, k.total, k.reachedAt, k.clanId).one().n);
  }

  private final(): Final | null {
    const v = this.meta("standings");
    return v ? JSON.parse(v) : null;
  }

  private meta(k: string): string | null {
    return this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", k).toArray()[0]?.v ?? null;
  }
}

const keyOf = (r: Row): ClanKey => ({ total: r.total, reachedAt: r.reached_at, clanId: r.clan_id });
const standingOf = (r: Row): ClanStanding => ({ clanId: r.clan_id, total: r.total, completion: r.completion, members: r.members, reachedAt: r.reached_at });
const entry = (r: Row, rank: number) => ({
  rank,
  clanId: r.clan_id,
  total: r.total,
  completion: r.completion,
  members: r.members,
  reachedAt: r.reached_at > 0 ? iso(r.reached_at) : null,
  rewardTier: r.reward_tier ?? null,
});

/** Runs `call` on every item, CONCURRENCY at a time, `landed` as each succeeds; answers the first failure (or null). */
async function waves<T, R>(items: T[], call: (item: T) => Promise<R>, landed: (item: T, result: R) => void): Promise<unknown> {
  let failure: unknown = null;
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    const wave = items.slice(i, i + CONCURRENCY);
    const results = await Promise.allSettled(wave.map(call));
    results.forEach((r, k) => {
      if (r.status === "rejected") failure ??= r.reason;
      else landed(wave[k], r.value);
    });
  }
  return failure;
}

async function sha256(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
