// zod issues as the API reports them: one { path, message } per problem, in words ops and client developers read.
// Shared by HTTP validation and the live channel's frame validation, so both say the same thing for the same mistake.
//
// A message must say what was expected and what came. zod 4 drops the offending value from finished issues unless
// every caller parses with `reportInput`, so the value is only visible while the message is being made: that is why
// the words are written by a zod error map, installed once here, rather than after the fact from the issue.
import { z } from "zod";
import { formatPath, type FieldProblem } from "./result";

type RawIssue = z.core.$ZodRawIssue;

const EXPECTED: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "a boolean (true or false)",
  array: "an array",
  object: "an object",
  record: "an object",
  null: "null",
};
const expectedName = (e: string) => EXPECTED[e] ?? `a ${e}`;

/** What came, short enough to quote: string "x", number 5, boolean true, null, an array, an object. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}

const quote = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));
const oneOf = (values: readonly unknown[]) => (values.length === 1 ? quote(values[0]) : `one of: ${values.map(String).join(", ")}`);

/** What a schema accepts, in words: `"now"`, `an ISO 8601 date-time`, `a number`. */
function accepted(schema: z.core.$ZodType): string {
  const def = schema._zod.def as { type: string; values?: unknown[]; entries?: Record<string, unknown>; format?: string };
  if (def.type === "literal" && def.values) return def.values.map(quote).join(" or ");
  if (def.type === "enum" && def.entries) return oneOf(Object.values(def.entries));
  if (def.format === "datetime") return "an ISO 8601 date-time with offset";
  return expectedName(def.type);
}

const sized = (origin: unknown) => origin === "array" || origin === "string";
const unit = (origin: unknown) => (origin === "array" ? "item(s)" : "character(s)");

/** The words for one issue; `input` is the value that was there (undefined when the field was absent). */
function describe(issue: RawIssue): string | undefined {
  const input = issue.input;
  const got = `, got ${describeValue(input)}`;
  switch (issue.code) {
    case "invalid_type":
      if (input === undefined) return "is required";
      // A query string coerced to a number reads NaN here ("got number NaN" says nothing); the text itself is gone.
      return Number.isNaN(input) ? `must be ${expectedName(issue.expected)} (digits)` : `must be ${expectedName(issue.expected)}${got}`;
    case "invalid_value":
      return input === undefined ? "is required" : `must be ${oneOf(issue.values)}${got}`;
    case "invalid_union": {
      // A discriminated union reports at the discriminator's path but carries the whole object as its input.
      const union = issue as RawIssue & { discriminator?: string; options?: unknown[] };
      if (union.discriminator !== undefined) {
        const value = input !== null && typeof input === "object" ? (input as Record<string, unknown>)[union.discriminator] : undefined;
        const expected = `must be ${oneOf(union.options ?? [])}`;
        return value === undefined ? "is required" : `${expected}, got ${describeValue(value)}`;
      }
      if (input === undefined) return "is required";
      const options = (issue.inst as z.core.$ZodUnion | undefined)?._zod.def.options;
      return options ? `must be ${options.map(accepted).join(" or ")}${got}` : `has an invalid value${got}`;
    }
    case "invalid_format":
      return issue.format === "datetime" ? `must be an ISO 8601 date-time with offset, e.g. 2026-12-01T00:00:00Z${got}` : undefined;
    case "too_small": {
      if (sized(issue.origin)) return `must have at least ${issue.minimum} ${unit(issue.origin)}`;
      return `must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}${typeof input === "number" ? got : ""}`;
    }
    case "too_big": {
      if (sized(issue.origin)) return `must have at most ${issue.maximum} ${unit(issue.origin)}`;
      return `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}${typeof input === "number" ? got : ""}`;
    }
    case "unrecognized_keys":
      return `has unknown field(s): ${issue.keys.join(", ")}`;
    default:
      return undefined;
  }
}

// Schema-level messages (a regex's own words, a refinement's) still win: zod asks this map only when the schema has none.
z.config({ customError: describe });

export function zodProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}
