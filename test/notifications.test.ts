// The notification schedule through the real EventActor: timetable rows, exactly-once firing into D1 and the
// feed, live notification frames, reschedule/pause/cancel, the push consumer without a provider, and the feed API.
import { createMessageBatch, createExecutionContext, env, getQueueResult } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { DAY, HOUR, call, createEvent, createTemplate, inMs, playerToken, runInDurableObject } from "./helpers";
import { connect, type Client } from "./live-helpers";
import { claim, earn, settle } from "./rewards-helpers";

const stub = (id: string) => env.EVENT_ACTOR.get(env.EVENT_ACTOR.idFromName(id));
const tick = (id: string, at: number) => runInDurableObject(stub(id), (o) => o.tick(at));
const notifyRows = async (id: string) =>
  (await runInDurableObject(stub(id), (_o, s) => s.storage.sql.exec("SELECT 'notify:' || key AS kind, due_at FROM schedule WHERE kind = 'notify' ORDER BY key").toArray())) as {
    kind: string;
    due_at: number;
  }[];
const d1Rows = async (id: string) =>
  (await env.DB.prepare("SELECT notification_id, notification_type, target_player_id, status, payload IS NOT NULL AS fired FROM notification_queue WHERE event_id = ? ORDER BY notification_id").bind(id).all<any>()).results;

const events: string[] = [];
const sockets: Client[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) if (!s.closed) s.ws.close(1000, "done");
  for (const id of events.splice(0)) await runInDurableObject(stub(id), (_o, s) => s.storage.deleteAlarm());
});
const OBJ = [{ objectiveId: "pts", description: "Points", type: "collect", targetValue: 10, trackingKey: "pts" }];
const MS = [
  { index: 0, progressThreshold: 0.2, rewards: [{ rewardId: "a", type: "currency", itemId: "coins", quantity: 1 }] },
  { index: 1, progressThreshold: 0.4 },
  { index: 2, progressThreshold: 0.6 },
  { index: 3, progressThreshold: 0.8 },
];
async function event(body: Record<string, unknown>) {
  const t = await createTemplate({ name: "Frost Fest", objectives: OBJ, milestones: MS });
  const e = await createEvent(t.templateId, { shardCount: 1, ...body });
  events.push(e.eventId);
  return e;
}

describe("the timetable in the event object's schedule table", () => {
  it("a normal event: preview at start − 24 h; start at activation; urgency and expiration warning before the end", async () => {
    const start = Date.now() + 2 * DAY;
    const end = start + DAY;
    const e = await event({ startTime: new Date(start).toISOString(), endTime: new Date(end).toISOString() });
    const s = Date.parse(e.startTime);
    const en = Date.parse(e.endTime);
    expect(await notifyRows(e.eventId)).toEqual([{ kind: "notify:preview", due_at: s - DAY }]);
    // The record shows the planned notification as pending.
    expect(await d1Rows(e.eventId)).toEqual(expect.arrayContaining([expect.objectContaining({ notification_type: "preview", status: "pending", fired: 0 })]));

    await tick(e.eventId, s - DAY);
    await tick(e.eventId, s - DAY + 1); // a repeated alarm
    expect((await d1Rows(e.eventId)).filter((r) => r.notification_type === "preview")).toEqual([
      expect.objectContaining({ notification_id: `${e.eventId}:preview`, target_player_id: null, fired: 1 }),
    ]);
    await tick(e.eventId, s);
    expect(await notifyRows(e.eventId)).toEqual([
      { kind: "notify:expiration_warning", due_at: en - HOUR },
      { kind: "notify:urgency", due_at: en - 2 * HOUR },
    ]);
    expect((await d1Rows(e.eventId)).find((r) => r.notification_type === "start")).toMatchObject({ fired: 1 });
  });

  it("rescheduling moves the preview, pausing drops the end reminders, cancelling cancels everything pending", async () => {
    const start = Date.now() + 3 * DAY;
    const e = await event({ startTime: new Date(start).toISOString(), endTime: new Date(start + DAY).toISOString() });
    const moved = Date.now() + 5 * DAY;
    await call("PATCH", `/v1/admin/events/${e.eventId}`, { body: { startTime: new Date(moved).toISOString(), endTime: new Date(moved + DAY).toISOString() } });
    const [row] = await notifyRows(e.eventId);
    expect(row).toEqual({ kind: "notify:preview", due_at: Date.parse(new Date(moved).toISOString()) - DAY });
    await call("POST", `/v1/admin/events/${e.eventId}/cancel`);
    expect(await notifyRows(e.eventId)).toEqual([]);
    expect((await d1Rows(e.eventId)).filter((r) => r.status === "pending")).toEqual([]);
    expect((await d1Rows(e.eventId)).find((r) => r.notification_type === "preview")).toMatchObject({ status: "cancelled" });

    const live = await event({ startTime: "now", endTime: inMs(5 * HOUR) });
    await tick(live.eventId, Date.now());
    expect((await notifyRows(live.eventId)).map((r) => r.kind)).toEqual(["notify:expiration_warning", "notify:urgency"]);
    await call("POST", `/v1/admin/events/${live.eventId}/pause`);
    expect(await notifyRows(live.eventId)).toEqual([]);
    const newEnd = Date.now() + 10 * HOUR;
    await call("POST", `/v1/admin/events/${live.eventId}/resume`, { body: { endTime: new Date(newEnd).toISOString() } });
    const rows = await notifyRows(live.eventId);
    expect(rows.find((r) => r.kind === "notify:urgency")!.due_at).toBe(Date.parse(new Date(newEnd).toISOString()) - 2 * HOUR);
  });
});

