// Which event and shard a progress shard is: from the object's name, `${eventId}:${shardNo}`.
import { parseShardName } from "../../domain/sharding";

/**
 * `${eventId}:${shardNo}` from the object's name, kept in storage too: an alarm set before names reached objects
 * (or re-set from such an alarm) wakes it without one, and it must still know whose players it holds.
 */
export function shardAddress(sql: SqlStorage, name: string | undefined, id: string): { eventId: string; shardNo: number } {
  const named = parseShardName(name ?? "");
  const stored = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'address'").toArray()[0];
  if (named && !stored) sql.exec("INSERT INTO meta (k, v) VALUES ('address', ?)", JSON.stringify(named));
  const address = named ?? (stored ? (JSON.parse(stored.v) as { eventId: string; shardNo: number }) : null);
  if (address) return address;
  // Never addressed by name and nothing stored: nothing was ever written here, so there is nothing to serve.
  console.error(JSON.stringify({ msg: "progress shard woken without a name", id }));
  return { eventId: "", shardNo: -1 };
}
