// The ops side of a bench phase, through the real admin API (Bearer ADMIN_TOKEN): set up a template and a running
// event, then read back what the shards and D1 hold. Shared so later phases (WebSockets) set events up the same way.

export class ApiFailure extends Error {
  constructor(method, path, status, body) {
    super(`${method} ${path} → ${status}: ${body.slice(0, 1500)}`);
    Object.assign(this, { method, path, status, body });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One line on why a call failed: the API's status and error code, or the client-side failure (TimeoutError, …). */
export function describeError(err) {
  if (err instanceof ApiFailure) {
    let what = "";
    try {
      const e = JSON.parse(err.body).error ?? {};
      what = [e.code, e.message].filter(Boolean).join(": ");
    } catch {
      what = err.body;
    }
    return `${err.method} ${err.path} → ${err.status}${what ? ` ${what.slice(0, 200)}` : ""}`;
  }
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.name ?? "Error"}: ${String(err?.message ?? err).split("\n")[0].slice(0, 300)}${cause ? ` (${cause})` : ""}`;
}

/** `isAlive` (optional) tells whether the server process still runs: the waits below give up at once if it does not. */
export function adminApi(baseUrl, adminToken, isAlive = () => true) {
  const call = async (method, path, body, ok = [200, 201], timeoutMs = 30_000) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json", "x-operator": "bench" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!ok.includes(res.status)) throw new ApiFailure(method, path, res.status, text);
    return JSON.parse(text);
  };

  /**
   * A mini-tier template (exempt from the concurrency rules, so an earlier run's events cannot refuse it) whose
   * objectives have targets no bench can reach and no per-update or per-minute caps: nothing but the code under
   * test decides what is applied.
   */
  const createTemplate = (templateId) =>
    call("POST", "/v1/admin/templates", {
      templateId,
      type: "gacha",
      tier: "mini",
      name: "Bench progress",
      description: "Created by npm run bench.",
      objectives: [
        { objectiveId: "gems", description: "Collect gems", type: "collect", targetValue: 1e9, trackingKey: "bench.gems" },
        { objectiveId: "score", description: "Reach a score", type: "reach", targetValue: 1e9, trackingKey: "bench.score" },
      ],
      milestones: [
        { index: 0, progressThreshold: 0.25, rewards: [{ rewardId: "coins", type: "currency", itemId: "coins", quantity: 100 }] },
        { index: 1, progressThreshold: 1, rewards: [{ rewardId: "badge", type: "cosmetic", itemId: "cosmetic.bench", quantity: 1 }] },
      ],
    });

  /** An event starting now for two hours, then waits until it is active (activation runs on the event's alarm). */
  const createActiveEvent = async ({ templateId, shardCount, expectedParticipants }) => {
    const event = await call("POST", "/v1/admin/events", {
      templateId,
      startTime: "now",
      endTime: new Date(Date.now() + 2 * 3600_000).toISOString(),
      shardCount,
      expectedParticipants,
    });
    let state = event.state;
    for (let i = 0; state !== "active" && i < 100; i++) {
      await sleep(100);
      state = (await call("GET", `/v1/admin/events/${event.eventId}`)).state;
    }
    if (state !== "active") throw new Error(`event ${event.eventId} is still ${state} 10 s after a start of "now"`);
    return { ...event, state };
  };

  const summary = (eventId, timeoutMs) => call("GET", `/v1/admin/events/${eventId}/progress/summary`, undefined, [200], timeoutMs);
  const totals = (eventId, timeoutMs) => call("GET", `/v1/admin/events/${eventId}/progress/totals`, undefined, [200], timeoutMs);

  /**
   * Polls the shards until their outboxes are empty, i.e. D1 has everything they acknowledged. A busy server (a
   * backlog of socket frames, a box short of CPU) may time a poll out or fail it: that is retried until the deadline,
   * never thrown. Resolves { drained, waitedSec, summary (the last answer, or null), error (the last failure, if the
   * last poll failed) }.
   */
  const waitDrained = async (eventId, timeoutMs, log) => {
    const started = Date.now();
    const left = () => timeoutMs - (Date.now() - started);
    let s = null;
    let error = null;
    let lastLog = Date.now();
    for (;;) {
      try {
        s = await summary(eventId, Math.max(1000, Math.min(30_000, left())));
        error = null;
        if (s.ingest.outboxPending === 0) return { drained: true, waitedSec: (Date.now() - started) / 1000, summary: s, error };
      } catch (err) {
        error = describeError(err);
      }
      if (!isAlive()) error = "the server is not running";
      if (left() <= 0 || !isAlive()) return { drained: false, waitedSec: (Date.now() - started) / 1000, summary: s, error };
      if (Date.now() - lastLog > 5000) {
        log(error ? `the shards' summary failed (${error}); retrying` : `waiting for the outbox to drain: ${s.ingest.outboxPending} players pending`);
        lastLog = Date.now();
      }
      await sleep(250);
    }
  };

  /** D1's totals, retried like the summary for up to `timeoutMs`; resolves { totals } or { error }. */
  const tryTotals = async (eventId, timeoutMs = 30_000) => {
    const started = Date.now();
    for (;;) {
      try {
        return { totals: await totals(eventId, Math.max(1000, Math.min(30_000, timeoutMs - (Date.now() - started)))) };
      } catch (err) {
        if (!isAlive()) return { error: "the server is not running" };
        if (Date.now() - started >= timeoutMs) return { error: describeError(err) };
        await sleep(500);
      }
    }
  };

  return { call, createTemplate, createActiveEvent, summary, totals, waitDrained, tryTotals };
}