describe("firing", () => {
  it("broadcasts go live to every socket, with ending_soon for the urgency reminder", async () => {
    const e = await event({ startTime: inMs(HOUR), endTime: inMs(4 * HOUR) });
    const { client } = await connect(e.eventId, await playerToken("listener"));
    sockets.push(client!);
    await tick(e.eventId, Date.parse(e.startTime)); // activation fires the start notification
    expect(await client!.next((f) => f.type === "notification" && f.notificationType === "start")).toMatchObject({ title: "Frost Fest has started", display: "popup" });
    await tick(e.eventId, Date.parse(e.endTime) - 2 * HOUR);
    expect(await client!.next((f) => f.type === "event_state" && f.change === "ending_soon")).toBeTruthy();
    expect(await client!.next((f) => f.notificationType === "urgency")).toMatchObject({ display: "banner" });
  });

  it("the expiration warning goes only to players with unclaimed rewards, once each", async () => {
    const e = await event({ startTime: "now", endTime: inMs(3 * HOUR) });
    const tokenA = await earn(e.eventId, "unclaimed-a", 2);
    const tokenB = await earn(e.eventId, "claimed-b", 2);
    await claim(e.eventId, tokenB, 0, "k");
    await earn(e.eventId, "nothing-c", 1);
    const { client } = await connect(e.eventId, tokenA);
    sockets.push(client!);
    await tick(e.eventId, Date.parse(e.endTime) - HOUR);
    await tick(e.eventId, Date.parse(e.endTime) - HOUR + 5);
    const rows = (await d1Rows(e.eventId)).filter((r) => r.notification_type === "expiration_warning");
    expect(rows.map((r) => r.target_player_id)).toEqual([null, "unclaimed-a"]);
    expect(await client!.next((f) => f.notificationType === "expiration_warning")).toMatchObject({ display: "popup" });
  });
});

describe("when the window moves, or is shorter than a notification's lead", () => {
  it("an event extended after its ending-soon fired gets a new one at the new end − 2 h, under its own id", async () => {
    const e = await event({ startTime: "now", endTime: inMs(3 * HOUR) });
    const end = Date.parse(e.endTime);
    await tick(e.eventId, end - 2 * HOUR);
    expect((await notifyRows(e.eventId)).map((r) => r.kind)).not.toContain("notify:urgency");
    const newEnd = end + DAY;
    await call("PATCH", `/v1/admin/events/${e.eventId}`, { body: { endTime: new Date(newEnd).toISOString() } });
    expect((await notifyRows(e.eventId)).find((r) => r.kind === "notify:urgency")).toEqual({ kind: "notify:urgency", due_at: newEnd - 2 * HOUR });
    await tick(e.eventId, newEnd - 2 * HOUR);
    await tick(e.eventId, newEnd - 2 * HOUR + 5); // a repeated alarm sends nothing more
    const urgency = (await d1Rows(e.eventId)).filter((r) => r.notification_type === "urgency");
    expect(urgency.map((r) => [r.notification_id, r.fired])).toEqual([
      [`${e.eventId}:urgency`, 1],
      [`${e.eventId}:urgency#2`, 1],
    ]);
    // A smaller extension keeps the message already sent: nobody hears "ends soon" twice for about the same end.
    await call("PATCH", `/v1/admin/events/${e.eventId}`, { body: { endTime: new Date(newEnd + HOUR).toISOString() } });
    expect((await notifyRows(e.eventId)).map((r) => r.kind)).not.toContain("notify:urgency");
  });

  it("an event postponed after its preview fired gets a new preview at the new start − 24 h", async () => {
    const start = Date.now() + 2 * DAY;
    const e = await event({ startTime: new Date(start).toISOString(), endTime: new Date(start + DAY).toISOString() });
    await tick(e.eventId, Date.parse(e.startTime) - DAY);
    const later = Date.parse(e.startTime) + 3 * DAY;
    await call("PATCH", `/v1/admin/events/${e.eventId}`, { body: { startTime: new Date(later).toISOString(), endTime: new Date(later + DAY).toISOString() } });
    expect(await notifyRows(e.eventId)).toEqual([{ kind: "notify:preview", due_at: later - DAY }]);
    expect((await d1Rows(e.eventId)).find((r) => r.notification_id === `${e.eventId}:preview#2`)).toMatchObject({ status: "pending", fired: 0 });
  });

  it("a 20-minute event warns a player with unclaimed rewards at its midpoint, saying how long is left", async () => {
    const e = await event({ startTime: "now", endTime: inMs(20 * 60_000) });
    const start = Date.parse(e.startTime);
    const end = Date.parse(e.endTime);
    expect((await notifyRows(e.eventId)).find((r) => r.kind === "notify:expiration_warning")!.due_at).toBe(end - Math.floor((end - start) / 2));
    await earn(e.eventId, "short-holder", 2);
    await tick(e.eventId, end - Math.floor((end - start) / 2));
    const rows = (await d1Rows(e.eventId)).filter((r) => r.notification_type === "expiration_warning");
    expect(rows.map((r) => r.target_player_id)).toEqual([null, "short-holder"]);
    const payload = await env.DB.prepare("SELECT payload FROM notification_queue WHERE notification_id = ?").bind(`${e.eventId}:expiration_warning:short-holder`).first<{ payload: string }>();
    expect(JSON.parse(payload!.payload).title).toBe("Frost Fest ends in 10 minutes");
  });

  it("a warning with nobody to warn ends as skipped instead of waiting for a push that never comes", async () => {
    const e = await event({ startTime: "now", endTime: inMs(3 * HOUR) });
    await tick(e.eventId, Date.parse(e.endTime) - HOUR);
    expect((await d1Rows(e.eventId)).find((r) => r.notification_id === `${e.eventId}:expiration_warning`)).toMatchObject({ status: "skipped", fired: 1 });
  });
});

