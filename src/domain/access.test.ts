import { describe, expect, it } from "vitest";
import { ADMIN_POLICY, TELEMETRY_POLICY, below, capabilities, eventBodyNeeds, formatKey, fresh, keyLabel, parseKey, requiredRole, requiredScope, roleAtLeast, serverAccess } from "./access";

describe("roles", () => {
  it("are ordered viewer < operator < admin", () => {
    expect(roleAtLeast("admin", "operator")).toBe(true);
    expect(roleAtLeast("operator", "operator")).toBe(true);
    expect(roleAtLeast("operator", "admin")).toBe(false);
    expect(roleAtLeast("viewer", "operator")).toBe(false);
  });
});

describe("the admin policy table", () => {
  it.each([
    ["GET", "/events", "viewer"],
    ["HEAD", "/calendar", "viewer"],
    ["GET", "/templates/winter", "viewer"],
    ["GET", "/events/evt_abc12345/progress/summary", "viewer"],
    ["POST", "/events", "operator"],
    ["PATCH", "/events/evt_abc12345", "operator"],
    ["POST", "/events/evt_abc12345/pause", "operator"],
    ["POST", "/events/evt_abc12345/resume", "operator"],
    ["POST", "/events/evt_abc12345/cancel", "operator"],
    ["POST", "/events/evt_abc12345/end-now", "operator"],
    ["POST", "/events/evt_abc12345/retry-activation", "operator"],
    ["POST", "/schedule/validate", "operator"],
    ["POST", "/templates", "admin"],
    ["PUT", "/templates/winter", "admin"],
    ["PUT", "/settings", "admin"],
    ["GET", "/keys", "admin"],
    ["POST", "/keys", "admin"],
    ["DELETE", "/keys/abc", "admin"],
  ] as const)("%s %s needs %s", (method, path, role) => {
    expect(requiredRole(method, path)).toBe(role);
  });

  it("closes anything it does not list to all but admins", () => {
    expect(requiredRole("POST", "/something-new")).toBe("admin");
    expect(requiredRole("DELETE", "/events/evt_abc12345")).toBe("admin");
    expect(requiredRole("POST", "/events/evt_abc12345/explode")).toBe("admin");
    expect(ADMIN_POLICY.at(-1)?.need).toBe("admin");
  });

  it("matches paths below the mount point", () => {
    expect(below("/v1/admin", "/v1/admin/events/x")).toBe("/events/x");
    expect(below("/v1/admin", "/v1/admin")).toBe("/");
  });
});

describe("the server policy table", () => {
  it("names one scope per route and none for paths it does not know", () => {
    expect(requiredScope("GET", "/players/p1/inventory")).toBe("inventory:read");
    expect(requiredScope("POST", "/players/p1/inventory/ack")).toBe("inventory:ack");
    expect(requiredScope("POST", "/events/evt_abc12345/players/p1/progress")).toBe("progress:write");
    expect(requiredScope("POST", "/players/p1/inventory")).toBeNull();
    expect(requiredScope("GET", "/nope")).toBeNull();
  });

  it("denies by default: a route the table does not list is closed to every key, whatever its scopes", () => {
    const all = ["inventory:read", "inventory:ack", "progress:write", "analytics:write"];
    expect(serverAccess("GET", "/players/p1/inventory", ["inventory:read"])).toEqual({ allow: true, need: "inventory:read" });
    expect(serverAccess("POST", "/players/p1/inventory/ack", ["inventory:read"])).toEqual({ allow: false, need: "inventory:ack" });
    expect(serverAccess("POST", "/players/p1/inventory", all)).toEqual({ allow: false, need: null });
    expect(serverAccess("GET", "/analytics/anything", all)).toEqual({ allow: false, need: null });
    expect(serverAccess("DELETE", "/players/p1/inventory", all)).toEqual({ allow: false, need: null });
  });

  it("telemetry ingest (below /v1/telemetry) needs analytics:write, and only its two POST routes exist", () => {
    expect(serverAccess("POST", "/sessions", ["analytics:write"], TELEMETRY_POLICY)).toEqual({ allow: true, need: "analytics:write" });
    expect(serverAccess("POST", "/purchases", ["progress:write"], TELEMETRY_POLICY)).toEqual({ allow: false, need: "analytics:write" });
    expect(serverAccess("GET", "/sessions", ["analytics:write"], TELEMETRY_POLICY)).toEqual({ allow: false, need: null });
    // The server app's table does not open telemetry paths, nor the telemetry table server ones.
    expect(serverAccess("POST", "/sessions", ["analytics:write"])).toEqual({ allow: false, need: null });
    expect(serverAccess("GET", "/players/p1/inventory", ["inventory:read"], TELEMETRY_POLICY)).toEqual({ allow: false, need: null });
  });
});

