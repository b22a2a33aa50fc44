// Request parsing that never lets bad input reach an actor. JSON bodies are read in src/http/openapi.ts (malformed JSON
// 400, schema failures 422 with paths); this holds what routes check beyond their declared schemas.
import type { Context } from "hono";
import { z } from "zod";
import { ApiError, validationError } from "./errors";
import { zodProblems } from "../lib/validation";

/**
 * The request body failed while it was being read: the client went away mid-body (the runtime says "Network connection
 * lost"). Not a server error; src/app.ts logs it as what it is.
 */
export class ClientDisconnected extends Error {
  constructor(readonly cause: unknown) {
    super(`client disconnected mid-body: ${String(cause)}`);
  }
}

export function query<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw validationError(zodProblems(parsed.error), 400);
  return parsed.data;
}

/** Claims are retried by clients; the key makes a retry return the first answer instead of claiming twice. */
export function idempotencyKey(c: Context): string {
  const key = c.req.header("Idempotency-Key")?.trim();
  if (!key) throw new ApiError(400, "idempotency_key_required", "send an Idempotency-Key header (any unique string per claim attempt)");
  if (key.length > 200) throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be at most 200 characters");
  return key;
}

/** ?from=&to= of the calendar views (admin and player); domain/calendar resolveRange defaults and bounds them. */
export const RangeQuery = {
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};
