// One error shape for every failure: { error: { code, message, details? } }.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { formatPath, type FieldProblem, type Result } from "../lib/result";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

export function validationError(problems: FieldProblem[], status: 400 | 422 = 422): ApiError {
  const summary = problems.map((p) => (p.path ? `${p.path} ${p.message}` : p.message)).join("; ");
  return new ApiError(status, "validation_failed", summary || "invalid request", { fields: problems });
}

/** Problems as the domain reports them ({ path: [...] }), named the way ops read paths: milestones[2].progressThreshold. */
export function problemsError(problems: { path: readonly PropertyKey[]; message: string }[], status: 400 | 422 = 422): ApiError {
  return validationError(problems.map((p) => ({ path: formatPath(p.path), message: p.message })), status);
}

/** The 404 for a path no route answers; the admin app raises it itself so nothing under /v1/admin falls through. */
export const noRoute = (c: Context) => new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`);

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.status, result.code, result.message, result.details);
}
