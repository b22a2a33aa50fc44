// adaptive_decisions (issue 15): the only writer. Rows come from the progress shards' outbox (topic "adapt"), many per
// statement through one JSON parameter, insert-or-ignore: a decision is made once per (event, player) and a retried
// drain adds nothing. Erasure keeps the row under the pseudonym, so the report's holdout counts stay (a second erase
// of a returning player keeps the newer decision).
import { chunked, field as f } from "./json-batch";

export type AdaptationRow = {
  eventId: string;
  playerId: string;
  arm: "treated" | "control";
  reason: "pace" | "stalled";
  decidedAt: number;
  completion: number;
  pace: number;
  factor: number | null;
  targets: string | null;
  assist: string | null;
};

export const adaptationStatements = (d1: D1Database, rows: AdaptationRow[]) =>
  chunked(
    d1,
    `INSERT OR IGNORE INTO adaptive_decisions (event_id, player_id, arm, reason, decided_at, completion, pace, factor, targets, assist)
     SELECT ${["eventId", "playerId", "arm", "reason", "decidedAt", "completion", "pace", "factor", "targets", "assist"].map(f).join(", ")} FROM json_each(?1) AS j`,
    rows,
  );

export const eraseAdaptationStatements = (d1: D1Database, playerId: string, pseudonym: string) => [
  // OR REPLACE: a row an earlier erase left under the pseudonym, for the same event, gives way to the newer decision.
  { name: "adaptive_decisions", statement: d1.prepare("UPDATE OR REPLACE adaptive_decisions SET player_id = ?2 WHERE player_id = ?1").bind(playerId, pseudonym) },
];
