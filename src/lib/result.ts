// Actors answer RPC calls with a result instead of throwing: thrown errors lose their class across RPC, and a
// refusal (409, 404) is an expected answer, not an exception. Routes turn a Failure into the API's error shape.
export type Status = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 422 | 426 | 429 | 500 | 503 | 507;
export type Failure = { ok: false; status: Status; code: string; message: string; details?: unknown };
export type Result<T> = { ok: true; value: T } | Failure;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (status: Status, code: string, message: string, details?: unknown): Failure => ({
  ok: false,
  status,
  code,
  message,
  ...(details === undefined ? {} : { details }),
});

/** Renders a zod/domain path the way ops read it: milestones[2].progressThreshold. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), "");
}

export type FieldProblem = { path: string; message: string };

/** 422 validation_failed with every field named, from domain problems ({ path: [...], message }). */
export function invalid(problems: { path: readonly PropertyKey[]; message: string }[]): Failure {
  const fields: FieldProblem[] = problems.map((p) => ({ path: formatPath(p.path), message: p.message }));
  return fail(422, "validation_failed", fields.map((f) => (f.path ? `${f.path} ${f.message}` : f.message)).join("; "), { fields });
}
