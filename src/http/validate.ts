// Request parsing that never lets bad input reach an actor: malformed JSON is 400, schema failures 422 with paths.
import type { Context } from "hono";
import { z } from "zod";
import { ApiError, validationError } from "./errors";
import { zodProblems } from "../lib/validation";

const MAX_BODY_BYTES = 256 * 1024;

export async function jsonBody<S extends z.ZodType>(c: Context, schema: S, opts: { optional?: boolean } = {}): Promise<z.infer<S>> {
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES) throw new ApiError(413, "payload_too_large", `request body must be at most ${MAX_BODY_BYTES} bytes`);
  const raw = new TextDecoder().decode(bytes);
  let value: unknown = {};
  if (raw.trim() !== "") {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ApiError(400, "invalid_json", "request body is not valid JSON");
    }
  } else if (!opts.optional) {
    throw new ApiError(400, "invalid_json", "request body is required");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const badRequest = parsed.error.issues.some((i) => i.code === "custom" && (i.params as { status?: number } | undefined)?.status === 400);
    throw validationError(zodProblems(parsed.error), badRequest ? 400 : 422);
  }
  return parsed.data;
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