describe("key format", () => {
  const secret = "A".repeat(42) + "_";
  it("round-trips kind and id, and labels a key without its secret", () => {
    const key = formatKey("server", "abcdefgh12345678", secret);
    expect(key).toBe(`lek_srv_abcdefgh12345678_${secret}`);
    expect(parseKey(key)).toEqual({ kind: "server", keyId: "abcdefgh12345678" });
    expect(parseKey(formatKey("operator", "abcdefgh12345678", secret))).toEqual({ kind: "operator", keyId: "abcdefgh12345678" });
    expect(keyLabel("operator", "abcdefgh12345678")).toBe("lek_op_abcdefgh12345678");
  });

  it("refuses anything else", () => {
    for (const bad of ["", "lek_op_short_x", `lek_xx_abcdefgh12345678_${secret}`, `lek_op_ABCDEFGH12345678_${secret}`, `lek_op_abcdefgh12345678_${secret}x`, "eyJ.a.b"]) {
      expect(parseKey(bad)).toBeNull();
    }
  });
});

describe("cached keys", () => {
  it("are fresh until their time and not a millisecond after", () => {
    expect(fresh({ value: 1, until: 1000 }, 999)).toBe(true);
    expect(fresh({ value: 1, until: 1000 }, 1000)).toBe(false);
    expect(fresh(undefined, 0)).toBe(false);
  });
});

describe("event bodies: what an operator may set", () => {
  const when = { templateId: "winter", startTime: "2030-01-01T00:00:00Z", endTime: "2030-01-02T00:00:00Z" };

  it("which template, when and why is an operator's", () => {
    expect(eventBodyNeeds(when)).toEqual({ need: "operator", fields: [] });
    expect(eventBodyNeeds({ ...when, reason: "weekend", force: false })).toEqual({ need: "operator", fields: [] });
    expect(eventBodyNeeds({ endTime: when.endTime })).toEqual({ need: "operator", fields: [] }); // a reschedule
    expect(eventBodyNeeds({ ...when, name: undefined })).toEqual({ need: "operator", fields: [] });
  });

  it("content overrides and force are an admin's, each named", () => {
    expect(eventBodyNeeds({ ...when, rewardPool: [] })).toEqual({ need: "admin", fields: ["rewardPool"] });
    expect(eventBodyNeeds({ ...when, force: true, reason: "agreed" })).toEqual({ need: "admin", fields: ["force"] });
    expect(eventBodyNeeds({ ...when, objectives: [], milestones: [], tier: "mini", eligibleClanIds: [] }).fields).toEqual(["objectives", "milestones", "tier", "eligibleClanIds"]);
    for (const field of ["name", "description", "theme", "leaderboardId", "shardCount", "expectedParticipants"]) {
      expect(eventBodyNeeds({ ...when, [field]: 1 })).toEqual({ need: "admin", fields: [field] });
    }
  });

  it("a field nobody listed is an admin's", () => {
    expect(eventBodyNeeds({ ...when, somethingNew: true }).need).toBe("admin");
  });

  it("the console's content and force capabilities follow the same rule, so the two cannot drift apart", () => {
    expect(capabilities("operator")).toMatchObject({ schedule: true, overrideContent: false, force: false });
    expect(capabilities("admin")).toMatchObject({ overrideContent: true, force: true });
  });
});