describe("the in-game feed", () => {
  it("shows fired broadcasts and the player's milestones, unseen first, popups capped per day; records shown and clicked", async () => {
    const e = await event({ startTime: "now", endTime: inMs(3 * HOUR) });
    await tick(e.eventId, Date.now()); // start: a broadcast popup
    const token = await earn(e.eventId, "feeder", 8); // four milestones → four milestone popups
    await settle(e.eventId, 1);
    const feed = await call("GET", "/v1/notifications?limit=50", { token });
    expect(feed.status).toBe(200);
    const mine = feed.json.notifications.filter((n: any) => n.eventId === e.eventId);
    expect(mine.map((n: any) => n.type).sort()).toEqual(["milestone", "milestone", "milestone", "milestone", "start"]);
    // Five popups today, three allowed (NOTIFICATION_POPUPS_PER_DAY): the last two fall back to the feed.
    expect(mine.filter((n: any) => n.display === "popup").length).toBeLessThanOrEqual(3);
    expect(mine.filter((n: any) => n.display === "feed").length).toBeGreaterThanOrEqual(2);
    expect(mine.every((n: any) => n.seen === false)).toBe(true);

    const first = mine[0].notificationId;
    expect((await call("POST", `/v1/notifications/${encodeURIComponent(first)}/shown`, { token })).status).toBe(200);
    expect((await call("POST", `/v1/notifications/${encodeURIComponent(first)}/clicked`, { token })).status).toBe(200);
    const after = (await call("GET", "/v1/notifications?limit=50", { token })).json.notifications.filter((n: any) => n.eventId === e.eventId);
    expect(after.at(-1)).toMatchObject({ notificationId: first, seen: true, clicked: true });
    // Someone else's notification is not theirs to mark.
    expect((await call("POST", `/v1/notifications/${encodeURIComponent(`${e.eventId}:milestone:0:feeder`)}/shown`, { token: await playerToken("other") })).status).toBe(404);
    expect((await call("GET", "/v1/notifications?limit=0", { token })).status).toBe(400);
  });

  it("the push consumer with no provider configured marks rows sent: the feed is the channel", async () => {
    const e = await event({ startTime: "now", endTime: inMs(3 * HOUR) });
    await tick(e.eventId, Date.now());
    const id = `${e.eventId}:start`;
    const batch = createMessageBatch("push-notifications", [{ id: "p1", timestamp: new Date(), attempts: 1, body: { notificationId: id, eventId: e.eventId, type: "start", title: "t", body: "b", audience: "all", batch: 0 } }]);
    await worker.queue(batch as never, env);
    expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(["p1"]);
    expect(await env.DB.prepare("SELECT status FROM notification_queue WHERE notification_id = ?").bind(id).first()).toEqual({ status: "sent" });
  });
});
