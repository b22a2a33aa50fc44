// Review queue: players the statistical anti-cheat flagged, across the events that are running or recently ended,
// with their evidence (their rate against the population's mean and spread, the z-score and sample size) and the
// flag's history; an operator clears or confirms each with a reason (POST …/flags/:playerId/clear|confirm).
import { ApiError, api, applyRole, qs } from "./api.js";
import { field, fmtTime, h, num, replace, toast } from "./dom.js";

const OPEN = ["flagged", "under_review"];
/** Flags live with each event's players, so the queue asks event by event: at most this many requests at once. */
const PARALLEL = 4;
/** And looks at no more than this many events, however many pages the listing has. */
const MAX_EVENTS = 500;

/** Every page of GET /events for a state (cursor-paginated), up to `budget` events. */
async function allEvents(state, from, to, budget) {
  const out = [];
  let cursor;
  do {
    const page = await api("GET", `/events${qs({ state, from, to, limit: 100, cursor })}`);
    out.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor && out.length < budget);
  return out.slice(0, budget);
}

/** Runs fn over items with at most `n` in flight. */
async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

export async function reviewView(root) {
  const since = new Date(Date.now() - 14 * 86_400_000).toISOString();
  const until = new Date(Date.now() + 86_400_000).toISOString();
  // Archived events too: a flag raised near an event's end can still be waiting after it is archived.
  const events = [];
  for (const state of ["active", "paused", "expired", "archived"]) events.push(...(await allEvents(state, since, until, MAX_EVENTS - events.length)));
  const rows = [];
  let unread = 0;
  await pool(events, PARALLEL, async (ev) => {
    try {
      for (const state of OPEN) {
        const { flags } = await api("GET", `/events/${ev.eventId}/flags${qs({ state, limit: 100 })}`);
        for (const f of flags) rows.push({ ev, f });
      }
    } catch {
      unread++; // one event that cannot answer must not hide the others' flags
    }
  });
  rows.sort((a, b) => a.f.flaggedAt.localeCompare(b.f.flaggedAt));
  const dialog = h("dialog", { "aria-labelledby": "review-dlg-t" });

  const decide = (ev, f, decision) => {
    const reason = h("textarea", { rows: 3, "aria-required": "true", maxlength: 500 });
    const error = h("p", { class: "error", role: "alert" });
    const form = h(
      "form",
      { method: "dialog" },
      h("h3", { id: "review-dlg-t" }, `${decision === "clear" ? "Clear" : "Confirm"} the flag on ${f.playerId}?`),
      h("p", {}, decision === "clear" ? "Their held rewards are released and their board and clan flags lifted." : "Their claims are forfeited, their board entry banned and their clan contribution removed."),
      field("Reason (recorded in the flag's history)", reason),
      error,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, decision === "clear" ? "Confirm clear" : "Confirm cheating"), h("button", { type: "button", onclick: () => dialog.close() }, "Back")),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!reason.value.trim()) {
        error.textContent = "Give a reason.";
        return;
      }
      try {
        await api("POST", `/events/${ev.eventId}/flags/${encodeURIComponent(f.playerId)}/${decision}`, { reason: reason.value.trim() });
        dialog.close();
        toast(`${f.playerId}: ${decision === "clear" ? "cleared" : "confirmed"}`);
        await reviewView(root);
      } catch (err) {
        error.textContent = err instanceof ApiError ? `${err.message} (${err.code})` : String(err);
      }
    });
    replace(dialog, form);
    dialog.showModal();
    reason.focus();
  };

  replace(
    root,
    h("h2", {}, "Review queue"),
    h(
      "p",
      { class: "hint", id: "review-scope" },
      `Flagged and under-review players in ${events.length} running or recently ended event(s)${events.length >= MAX_EVENTS ? ` (the first ${MAX_EVENTS})` : ""}. A player is flagged when their progress rate is more than 3 standard deviations above the other players'.`,
    ),
    unread ? h("p", { class: "error", role: "alert" }, `${unread} event(s) could not be read; their flags are not shown.`) : null,
    rows.length
      ? h(
          "table",
          { class: "review" },
          h("thead", {}, h("tr", {}, ["Event", "Player", "State", "Evidence", "Flagged", "History", "Decision"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            rows.map(({ ev, f }) =>
              h(
                "tr",
                {},
                h("td", {}, h("a", { href: `#/events/${ev.eventId}` }, ev.name)),
                h("td", {}, f.playerId),
                h("td", {}, f.state.replace("_", " ")),
                h("td", {}, `${f.objectiveId}: ${num(f.rate)}/min against the population's ${num(f.mean)} ± ${num(f.sd)} (n = ${f.n}); z = ${num(f.z, 1)}`),
                h("td", {}, fmtTime(f.flaggedAt)),
                h("td", {}, h("ul", {}, f.history.map((x) => h("li", {}, `${fmtTime(x.at)} ${x.from ?? "∅"} → ${x.to} (${x.cause}${x.actor ? `, ${x.actor}` : ""}${x.reason ? `: ${x.reason}` : ""})`)))),
                h(
                  "td",
                  {},
                  h("button", { type: "button", "data-can": "reviewFlags", "aria-label": `Clear ${f.playerId}`, onclick: () => decide(ev, f, "clear") }, "Clear"),
                  " ",
                  h("button", { type: "button", "data-can": "reviewFlags", "aria-label": `Confirm ${f.playerId}`, onclick: () => decide(ev, f, "confirm") }, "Confirm"),
                ),
              ),
            ),
          ),
        )
      : h("p", {}, "Nobody is waiting for review."),
    dialog,
  );
  applyRole(root);
}
