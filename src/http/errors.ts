// One error shape for every failure: { error: { code, message, details? } }.
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

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

/** Renders a zod/domain path the way ops read it: milestones[2].progressThreshold. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), "");
}

export type FieldProblem = { path: string; message: string };

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "is required" : `must be ${issue.expected === "number" ? "a finite number" : `a ${issue.expected}`}`;
    case "too_small":
      return issue.origin === "array" || issue.origin === "string"
        ? `must have at least ${issue.minimum} ${issue.origin === "array" ? "item(s)" : "character(s)"}`
        : `must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array" || issue.origin === "string"
        ? `must have at most ${issue.maximum} ${issue.origin === "array" ? "item(s)" : "character(s)"}`
        : `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}`;
    case "invalid_value":
      return `must be one of: ${issue.values.map(String).join(", ")}`;
    case "invalid_format":
      return issue.format === "datetime" ? "must be an ISO 8601 date-time with offset, e.g. 2026-12-01T00:00:00Z" : issue.message;
    case "unrecognized_keys":
      return `has unknown field(s): ${issue.keys.join(", ")}`;
    case "invalid_union":
      return issue.message.includes("Invalid input") ? "has an invalid value" : issue.message;
    default:
      return issue.message;
  }
}

export function zodProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue) }));
}

export function validationError(problems: FieldProblem[], status: 400 | 422 = 422): ApiError {
  const summary = problems.map((p) => (p.path ? `${p.path} ${p.message}` : p.message)).join("; ");
  return new ApiError(status, "validation_failed", summary || "invalid request", { fields: problems });
}

/**
 * Actors answer RPC calls with a result instead of throwing: thrown errors lose their class across RPC,
 * and a refusal (409, 404) is an expected answer, not an exception.
 */
export type Failure = { ok: false; status: ContentfulStatusCode; code: string; message: string; details?: unknown };
export type Result<T> = { ok: true; value: T } | Failure;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (status: ContentfulStatusCode, code: string, message: string, details?: unknown): Failure => ({
  ok: false,
  status,
  code,
  message,
  ...(details === undefined ? {} : { details }),
});

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.status, result.code, result.message, result.details);
}
