import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ClientFrame } from "../domain/live";
import { CreateEventBody, CreateTemplateBody, ProgressUpdates, SettingsBody } from "../domain/model";
import { describeValue, zodProblems } from "./validation";

const problems = (schema: z.ZodType, value: unknown) => {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error("expected a failure");
  return Object.fromEntries(zodProblems(parsed.error).map((p) => [p.path, p.message]));
};

const event = { templateId: "winter", startTime: "now", endTime: "2030-01-01T00:00:00Z" };

describe("zodProblems", () => {
  it("says 'is required' only when the field is absent", () => {
    const { startTime: _s, ...noStart } = event;
    expect(problems(CreateEventBody, noStart)).toEqual({ startTime: "is required" });
    expect(problems(CreateEventBody, { ...event, endTime: undefined })).toEqual({ endTime: "is required" });
    expect(problems(ProgressUpdates, [{ objectiveId: "a", amount: 1 }])).toEqual({ "[0].seq": "is required" });
  });

  it("names the expected type and the value that came instead", () => {
    expect(problems(ProgressUpdates, [{ objectiveId: "a", amount: 1, seq: "x" }])).toEqual({ "[0].seq": 'must be a number, got string "x"' });
    expect(problems(ProgressUpdates, [{ objectiveId: "a", amount: 1, seq: 1.5 }])).toEqual({ "[0].seq": "must be an integer, got number 1.5" });
    expect(problems(CreateEventBody, { ...event, force: "yes" })).toEqual({ force: 'must be a boolean (true or false), got string "yes"' });
    expect(problems(SettingsBody, { maxConcurrent: null })).toEqual({ maxConcurrent: "must be a number, got null" });
    expect(problems(SettingsBody, { maxConcurrent: 0 })).toEqual({ maxConcurrent: "must be at least 1, got number 0" });
    expect(problems(CreateEventBody, { ...event, objectives: {} })).toEqual({ objectives: "must be an array, got an object" });
  });

  it("lists a union's alternatives and an enum's values, with what came", () => {
    expect(problems(CreateEventBody, { ...event, startTime: 5 })).toEqual({
      startTime: 'must be "now" or an ISO 8601 date-time with offset, got number 5',
    });
    expect(problems(CreateEventBody, { ...event, startTime: "tomorrow" })).toEqual({
      startTime: 'must be an ISO 8601 date-time with offset, e.g. 2026-12-01T00:00:00Z, got string "tomorrow"',
    });
    expect(problems(CreateEventBody, { ...event, tier: "huge" })).toEqual({ tier: 'must be one of: major, standard, mini, daily, got string "huge"' });
  });

  it("answers a live frame the same way, discriminator included", () => {
    expect(problems(ClientFrame, { type: "progress", updates: [{ objectiveId: "a", amount: 1, seq: "x" }] })).toEqual({
      "updates[0].seq": 'must be a number, got string "x"',
    });
    expect(problems(ClientFrame, { type: "dance" })).toEqual({ type: 'must be one of: progress, ping, got string "dance"' });
    expect(problems(ClientFrame, {})).toEqual({ type: "is required" });
  });

  it("keeps a schema's own words and the unknown-field message", () => {
    const template = { templateId: "Not A Slug!", type: "seasonal", tier: "mini", name: "n", objectives: [], milestones: [] };
    expect(problems(CreateTemplateBody, template).templateId).toMatch(/^must be a slug/);
    expect(problems(CreateEventBody, { ...event, surprise: 1 })).toEqual({ "": "has unknown field(s): surprise" });
  });

  it("quotes values briefly", () => {
    expect(describeValue("x".repeat(100))).toBe(`string "${"x".repeat(40)}…"`);
    expect(describeValue(true)).toBe("boolean true");
    expect(describeValue([1])).toBe("an array");
  });
});
