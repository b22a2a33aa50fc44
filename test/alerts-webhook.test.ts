// Alert delivery to a real HTTP receiver on 127.0.0.1 (test/webhook-server.ts, /alerts): signed per Standard
// Webhooks and verified there with the `standardwebhooks` package; the receiver refuses each delivery id once, so
// every delivery is seen to be retried by the next minute's run, with the same webhook-id.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { markDelivery } from "../src/db/alerts";
import { deliverAlerts, evaluateAlerts } from "../src/jobs/alerts";
import { DAY, HOUR, call, createEvent, createTemplate } from "./helpers";

const MIN = 60_000;
const server = (path: string) => `${env.ALERTS_WEBHOOK_URL.replace("/alerts", "")}${path}`;
const received = async () => (await (await fetch(server("/__received"))).json()) as any[];
const failures = async () => (await (await fetch(server("/__failures"))).json()) as any[];

async function cron(at: number) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("the alerts webhook", () => {
  it("gets alert.opened and alert.resolved, signed, each retried after a 503 with the same id", async () => {
    const t = await createTemplate();
    const start = Date.now() + 50 * DAY;
    const ev = await createEvent(t.templateId, { startTime: new Date(start).toISOString(), endTime: new Date(start + 12 * HOUR).toISOString() });
    await env.DB.prepare("UPDATE instances SET state = 'failed_activation' WHERE event_id = ?").bind(ev.eventId).run();
    await cron(start + MIN);
    const alert = (await call("GET", `/v1/admin/alerts?eventId=${ev.eventId}&state=open`)).json.alerts[0];
    expect(alert).toMatchObject({ kind: "activation_failed", webhook: { pending: "opened", attempts: 1, lastStatus: 503 } });
    await cron(start + 2 * MIN);
    expect((await call("GET", `/v1/admin/alerts/${alert.alertId}`)).json.webhook).toEqual({ pending: null, attempts: 2, lastStatus: 200 });

    await env.DB.prepare("UPDATE instances SET state = 'active' WHERE event_id = ?").bind(ev.eventId).run();
    await cron(start + 3 * MIN);
    await cron(start + 4 * MIN);
    expect((await call("GET", `/v1/admin/alerts/${alert.alertId}`)).json).toMatchObject({ state: "resolved", webhook: { pending: null, lastStatus: 200 } });

    const mine = (await received()).filter((r) => r.path === "/alerts" && r.key.startsWith(`alert:${alert.alertId}:`));
    expect(mine.map((r) => [r.key, r.status, r.verified])).toEqual([
      [`alert:${alert.alertId}:opened`, 503, true],
      [`alert:${alert.alertId}:opened`, 200, true],
      [`alert:${alert.alertId}:resolved`, 503, true],
      [`alert:${alert.alertId}:resolved`, 200, true],
    ]);
    expect(mine.map((r) => r.type)).toEqual(["alert.opened", "alert.opened", "alert.resolved", "alert.resolved"]);
    expect(mine[0].alert).toMatchObject({ alertId: alert.alertId, kind: "activation_failed", severity: "critical", eventId: ev.eventId, state: "open" });
    expect(mine[3].alert).toMatchObject({ state: "resolved", resolvedBy: "system" });
    expect((await failures()).filter((f) => f.path === "/alerts")).toEqual([]);
  });

  it("an alert resolved before any alert.opened attempt sends neither; once one was made (refused, or in flight), alert.resolved follows", async () => {
    const t = await createTemplate();
    const failing = async (days: number) => {
      const start = Date.now() + days * DAY;
      const ev = await createEvent(t.templateId, { startTime: new Date(start).toISOString(), endTime: new Date(start + 12 * HOUR).toISOString() });
      await env.DB.prepare("UPDATE instances SET state = 'failed_activation' WHERE event_id = ?").bind(ev.eventId).run();
      return { start, eventId: ev.eventId as string };
    };
    const activate = (eventId: string) => env.DB.prepare("UPDATE instances SET state = 'active' WHERE event_id = ?").bind(eventId).run();
    const openOf = async (eventId: string) => (await call("GET", `/v1/admin/alerts?eventId=${eventId}&state=open`)).json.alerts[0];
    const view = async (alertId: string) => (await call("GET", `/v1/admin/alerts/${alertId}`)).json;
    const sent = async (alertId: string) => (await received()).filter((r) => r.path === "/alerts" && r.key.startsWith(`alert:${alertId}:`)).map((r) => [r.key.split(":")[2], r.status]);

    // Never attempted (evaluated, not delivered), then resolved: nothing is owed, nothing is ever sent.
    const quiet = await failing(60);
    await evaluateAlerts(env.DB, quiet.start + MIN);
    const never = await openOf(quiet.eventId);
    expect(never.webhook).toEqual({ pending: "opened", attempts: 0, lastStatus: null });
    await activate(quiet.eventId);
    await evaluateAlerts(env.DB, quiet.start + 2 * MIN);
    expect(await view(never.alertId)).toMatchObject({ state: "resolved", webhook: { pending: null, attempts: 0 } });
    await cron(quiet.start + 3 * MIN);
    expect(await sent(never.alertId)).toEqual([]);

    // Attempted (the receiver answered 503; a timeout is the same: it may have processed it), then resolved before
    // the retry: alert.resolved replaces the owed alert.opened, so a receiver that did process it hears it cleared.
    const refused = await failing(62);
    await cron(refused.start + MIN);
    const tried = await openOf(refused.eventId);
    expect(tried.webhook).toEqual({ pending: "opened", attempts: 1, lastStatus: 503 });
    await activate(refused.eventId);
    await cron(refused.start + 2 * MIN);
    await cron(refused.start + 3 * MIN);
    expect((await view(tried.alertId)).webhook).toEqual({ pending: null, attempts: 2, lastStatus: 200 });
    expect(await sent(tried.alertId)).toEqual([["opened", 503], ["resolved", 503], ["resolved", 200]]);

    // In flight: a delivery run read the owed alert.opened, the alert resolved (dropping it: no attempt counted yet),
    // then the attempt's answer lands: it was made, so alert.resolved is owed.
    const flight = await failing(64);
    await evaluateAlerts(env.DB, flight.start + MIN);
    const inFlight = await openOf(flight.eventId);
    await activate(flight.eventId);
    await evaluateAlerts(env.DB, flight.start + 2 * MIN);
    expect((await view(inFlight.alertId)).webhook).toEqual({ pending: null, attempts: 0, lastStatus: null });
    await markDelivery(env.DB, inFlight.alertId, "opened", 200, true);
    expect((await view(inFlight.alertId)).webhook).toEqual({ pending: "resolved", attempts: 0, lastStatus: 200 });
    await markDelivery(env.DB, inFlight.alertId, "opened", 200, true); // a duplicate answer changes nothing
    expect((await view(inFlight.alertId)).webhook).toEqual({ pending: "resolved", attempts: 0, lastStatus: 200 });

    // an owed delivery and a run whose delivery budget is spent: nothing is sent, it stays owed
    await env.DB.prepare("UPDATE alerts SET delivery_pending = 'resolved', delivery_attempts = 0 WHERE alert_id = ?").bind(never.alertId).run();
    expect(await deliverAlerts(env, Date.now() - 1)).toBe(0);
    expect((await view(never.alertId)).webhook).toMatchObject({ pending: "resolved", attempts: 0 });
    await deliverAlerts(env); // no deadline: tried (and refused once by the receiver, so still owed)
    expect((await view(never.alertId)).webhook).toEqual({ pending: "resolved", attempts: 1, lastStatus: 503 });
    expect((await view(inFlight.alertId)).webhook).toEqual({ pending: "resolved", attempts: 1, lastStatus: 503 });
  });
});
