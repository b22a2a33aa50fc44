// What the privacy routes answer, as zod schemas (beside views.ts, which holds the rest of the API's answers).
import { z } from "zod";

const Iso = z.iso.datetime({ offset: true });
const Count = z.number().int().min(0);
const Touched = z.record(z.string(), Count);

export const PlayerExport = z
  .object({
    playerId: z.string(),
    exportedAt: Iso,
    data: z.record(z.string(), z.array(z.unknown())).meta({
      description:
        "Every row naming the player, keyed `<source>/<table>` (D1: `d1/<table>`; the player's inventory object: `inventory/<table>`) or " +
        "`<source>/<object>/<table>` (progress shards, boards and clans, each object by name).",
    }),
    empty: z.boolean().meta({ description: "True when no source holds a row naming the player (as after an erase)." }),
  })
  .meta({ id: "PlayerExport" });

export const PrivacyJob = z
  .object({
    jobId: z.string().meta({ description: "erase_ + 32 hex: the player's pseudonym's hash; the same player always has the same job." }),
    pseudonym: z.string().meta({ description: "anon_ + 32 hex: the salted hash that stands for the player in rows kept for accounting." }),
    state: z.enum(["running", "done"]),
    run: z.number().int().min(1).meta({ description: "How many times this player's erase has been run (a repeat runs again and touches only what is new)." }),
    requestedBy: z.string(),
    reason: z.string(),
    requestedAt: Iso,
    finishedAt: Iso.nullable(),
    steps: z.array(
      z.object({
        step: z.string(),
        state: z.enum(["pending", "done"]),
        touched: Touched,
        attempts: Count.meta({ description: "Failed attempts of a pending step (retried with backoff)." }),
        error: z.string().nullable(),
      }),
    ),
    touched: Touched.meta({ description: "Rows deleted or anonymized by this run, per `<step>.<table>` (locate: objects found)." }),
    audit: z.array(z.object({ at: Iso, actor: z.string(), action: z.string(), reason: z.string().nullable() })),
  })
  .meta({ id: "PrivacyJob" });
