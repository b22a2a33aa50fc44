import { describe, expect, it } from "vitest";
import { call, createEvent, createTemplate } from "./helpers";

describe("smoke", () => {
  it("creates a template and an event", async () => {
    const t = await createTemplate();
    const e = await createEvent(t.templateId);
    expect(e.state).toBe("scheduled");
    const got = await call("GET", `/v1/admin/events/${e.eventId}`);
    expect(got.status).toBe(200);
    expect(got.json.transitions).toHaveLength(1);
  });
});
