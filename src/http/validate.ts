// Request parsing that never lets bad input reach an actor: malformed JSON is 400, schema failures 422 with paths.
import type { Context } from "hono";
import { z } from "zod";
import { ApiError, validationError } from "./errors";
import { zodProblems } from "../lib/validation";

const MAX_BODY_BYTES = 256 * 1024;

/**
 * The request body failed while it was being read: the client went away mid-body (the runtime says "Network connection
 * lost"). Not a server error; src/index.ts logs it as what it is.
 */
export class ClientDisconnected extends Error {
  constructor(readonly cause: unknown) {
    super(`client disconnected mid-body: ${String(cause)}`);
  }
}

const tooLarge = (maxBytes: number) => new ApiError(413, "payload_too_large", `request body must be at most ${maxBytes} bytes`, { maxBytes });

/**
 * The body, never more than `maxBytes` of it: refused from Content-Length before anything is read, and otherwise
 * counted while streaming and refused the moment it passes the limit (what hono/body-limit does; here, because every
 * body is read through jsonBody and the limit differs per route).
 */
async function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = req.headers.get("Content-Length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch (err) {
      throw new ClientDisconnected(err);
    }
    if (step.done) break;
    size += step.value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(step.value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

export async function jsonBody<S extends z.ZodType>(c: Context, schema: S, opts: { optional?: boolean; maxBytes?: number } = {}): Promise<z.infer<S>> {
  const bytes = await readBody(c.req.raw, opts.maxBytes ?? MAX_BODY_BYTES);
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
