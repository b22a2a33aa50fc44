// Which progress shard owns a player, and how many shards an event gets.

/** FNV-1a (32-bit): cheap, stable across runtimes and deploys, and spreads short ids evenly enough. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shardOf(playerId: string, shardCount: number): number {
  return fnv1a(playerId) % shardCount;
}

export const MAX_SHARDS = 256;
/**
 * Cloudflare's guidance is about 200–500 storage-writing requests/s per object; we plan for 250, the safe end.
 * A playing participant sends about one progress request every 10 s at peak (games batch updates client-side).
 */
export const WRITES_PER_SHARD_PER_SECOND = 250;
export const PEAK_REQUESTS_PER_PLAYER_PER_SECOND = 0.1;
export const DEFAULT_EXPECTED_PARTICIPANTS = 10_000;

/** shardCount = ceil(expectedParticipants × 0.1 / 250), clamped to [1, 256]: 10,000 players → 4 shards. */
export function shardCountFor(expectedParticipants: number): number {
  const needed = Math.ceil((expectedParticipants * PEAK_REQUESTS_PER_PLAYER_PER_SECOND) / WRITES_PER_SHARD_PER_SECOND);
  return Math.min(MAX_SHARDS, Math.max(1, needed));
}

export const shardName = (eventId: string, shardNo: number) => `${eventId}:${shardNo}`;

/** The inverse of shardName: a shard object learns its event and number from its own name. */
export function parseShardName(name: string): { eventId: string; shardNo: number } | null {
  const cut = name.lastIndexOf(":");
  const shardNo = Number(name.slice(cut + 1));
  return cut > 0 && Number.isInteger(shardNo) && shardNo >= 0 ? { eventId: name.slice(0, cut), shardNo } : null;
}
