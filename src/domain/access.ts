// Who may do what with an API key: operator roles and the admin policy table, server-key scopes and the server
// policy table, and the key format. Pure decisions; src/http/operators.ts looks keys up and applies them.

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a server-to-server key may be granted. analytics:write is telemetry ingest (/v1/telemetry/*); profile:write is
 * a player's level and current needs for recommendations (POST /v1/server/players/:id/profile).
 */
export const SCOPES = ["inventory:read", "inventory:ack", "progress:write", "analytics:write", "profile:write"] as const;
export type Scope = (typeof SCOPES)[number];

/** Server routes the bootstrap ADMIN_TOKEN may call too (ops tooling backfilling telemetry or profiles). */
export const BOOTSTRAP_SCOPES: readonly Scope[] = ["analytics:write", "profile:write"];

export type KeyKind = "operator" | "server";

export const roleAtLeast = (have: Role, need: Role) => ROLES.indexOf(have) >= ROLES.indexOf(need);

type Rule<T> = { methods: readonly string[] | "*"; path: RegExp; need: T };

const READ = ["GET", "HEAD"] as const;
const EVENT = "/events/[^/]+";

/**
 * The minimum role per admin route, matched against the path below /v1/admin; the first matching rule decides.
 * Keys are the most sensitive thing here (a key can mint keys), so even listing them needs an admin. Reads are a
 * viewer's. Anything not listed needs an admin: a new write route is closed until someone places it here.
 */
export const ADMIN_POLICY: readonly Rule<Role>[] = [
  { methods: "*", path: /^\/keys(\/.*)?$/, need: "admin" },
  // Privacy: a player's export, their erasure and the erase jobs show or destroy personal data, reads included.
  // A player's profile (issue 15) is profiling data (spend, habits, skill): an admin's, like the export that holds it.
  { methods: "*", path: /^\/(players\/[^/]+\/(export|erase|profile)|privacy\/.*)$/, need: "admin" },
  { methods: READ, path: /.*/, need: "viewer" },
  // Scheduling: create, reschedule, the manual transitions, and the dry run that answers "would this fit?".
  { methods: ["POST"], path: /^\/events\/?$/, need: "operator" },
  { methods: ["PATCH"], path: new RegExp(`^${EVENT}$`), need: "operator" },
  { methods: ["POST"], path: new RegExp(`^${EVENT}/(pause|resume|cancel|end-now|retry-activation)$`), need: "operator" },
  { methods: ["POST"], path: /^\/schedule\/validate$/, need: "operator" },
  // Leaderboards: removing, banning or clearing an entry, and force-finalizing (each with a reason, audited).
  { methods: ["POST"], path: new RegExp(`^${EVENT}/leaderboard/(finalize|entries/[^/]+/(remove|ban|clear-flag))$`), need: "operator" },
  // Clans: clearing a flagged member (with a reason, audited), which releases their held clan rewards.
  { methods: ["POST"], path: new RegExp(`^${EVENT}/clans/[^/]+/members/[^/]+/clear-flag$`), need: "operator" },
  // Statistical anti-cheat: a rate pass now, and clearing or confirming a flag (with a reason, audited).
  { methods: ["POST"], path: new RegExp(`^${EVENT}/flags/(evaluate|[^/]+/(clear|confirm))$`), need: "operator" },
  // Alerts: resolving one by hand (with a reason, audited). Their thresholds are run-time settings: an admin's.
  { methods: ["POST"], path: /^\/alerts\/[^/]+\/resolve$/, need: "operator" },
  // Recurring series: create, edit (one occurrence, this and following, all), pause, resume and end.
  { methods: ["POST"], path: /^\/series\/?$/, need: "operator" },
  { methods: ["PATCH"], path: /^\/series\/[^/]+$/, need: "operator" },
  { methods: ["POST"], path: /^\/series\/[^/]+\/(pause|resume|end)$/, need: "operator" },
  // Templates and run-time settings fall to the default below: an admin's.
  { methods: "*", path: /.*/, need: "admin" },
];

/**
 * The scope each server route needs, matched against the path below /v1/server. A route not listed here is closed to
 * every server key (serverAccess), so a new server route stays unreachable until someone places it here.
 */
export const SERVER_POLICY: readonly Rule<Scope>[] = [
  { methods: READ, path: /^\/players\/[^/]+\/inventory$/, need: "inventory:read" },
  { methods: ["POST"], path: /^\/players\/[^/]+\/inventory\/ack$/, need: "inventory:ack" },
  { methods: ["POST"], path: new RegExp(`^${EVENT}/players/[^/]+/progress$`), need: "progress:write" },
  { methods: ["POST"], path: /^\/players\/[^/]+\/profile$/, need: "profile:write" },
];

/** The scope each telemetry route needs, below /v1/telemetry (game servers' ingest; the ADMIN_TOKEN may call them too). */
export const TELEMETRY_POLICY: readonly Rule<Scope>[] = [{ methods: ["POST"], path: /^\/(sessions|purchases)$/, need: "analytics:write" }];

function match<T>(rules: readonly Rule<T>[], method: string, path: string): T | null {
  const m = method.toUpperCase();
  for (const r of rules) if ((r.methods === "*" || r.methods.includes(m)) && r.path.test(path)) return r.need;
  return null;
}

export const requiredRole = (method: string, path: string): Role => match(ADMIN_POLICY, method, path) ?? "admin";
export const requiredScope = (method: string, path: string, rules: readonly Rule<Scope>[] = SERVER_POLICY): Scope | null => match(rules, method, path);

/**
 * May a server key holding `scopes` call this route? Default deny: a path SERVER_POLICY does not list is "unlisted"
 * (answered as a 404, the same as a path no route has, so a key cannot probe which unlisted routes exist).
 */
export function serverAccess(
  method: string,
  path: string,
  scopes: readonly string[],
  rules: readonly Rule<Scope>[] = SERVER_POLICY,
): { allow: true; need: Scope } | { allow: false; need: Scope | null } {
  const need = requiredScope(method, path, rules);
  if (need === null) return { allow: false, need: null };
  return scopes.includes(need) ? { allow: true, need } : { allow: false, need };
}

/**
 * What an operator may put in an event body (create, its dry run, reschedule, resume): which template, when, and why.
 * Anything else rewrites what an admin approved in the template (content, rewards, eligibility, tier, capacity), and
 * `force: true` sets aside the scheduling rules an admin set: both are an admin's job. A field added to a body later is
 * an admin's until it is listed here.
 */
const OPERATOR_EVENT_FIELDS: ReadonlySet<string> = new Set(["templateId", "startTime", "endTime", "reason"]);

/** The role an event body needs on top of its route's, and the fields that make it so. */
export function eventBodyNeeds(body: Record<string, unknown>): { need: Role; fields: string[] } {
  const fields = Object.keys(body).filter((k) => body[k] !== undefined && !OPERATOR_EVENT_FIELDS.has(k) && !(k === "force" && body[k] === false));
  return { need: fields.length ? "admin" : "operator", fields };
}

/** The path below a mount point ("/v1/admin/events/x" under "/v1/admin" → "/events/x"); "/" for the mount itself. */
export function below(mount: string, path: string): string {
  if (!path.startsWith(mount)) return path;
  const rest = path.slice(mount.length);
  return rest === "" ? "/" : rest;
}

// ---- the key format ---------------------------------------------------------------------------------------------
// `lek_op_<id>_<secret>` / `lek_srv_<id>_<secret>`: the prefix makes a leaked key recognisable to secret scanners and
// to a human, the id finds its row without a scan (and is what listings show), the secret is 32 random bytes.

const PREFIX: Record<KeyKind, string> = { operator: "lek_op_", server: "lek_srv_" };
const KEY = /^lek_(op|srv)_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export const KEY_ID = /^[a-z0-9]{16}$/;

export function formatKey(kind: KeyKind, keyId: string, secret: string): string {
  return `${PREFIX[kind]}${keyId}_${secret}`;
}

/** The listing label of a key: everything but the secret. */
export const keyLabel = (kind: KeyKind, keyId: string) => `${PREFIX[kind]}${keyId}`;

export function parseKey(token: string): { kind: KeyKind; keyId: string } | null {
  const m = KEY.exec(token);
  return m ? { kind: m[1] === "op" ? "operator" : "server", keyId: m[2] } : null;
}

/** The audit log's name for a key holder: stable (the id) and readable (the name). */
export const keyActor = (keyId: string, name: string) => `key:${keyId}:${name}`;

/** The operator the ADMIN_TOKEN secret stands for: the bootstrap admin that creates the first real keys. */
export const BOOTSTRAP_ACTOR = "bootstrap";

/** How long a verified key is trusted without asking D1 again; a revocation takes effect elsewhere within this. */
export const KEY_CACHE_MS = 30_000;

export type CachedKey<T> = { value: T; until: number };
export const fresh = <T>(entry: CachedKey<T> | undefined, now: number): entry is CachedKey<T> => !!entry && entry.until > now;

/**
 * What a role may do, in the words an ops console needs to show or hide a control, decided by the same policy table
 * the admin guard applies (a sample path per capability), so the two cannot drift apart.
 */
export function capabilities(role: Role) {
  const may = (method: string, path: string) => roleAtLeast(role, requiredRole(method, path));
  return {
    read: may("GET", "/events"),
    schedule: may("POST", "/events"),
    transition: may("POST", "/events/e/pause"),
    // From the same rule the event routes apply to a body (eventBodyNeeds), with a sample content field and force.
    overrideContent: roleAtLeast(role, eventBodyNeeds({ name: "x" }).need),
    force: roleAtLeast(role, eventBodyNeeds({ force: true }).need),
    editTemplates: may("PUT", "/templates/t"),
    reviewFlags: may("POST", "/events/e/flags/p/clear"),
    resolveAlerts: may("POST", "/alerts/a/resolve"),
    editSettings: may("PUT", "/settings"),
    manageKeys: may("GET", "/keys"),
  };
}
