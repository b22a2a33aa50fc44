// zod issues as the API reports them: one { path, message } per problem, in words ops and client developers read.
// Shared by HTTP validation and the live channel's frame validation, so both say the same thing for the same mistake.
import type { z } from "zod";
import { formatPath, type FieldProblem } from "./result";

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
