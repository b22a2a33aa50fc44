// The ops console (public/console, README "Console") in a real Chromium against a real `wrangler dev` serving it as
// static assets: an operator signs in, sees the demo calendar (npm start's demo events), creates an event whose dry run
// shows a conflict and then fits, watches it go active (it starts 40 s after it is typed: the scheduler takes any
// future start), pauses and resumes it with reasons, sees the report's charts; a viewer cannot pause (the button is
// hidden and the API refuses); an admin edits a template with a diff; the review queue shows a flagged player's
// evidence and an operator clears the flag. Every visible control must have an accessible name, and arrow keys move
// between the calendar's days. Screenshots go to test-results/ (gitignored). Needs Debian's chromium (playwright-core).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { chromium } from "playwright-core";
import { seedDemoEvents, seedDemoTemplates } from "../../scripts/seed.mjs";
import { devSecrets, liveEvent, playerToken, root, startWorker } from "./worker.mjs";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(root, "test-results");
const ADMIN = devSecrets.ADMIN_TOKEN;
const iso = (ms) => new Date(ms).toISOString();

let worker, browser, operatorKey, viewerKey, eventId;

async function admin(method, path, body, token = ADMIN) {
  const res = await fetch(`${worker.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}
const key = async (name, role) => (await admin("POST", "/v1/admin/keys", { kind: "operator", name, role })).json.key;

/** Every visible control without an accessible name (aria-label, aria-labelledby, a <label>, or its own text). */
function unlabelledControls(page) {
  return page.evaluate(() => {
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && !el.closest("[hidden]");
    const nameOf = (el) => {
      const by = el.getAttribute("aria-labelledby");
      if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join(" ").trim();
      if (el.getAttribute("aria-label")) return el.getAttribute("aria-label").trim();
      if (el.labels?.length) return [...el.labels].map((l) => l.textContent).join(" ").trim();
      if (["BUTTON", "A"].includes(el.tagName)) return (el.textContent || el.getAttribute("title") || "").trim();
      return "";
    };
    return [...document.querySelectorAll("input, select, textarea, button, a[href], [role=gridcell]")]
      .filter((el) => visible(el) && el.type !== "hidden" && !nameOf(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
}

async function signIn(page, credential) {
  await page.goto(`${worker.baseUrl}/console/`);
  await page.getByLabel("Operator key").fill(credential);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#who .role").waitFor();
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), "Chromium is missing: apt-get install -y chromium");
  mkdirSync(SHOTS, { recursive: true });
  worker = await startWorker({ preferredPort: 8794 });
  await seedDemoTemplates(worker.baseUrl, ADMIN);
  assert.equal((await seedDemoEvents(worker.baseUrl, ADMIN)).length, 3);
  operatorKey = await key("dana", "operator");
  viewerKey = await key("vera", "viewer");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  await worker?.stop();
});

describe("the ops console", () => {
  test("is served by the Worker at /console/ with a CSP that allows no inline script; /v1 is unchanged", async () => {
    const page = await fetch(`${worker.baseUrl}/console/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /text\/html/);
    const csp = page.headers.get("content-security-policy");
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
    assert.equal((await fetch(`${worker.baseUrl}/console/app.js`)).status, 200);
    const bare = await fetch(`${worker.baseUrl}/console`, { redirect: "manual" });
    assert.equal(bare.status, 307);
    assert.equal(new URL(bare.headers.get("location"), worker.baseUrl).pathname, "/console/");
    const lost = await fetch(`${worker.baseUrl}/v1/admin/no-such-thing`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    assert.equal(lost.status, 404);
    assert.equal((await lost.json()).error.code, "not_found");
    assert.equal((await fetch(`${worker.baseUrl}/health`)).status, 200);
  });

  test("an operator signs in and sees the demo calendar; its days are keyboard-navigable and every control is labelled", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto(`${worker.baseUrl}/console/`);
    assert.deepEqual(await unlabelledControls(page), [], "the sign-in form");
    await signIn(page, operatorKey);
    assert.match(await page.locator("#who").textContent(), /operator.*key:[a-z0-9]+:dana/);
    await page.locator("table.calendar a", { hasText: "Lucky Sprint" }).first().waitFor();
    assert.match(await page.locator("#cal-title").textContent(), /\w+ \d{4}/);
    assert.match(await page.getByLabel("iCalendar subscription URL").inputValue(), /\/v1\/admin\/calendar\?format=ics&token=/);
    await page.screenshot({ path: join(SHOTS, "console-calendar-month.png"), fullPage: true });
    assert.deepEqual(await unlabelledControls(page), [], "the calendar");

    // A chip's fill is its type (the legend's), whatever its state: Lucky Sprint (gacha) and Arena Clash (competitive).
    const fill = (selector) => page.locator(selector).first().evaluate((el) => getComputedStyle(el).backgroundColor);
    const gacha = await fill("table.calendar a.type-gacha");
    const competitive = await fill("table.calendar a.type-competitive");
    assert.notEqual(gacha, competitive);
    assert.equal(gacha, await fill(".legend .type-gacha"));
    assert.equal(competitive, await fill(".legend .type-competitive"));

    // Arrow keys move focus between days (the roving tabindex of the ARIA grid pattern).
    // Past the grid's edge (late in a month) a key turns the page first: wait for the focus to land before reading it.
    const focused = () => page.evaluate(() => document.activeElement?.dataset?.date);
    const focusOn = async (date) => {
      await page.waitForFunction((d) => document.activeElement?.dataset?.date === d, date, { timeout: 5000 }).catch(() => {});
      assert.equal(await focused(), date);
    };
    const start = await page.locator('td[role=gridcell][tabindex="0"]').getAttribute("data-date");
    await page.locator('td[role=gridcell][tabindex="0"]').focus();
    const shift = (d, n) => iso(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).slice(0, 10);
    await page.keyboard.press("ArrowRight");
    await focusOn(shift(start, 1));
    await page.keyboard.press("ArrowDown");
    await focusOn(shift(start, 8));
    await page.keyboard.press("ArrowLeft");
    await focusOn(shift(start, 7));
    await page.keyboard.press("ArrowUp");
    await focusOn(start);
    assert.equal(await page.locator('td[role=gridcell][tabindex="0"]').count(), 1, "one day in the tab order");

    // The week view and a filter, as the calendar API takes them.
    await page.getByLabel("View").selectOption("week");
    await page.locator("table.calendar.week").waitFor();
    await page.getByLabel("Tier").selectOption("mini");
    await page.locator("table.calendar a", { hasText: "Lucky Sprint" }).first().waitFor();
    assert.equal(await page.locator("table.calendar a", { hasText: "Arena Clash" }).count(), 0);
    await page.screenshot({ path: join(SHOTS, "console-calendar-week.png"), fullPage: true });
    // A filter picks the chips, not the peak: in three days Arena Clash (standard) runs all day, filtered out or not.
    await page.getByLabel("View").selectOption("month");
    await page.locator("table.calendar.month").waitFor();
    const arenaDay = page.locator(`td[data-date="${iso(Date.now() + 3 * 86_400_000).slice(0, 10)}"]`);
    assert.equal(await arenaDay.locator("a", { hasText: "Arena Clash" }).count(), 0);
    assert.match(await arenaDay.locator(".peak").textContent(), /^1\//);
    await page.getByLabel("Tier").selectOption("");
    await arenaDay.locator("a", { hasText: "Arena Clash" }).waitFor();
    assert.match(await arenaDay.locator(".peak").textContent(), /^1\//);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("creates an event whose dry run shows a conflict, fixes it, and watches it go active", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, operatorKey);
    await page.getByRole("link", { name: "Create event" }).click();
    await page.getByLabel(/Winter Festival/).check();
    assert.deepEqual(await unlabelledControls(page), [], "step 1");
    for (let i = 0; i < 3; i++) {
      await page.getByRole("button", { name: "Next" }).click();
      assert.deepEqual(await unlabelledControls(page), [], `step ${i + 2}`);
    }
    // An operator runs the template as approved: the content fields are read-only and force is not offered.
    assert.equal(await page.getByLabel("Start (UTC, ISO 8601, or “now”)").isEditable(), true);
    assert.equal(await page.locator("#force-box").isVisible(), false);

    // Up to 6 days: too close to the demo Winter Festival (a major a week out) — the dry run says so as it is typed.
    const start = Date.now() + 40_000;
    await page.getByLabel("Start (UTC, ISO 8601, or “now”)").fill(iso(start));
    await page.getByLabel("End (UTC, ISO 8601)").fill(iso(start + 6 * 86_400_000));
    const sentence = page.locator(".conflict-sentence").first();
    await sentence.waitFor();
    assert.match(await sentence.textContent(), /major events need at least 48 h between them/);
    assert.equal(await page.getByRole("button", { name: "Create event" }).isDisabled(), true);
    await page.screenshot({ path: join(SHOTS, "console-create-conflict.png"), fullPage: true });

    // One hour instead: it fits.
    await page.getByLabel("End (UTC, ISO 8601)").fill(iso(start + 3_600_000));
    await page.locator("#dry-run .ok").waitFor();
    await page.getByRole("button", { name: "Create event" }).click();
    await page.waitForURL(/#\/events\/evt_/);
    eventId = page.url().split("/").pop();
    assert.equal(await page.locator("#event-state").textContent(), "scheduled");
    assert.match(await page.locator("#event-countdown").textContent(), /starts in/);
    await page.screenshot({ path: join(SHOTS, "console-event-scheduled.png"), fullPage: true });
    await page.locator("#event-state", { hasText: "active" }).waitFor({ timeout: 90_000 });
    assert.match(await page.locator("#event-countdown").textContent(), /ends in/);
    const log = await page.locator("table.log").textContent();
    assert.match(log, /scheduled → active/);
    assert.match(log, /start_time_reached/);
    await page.close();
  });

  test("pauses and resumes it, each with a reason and a confirmation, and the log names who and why", async () => {
    assert.ok(eventId, "the create test ran first");
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, operatorKey);
    await page.goto(`${worker.baseUrl}/console/#/events/${eventId}`);
    await page.locator("#event-state", { hasText: "active" }).waitFor();
    assert.equal(await page.locator('[data-command="resume"]').isDisabled(), true);

    // The page refreshes every second (countdown) and every 3 s (state): a focused command keeps its focus.
    const active = () => page.evaluate(() => document.activeElement?.dataset?.command ?? document.activeElement?.id);
    await page.locator('[data-command="pause"]').focus();
    await page.waitForTimeout(4_000);
    assert.equal(await active(), "pause");
    // The skip link moves focus to the content and leaves the view alone.
    await page.locator("a.skip").focus();
    await page.keyboard.press("Enter");
    await page.waitForTimeout(500);
    assert.equal(new URL(page.url()).hash, `#/events/${eventId}`);
    assert.equal(await active(), "main");
    assert.equal(await page.locator("#event-state").isVisible(), true);

    await page.locator('[data-command="pause"]').click();
    const dialog = page.getByRole("dialog");
    // A confirmation without a reason is refused in the page; nothing is sent.
    await dialog.getByRole("button", { name: "Confirm pause" }).click();
    assert.match(await dialog.locator(".error").textContent(), /Give a reason/);
    assert.deepEqual(await unlabelledControls(page), [], "the confirmation dialog");
    await dialog.getByLabel(/Reason/).fill("store outage");
    await dialog.getByRole("button", { name: "Confirm pause" }).click();
    await page.locator("#event-state", { hasText: "paused" }).waitFor();
    await page.screenshot({ path: join(SHOTS, "console-event-paused.png"), fullPage: true });

    await page.locator('[data-command="resume"]').click();
    await dialog.getByLabel(/Reason/).fill("store back");
    await dialog.getByRole("button", { name: "Confirm resume" }).click();
    await page.locator("#event-state", { hasText: "active" }).waitFor();
    const rows = await page.locator("table.log tbody tr").allTextContents();
    const paused = rows.find((r) => r.includes("active → paused"));
    const resumed = rows.find((r) => r.includes("paused → active"));
    assert.match(paused, /ops_pause.*key:[a-z0-9]+:dana.*store outage/);
    assert.match(resumed, /ops_resume.*key:[a-z0-9]+:dana.*store back/);
    await page.close();
  });

  test("signing out on an event page stops its refreshes, and the key is never left in the sign-in field", async () => {
    assert.ok(eventId, "the create test ran first");
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, operatorKey);
    assert.equal(await page.locator("#login-key").inputValue(), "", "cleared once whoami accepted it");
    await page.goto(`${worker.baseUrl}/console/#/events/${eventId}`);
    await page.locator("#event-state", { hasText: "active" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Operator key").waitFor();
    await page.waitForTimeout(500);
    const calls = [];
    page.on("request", (r) => new URL(r.url()).pathname.startsWith("/v1/") && calls.push(r.url()));
    await page.waitForTimeout(4_000);
    assert.deepEqual(calls, [], "no API call after sign-out");
    assert.equal(await page.getByLabel("Operator key").isVisible(), true);
    assert.equal(await page.locator("#login-error").textContent(), "", "not signed out again by a 401");
    // A refused key is not left in the field either.
    await page.getByLabel("Operator key").fill("lek_op_aaaaaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#login-error", { hasText: "refused" }).waitFor();
    assert.equal(await page.locator("#login-key").inputValue(), "");
    await page.close();
  });

  test("shows live participation and the report's charts as SVG", async () => {
    // Two players make progress through the player API, as a game would: 250 of 500 snowflakes is half the required
    // objectives' way (gifts are optional), past milestone 0 at 25 %; 100 is not.
    for (const [player, updates] of [["p-console-1", 5], ["p-console-2", 2]]) {
      const res = await fetch(`${worker.baseUrl}/v1/events/${eventId}/progress`, {
        method: "POST",
        headers: { Authorization: `Bearer ${await playerToken(player)}`, "Content-Type": "application/json" },
        body: JSON.stringify({ updates: Array.from({ length: updates }, (_, i) => ({ objectiveId: "snowflakes", amount: 50, seq: i + 1 })) }),
      });
      assert.equal(res.status, 200, await res.text());
    }

    const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    await signIn(page, operatorKey);
    await page.goto(`${worker.baseUrl}/console/#/events/${eventId}`);
    await page.locator("#live-participants", { hasText: "2" }).waitFor({ timeout: 15_000 });
    assert.ok((await page.locator('svg[data-chart="completion-histogram"] rect.bar').count()) >= 1);
    // The report reads D1, which the shards' write-behind reaches within about a second: the page refreshes it.
    await page.reload();
    const perHour = page.locator('svg[data-chart="participation-per-hour"] rect.bar');
    await perHour.first().waitFor({ timeout: 20_000 });
    const funnel = page.locator('svg[data-chart="milestone-funnel"] rect.bar');
    assert.equal(await funnel.count(), 4, "one bar per milestone");
    // One player passed milestone 0: once D1 has their row, the page's next report refresh draws the bar.
    await page.waitForFunction(() => Number(document.querySelector('svg[data-chart="milestone-funnel"] rect.bar')?.getAttribute("height")) > 0, null, { timeout: 30_000 });
    assert.match(await page.locator('svg[data-chart="milestone-funnel"] desc').textContent(), /M0: 1; M1: 0/);
    assert.deepEqual(await unlabelledControls(page), [], "the event page");
    await page.screenshot({ path: join(SHOTS, "console-event-report.png"), fullPage: true });
    await page.close();
  });

  test("a viewer sees the event but cannot pause it: no button, and the API refuses", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    await signIn(page, viewerKey);
    assert.match(await page.locator("#who").textContent(), /viewer/);
    assert.equal(await page.getByRole("link", { name: "Create event" }).isVisible(), false);
    await page.goto(`${worker.baseUrl}/console/#/events/${eventId}`);
    await page.locator("#event-state", { hasText: "active" }).waitFor();
    const pause = page.locator('[data-command="pause"]');
    assert.equal(await pause.isVisible(), false, "hidden");
    assert.equal(await pause.isDisabled(), true, "and disabled");
    await page.screenshot({ path: join(SHOTS, "console-viewer-event.png"), fullPage: true });
    // The same key against the API, from the page (the console's own origin and header):
    const refusal = await page.evaluate(async ({ id, k }) => {
      const r = await fetch(`/v1/admin/events/${id}/pause`, { method: "POST", headers: { Authorization: `Bearer ${k}`, "Content-Type": "application/json" }, body: JSON.stringify({ reason: "try" }) });
      return { status: r.status, body: await r.json() };
    }, { id: eventId, k: viewerKey });
    assert.equal(refusal.status, 403);
    assert.equal(refusal.body.error.details.required, "operator");
    assert.equal((await admin("GET", `/v1/admin/events/${eventId}`)).json.state, "active", "nothing changed");
    await context.close();
  });

  test("the templates library sorts, and an admin edits a template with a diff and a version history", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, ADMIN);
    await page.getByRole("link", { name: "Templates" }).click();
    await page.locator("table.templates-table").waitFor();
    const names = () => page.locator("table.templates-table tbody tr td:first-child a").allTextContents();
    const byUsage = await names();
    assert.equal(byUsage[0], "Winter Festival", "the most used");
    const row = page.locator("table.templates-table tbody tr", { hasText: "Winter Festival" });
    assert.equal(await row.locator("td").nth(2).textContent(), "v1");
    assert.equal(await row.locator("td").nth(3).textContent(), "2", "used by the demo event and the one created here");
    // Guild Raid, never used, has the best engagement score: the engagement sort puts it first.
    const raid = (await admin("GET", "/v1/admin/templates/guild-raid")).json;
    const { version: _v, usageCount: _u, lastUsed: _l, createdAt: _c, updatedAt: _up, performance: _p, ...raidFields } = raid;
    assert.equal((await admin("PUT", "/v1/admin/templates/guild-raid", { ...raidFields, averageEngagementScore: 80 })).status, 200);
    await page.getByLabel("Sort by").selectOption("engagement");
    await page.waitForFunction(() => document.querySelector("table.templates-table tbody tr td:first-child a")?.textContent === "Guild Raid");
    const byEngagement = await names();
    assert.notDeepEqual(byEngagement, byUsage);
    assert.equal(await page.locator("table.templates-table tbody tr", { hasText: "Guild Raid" }).locator("td").nth(4).textContent(), "80.0");
    assert.deepEqual(await unlabelledControls(page), [], "the templates library");

    // An admin edits a template: the diff against the stored version first, then a new version in its history.
    await page.getByRole("link", { name: "Winter Festival", exact: true }).click();
    const json = page.getByLabel("Template (JSON)");
    await json.fill((await json.inputValue()).replace('"name": "Winter Festival"', '"name": "Winter Festival Deluxe"'));
    await page.getByRole("button", { name: "Preview diff" }).click();
    const preview = await page.locator("#tpl-diff").textContent();
    assert.match(preview, /1 change\(s\) against v1/);
    assert.match(preview, /nameWinter FestivalWinter Festival Deluxe/);
    await page.getByRole("button", { name: "Save new version" }).click();
    await page.locator('.history li[data-version="2"]').waitFor();
    const v2 = await page.locator('.history li[data-version="2"]').textContent();
    assert.match(v2, /v2 saved .* by bootstrap1 change\(s\) from v1/);
    assert.deepEqual(await unlabelledControls(page), [], "a template's page");
    await page.screenshot({ path: join(SHOTS, "console-template-history.png"), fullPage: true });
    assert.doesNotMatch(await json.inputValue(), /averageEngagementScore/, "measured, not edited");

    // Another admin saves v3 while this page still shows v2: this page's save is refused, not written over theirs.
    const ada = await key("ada", "admin");
    const v2doc = JSON.parse(await json.inputValue());
    assert.equal((await admin("PUT", "/v1/admin/templates/winter-festival", { ...v2doc, description: "Ada's text", expectedVersion: 2 }, ada)).status, 200);
    await json.fill((await json.inputValue()).replace('"name": "Winter Festival Deluxe"', '"name": "Winter Festival Supreme"'));
    await page.getByRole("button", { name: "Save new version" }).click();
    const conflict = page.locator("#tpl-diff .version-conflict");
    await conflict.waitFor();
    assert.match(await conflict.textContent(), /Not saved: key:[a-z0-9]+:ada saved v3 after you opened v2/);
    const stored = (await admin("GET", "/v1/admin/templates/winter-festival")).json;
    assert.deepEqual([stored.version, stored.name, stored.description], [3, "Winter Festival Deluxe", "Ada's text"]);
    await page.getByRole("button", { name: "Reload the template" }).click();
    await page.locator('.history li[data-version="3"]').waitFor();
    await page.close();
  });

  test("the review queue shows a flagged player's evidence, and an operator clears the flag with a reason", async () => {
    // 40 players at 1-5 points a minute and one at 500: a rate pass flags the outlier (more than 3 sd above the others).
    const cup = await liveEvent(worker.baseUrl);
    const progress = async (player, amount) => {
      const res = await fetch(`${worker.baseUrl}/v1/events/${cup}/progress`, {
        method: "POST",
        headers: { Authorization: `Bearer ${await playerToken(player)}`, "Content-Type": "application/json" },
        body: JSON.stringify({ updates: [{ objectiveId: "pts", amount, seq: 1 }] }),
      });
      assert.equal(res.status, 200, await res.text());
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => progress(`honest-${i}`, 1 + (i % 5))));
    await progress("speedy", 500);
    const pass = await admin("POST", `/v1/admin/events/${cup}/flags/evaluate`, { reason: "console test" });
    assert.equal(pass.status, 200, JSON.stringify(pass.json));
    assert.equal(pass.json.flagged, 1);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, operatorKey);
    // The queue asks event by event, never more than 4 at once.
    let inFlight = 0;
    let most = 0;
    const isFlags = (r) => /\/v1\/admin\/events\/[^/]+\/flags/.test(r.url());
    page.on("request", (r) => isFlags(r) && (most = Math.max(most, ++inFlight)));
    for (const done of ["requestfinished", "requestfailed"]) page.on(done, (r) => isFlags(r) && inFlight--);
    await page.getByRole("link", { name: "Review queue" }).click();
    const row = page.locator("table.review tbody tr", { hasText: "speedy" });
    await row.waitFor();
    assert.ok(most >= 1 && most <= 4, `at most 4 flag requests at once (saw ${most})`);
    assert.match(await row.textContent(), /pts: [\d.]+\/min against the population's [\d.]+ ± [\d.]+ \(n = 40\); z = [\d.]+/);
    assert.deepEqual(await unlabelledControls(page), [], "the review queue");
    await page.screenshot({ path: join(SHOTS, "console-review-queue.png"), fullPage: true });
    await row.getByRole("button", { name: "Clear speedy" }).click();
    await page.getByRole("dialog").getByLabel(/Reason/).fill("streamer, verified by support");
    await page.getByRole("dialog").getByRole("button", { name: "Confirm clear" }).click();
    await page.getByText("Nobody is waiting for review.").waitFor();
    const flags = (await admin("GET", `/v1/admin/events/${cup}/flags?state=cleared`)).json.flags;
    assert.equal(flags[0].playerId, "speedy");
    assert.match(JSON.stringify(flags[0].history.at(-1)), /key:[a-z0-9]+:dana.*streamer, verified by support|streamer, verified by support.*key:[a-z0-9]+:dana/);
    await page.close();
  });

  test("marks a day that breaks a rule and its forced schedules, and an event page shows the top 10 and the clan ranking", async () => {
    const DAY = 86_400_000;
    const day = Math.floor(Date.now() / DAY) * DAY;
    const create = async (body) => {
      const r = await admin("POST", "/v1/admin/events", body);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return r.json.eventId;
    };
    // A major forced in 36 h before the demo Winter Festival (a week out): under the 48 h gap, on days 5 and 6. And on
    // day 5 three cooperative events at once, the third forced, against a limit of two per type.
    await create({ templateId: "winter-festival", startTime: iso(day + 4 * DAY), endTime: iso(day + 5.5 * DAY), force: true, reason: "press preview" });
    const raid = { templateId: "guild-raid", eligibleClanIds: ["red", "blue"], startTime: iso(day + 5 * DAY + 10 * 3_600_000), endTime: iso(day + 5 * DAY + 12 * 3_600_000) };
    await create(raid);
    await create(raid);
    await create({ ...raid, force: true, reason: "guild war weekend" });

    // A competitive event with a board and a cooperative one with clans, both running now, with players in them.
    const arena = await create({ templateId: "arena-clash", startTime: "now", endTime: iso(Date.now() + 3_600_000) });
    const guild = await create({ templateId: "guild-raid", eligibleClanIds: ["red", "blue"], startTime: "now", endTime: iso(Date.now() + 3_600_000) });
    const token = (sub, claims) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(sub).setIssuedAt().setExpirationTime("1h").sign(new TextEncoder().encode(devSecrets.PLAYER_TOKEN_SECRET));
    const progress = async (eventId, player, claims, objectiveId, amount) => {
      const res = await fetch(`${worker.baseUrl}/v1/events/${eventId}/progress`, {
        method: "POST",
        headers: { Authorization: `Bearer ${await token(player, claims)}`, "Content-Type": "application/json" },
        body: JSON.stringify({ updates: [{ objectiveId, amount, seq: 1 }] }),
      });
      assert.equal(res.status, 200, await res.text());
    };
    for (let i = 1; i <= 12; i++) await progress(arena, `gladiator-${String(i).padStart(2, "0")}`, { lvl: 20 }, "rating", 1000 + i * 50);
    for (const [player, clan, damage] of [["red-1", "red", 50_000], ["red-2", "red", 40_000], ["blue-1", "blue", 20_000]]) await progress(guild, player, { lvl: 20, clan }, "damage", damage);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, operatorKey);
    const day5 = page.locator(`td[data-date="${iso(day + 5 * DAY).slice(0, 10)}"]`);
    await day5.locator("a.ev", { hasText: "Guild Raid" }).first().waitFor();
    assert.match(await day5.getAttribute("class"), /\bconflict\b/);
    assert.equal(await day5.locator(".conflict-badge").textContent(), "2 conflicts");
    const label = await day5.getAttribute("aria-label");
    assert.match(label, /Only 36 h would separate this major event from major event Winter Festival.*major events need at least 48 h between them/);
    assert.match(label, /3rd concurrent cooperative event \(limit 2 per type\)/);
    assert.match(label, /2 forced schedules/);
    assert.equal(await day5.locator(".forced").count(), 2);
    await page.screenshot({ path: join(SHOTS, "console-calendar-conflicts.png"), fullPage: true });

    // The top 10 of the arena's board (the best rating first), and the raid's clans by their total.
    await page.goto(`${worker.baseUrl}/console/#/events/${arena}`);
    const board = page.locator(`#ev-board table tbody tr`);
    await board.nth(9).waitFor({ timeout: 40_000 });
    assert.equal(await board.count(), 10);
    assert.deepEqual(await board.first().locator("td").allTextContents(), ["1", "gladiator-12", "1600"]);
    await page.goto(`${worker.baseUrl}/console/#/events/${guild}`);
    const clans = page.locator(`#ev-clans table tbody tr`);
    await clans.nth(1).waitFor({ timeout: 40_000 });
    // The clan board may trail the members' progress by a push or two (shards batch what they send the clan): load the
    // page again until red's total has all three contributions, as an operator pressing reload would.
    for (let i = 0; i < 40 && !/^1red90000/.test((await clans.first().textContent()) ?? ""); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      await page.reload();
      await clans.nth(1).waitFor({ timeout: 40_000 });
    }
    assert.deepEqual((await clans.allTextContents()).map((r) => r.slice(0, 4)), ["1red", "2blu"]);
    assert.match(await clans.first().textContent(), /^1red90000/);
    await page.screenshot({ path: join(SHOTS, "console-event-clans.png"), fullPage: true });
    await page.close();
  });

  test("lists series with their rule and next occurrence, and a series' occurrences link to their events", async () => {
    const local = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const made = await admin("POST", "/v1/admin/series", { templateId: "daily-sprint", rrule: "FREQ=DAILY", dtstart: `${local}T08:00`, duration: "PT2H", timeZone: "Europe/Paris", horizonDays: 33, onConflict: "skip" });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const { seriesId } = made.json;
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, viewerKey);
    await page.getByRole("link", { name: "Series" }).click();
    // The list reads D1, which the series writes just behind its object.
    const row = page.locator("table.series-table tbody tr", { hasText: seriesId });
    for (let i = 0; i < 20 && !(await row.count()); i++) {
      await new Promise((r) => setTimeout(r, 500));
      await page.reload();
      await page.locator("table.series-table").waitFor();
    }
    const cells = await row.locator("td").allTextContents();
    assert.equal(cells[1], "daily-sprint");
    assert.equal(cells[2], "active");
    assert.equal(cells[3], `FREQ=DAILY from ${local}T08:00:00 (Europe/Paris), PT2H`);
    assert.match(cells[4], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    assert.deepEqual(await unlabelledControls(page), [], "the series list");
    await row.getByRole("link", { name: seriesId }).click();
    const occurrences = page.locator("table.occurrences-table tbody tr");
    await occurrences.first().waitFor();
    assert.equal(await occurrences.count(), made.json.occurrences.length);
    const first = made.json.occurrences.find((o) => o.eventId);
    await page.getByRole("link", { name: first.eventId }).click();
    await page.waitForURL(new RegExp(`#/events/${first.eventId}$`));
    await page.screenshot({ path: join(SHOTS, "console-series.png"), fullPage: true });
    await page.close();
  });

  test("a double click on More loads each page once, and the status filter lists only that status", async () => {
    const local = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    // Four a day over 33 days: more than one page (100) of occurrences.
    const made = await admin("POST", "/v1/admin/series", { templateId: "daily-sprint", rrule: "FREQ=DAILY;BYHOUR=0,6,12,18", dtstart: `${local}T00:00`, duration: "PT1H", timeZone: "UTC", horizonDays: 33, onConflict: "skip" });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    // A pass makes at most 50 events; the rest follow a second apart: wait until the horizon is all there.
    let total = 0;
    for (let i = 0, last = -1; i < 40 && total !== last; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      last = total;
      total = (await admin("GET", `/v1/admin/series/${made.json.seriesId}?limit=500`)).json.occurrences.length;
    }
    assert.ok(total > 100, `${total} occurrences`);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, viewerKey);
    await page.goto(`${page.url().split("#")[0]}#/series/${made.json.seriesId}`);
    const occurrences = page.locator("table.occurrences-table tbody tr");
    await occurrences.nth(99).waitFor();
    await page.getByRole("button", { name: "More occurrences" }).dblclick();
    await occurrences.nth(total - 1).waitFor();
    await new Promise((r) => setTimeout(r, 1000));
    const keys = (await occurrences.locator("td:first-child").allTextContents());
    assert.equal(keys.length, total);
    assert.equal(new Set(keys).size, total);

    await page.goto(`${page.url().split("#")[0]}#/series`);
    await page.locator("table.series-table").waitFor();
    await page.getByLabel("Status").selectOption("paused");
    await new Promise((r) => setTimeout(r, 1000));
    const statuses = await page.locator("table.series-table tbody tr td:nth-child(3)").allTextContents();
    assert.ok(statuses.every((s) => s === "paused"), JSON.stringify(statuses));
    assert.equal(await page.locator("h2", { hasText: "Series" }).count(), 1);
    await page.close();
  });
});
