// One error shape for every failure: { error: { code, message, details? } }.
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FieldProblem, Result } from "../lib/result";

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

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.status, result.code, result.message, result.details);
}
