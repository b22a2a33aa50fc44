// Seeds the demo templates through the admin API, so they pass the same validation as anything ops create.
// Idempotent: an existing template (409) is left as it is.
import { readFileSync } from "node:fs";

export async function seedDemoTemplates(base, adminToken) {
  const templates = JSON.parse(readFileSync(new URL("../seed/demo-templates.json", import.meta.url), "utf8"));
  const done = [];
  for (const t of templates) {
    const res = await fetch(`${base}/v1/admin/templates`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(t),
    });
    if (res.status !== 201 && res.status !== 409) throw new Error(`${t.templateId}: ${res.status} ${await res.text()}`);
    done.push(t.templateId);
  }
  return done;
}

/**
 * A few demo events so the ops console's calendar has something to show on a fresh `npm start`: a daily sprint from
 * the next hour, an arena weekend in 2 days, the winter festival (a major) in a week. Only into an empty schedule:
 * once any event exists (these or the developer's own), nothing is added.
 */
export async function seedDemoEvents(base, adminToken, now = Date.now()) {
  const headers = { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" };
  const existing = await fetch(`${base}/v1/admin/events?limit=1`, { headers });
  if (!existing.ok) throw new Error(`listing events: ${existing.status} ${await existing.text()}`);
  if ((await existing.json()).events.length > 0) return [];
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const nextHour = Math.ceil(now / HOUR) * HOUR;
  const day = Math.floor(now / DAY) * DAY;
  const iso = (ms) => new Date(ms).toISOString();
  const plan = [
    { templateId: "daily-sprint", startTime: iso(nextHour), endTime: iso(nextHour + DAY) },
    { templateId: "arena-clash", startTime: iso(day + 2 * DAY + 18 * HOUR), endTime: iso(day + 4 * DAY + 22 * HOUR) },
    { templateId: "winter-festival", startTime: iso(day + 7 * DAY), endTime: iso(day + 14 * DAY) },
  ];
  const made = [];
  for (const body of plan) {
    const res = await fetch(`${base}/v1/admin/events`, { method: "POST", headers, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`${body.templateId} event: ${res.status} ${await res.text()}`);
    made.push((await res.json()).eventId);
  }
  return made;
}
