// Event page: state and countdown, the ops commands (each with a reason and a confirmation), the transition log with
// actors and reasons, live participation (refreshing), leaderboard, clans, the KPI report with its charts, alerts.
import { ApiError, api, qs, session } from "./api.js";
import { barChart } from "./charts.js";
import { duration, field, fmtTime, h, num, pct, replace, toast } from "./dom.js";

/** Which commands each state allows (src/domain/lifecycle.ts); the API answers 409 with the same list otherwise. */
const ALLOWED = { scheduled: ["cancel"], active: ["pause", "end-now"], paused: ["resume", "end-now"], failed_activation: ["cancel"] };
const COMMANDS = [
  ["pause", "Pause", "Players cannot progress while it is paused; it still ends at its end time."],
  ["resume", "Resume", "Players can progress again."],
  ["end-now", "End now", "The event ends at once; the 24 h claim window starts now."],
  ["cancel", "Cancel", "The event will not run; pending notifications are cancelled."],
];

export async function eventView(root, eventId) {
  const ids = (s) => `ev-${s}`;
  const head = h("div", { id: ids("head") });
  const actions = h("div", { class: "actions", "data-can": "transition", role: "group", "aria-label": "Commands" });
  const live = h("section", { "aria-labelledby": ids("live-t") }, h("h3", { id: ids("live-t") }, "Live participation"), h("div", { id: ids("live") }, "Loading…"));
  const log = h("section", { "aria-labelledby": ids("log-t") }, h("h3", { id: ids("log-t") }, "Transition log"), h("div", { id: ids("log") }));
  const board = h("section", { "aria-labelledby": ids("board-t") }, h("h3", { id: ids("board-t") }, "Leaderboard"), h("div", { id: ids("board") }));
  const clans = h("section", { "aria-labelledby": ids("clans-t") }, h("h3", { id: ids("clans-t") }, "Clan ranking"), h("div", { id: ids("clans") }));
  const report = h("section", { "aria-labelledby": ids("report-t") }, h("h3", { id: ids("report-t") }, "Report"), h("div", { id: ids("report") }, "Loading…"));
  const alerts = h("section", { "aria-labelledby": ids("alerts-t") }, h("h3", { id: ids("alerts-t") }, "Alerts"), h("div", { id: ids("alerts") }));
  const dialog = h("dialog", { "aria-labelledby": ids("dlg-t") });
  replace(root, h("article", { class: "event" }, head, actions, h("div", { class: "cols" }, h("div", {}, live, board, clans, alerts), h("div", {}, log)), report, dialog));

  let ev = null;
  let loadedAt = 0;
  const timers = [];

  const countdown = () => {
    const elapsed = (Date.now() - loadedAt) / 1000;
    const until = Math.max(0, ev.timeUntilStart - elapsed);
    const left = Math.max(0, ev.timeRemaining - elapsed);
    return ev.state === "scheduled" ? `starts in ${duration(until)}` : ["active", "paused"].includes(ev.state) ? `ends in ${duration(left)}` : `ended ${fmtTime(ev.endTime)}`;
  };
  // The 1 s tick only sets the countdown's text: rebuilding the head would take focus from its links every second.
  const tick = () => {
    const el = ev && document.getElementById("event-countdown");
    if (el) el.textContent = countdown();
  };

  let shown = "";
  const renderHead = () => {
    const key = JSON.stringify([ev.name, ev.state, ev.startTime, ev.endTime, ev.templateVersion]);
    if (key === shown) return tick();
    shown = key;
    replace(
      head,
      h("p", { class: "crumbs" }, h("a", { href: "#/calendar" }, "Calendar"), " › ", ev.eventId),
      h("h2", {}, ev.name, " ", h("span", { class: `ev type-${ev.type} tier-${ev.tier}` }, `${ev.type} · ${ev.tier}`)),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "State"),
        h("dd", {}, h("span", { class: `state state-${ev.state}`, id: "event-state" }, ev.state)),
        h("dt", {}, "Countdown"),
        h("dd", { id: "event-countdown" }, countdown()),
        h("dt", {}, "Window"),
        h("dd", {}, `${fmtTime(ev.startTime)} → ${fmtTime(ev.endTime)}`),
        h("dt", {}, "Template"),
        h("dd", {}, h("a", { href: `#/templates/${ev.templateId}` }, `${ev.templateId} v${ev.templateVersion}`)),
      ),
    );
  };

  // The buttons are made once and only enabled or disabled as the state changes, so a focused one keeps its focus.
  const buttons = COMMANDS.map(([cmd, label]) => h("button", { type: "button", "data-command": cmd, disabled: true, onclick: () => confirmCommand(cmd) }, label));
  replace(actions, buttons);
  const renderActions = () => {
    const allowed = ALLOWED[ev.state] ?? [];
    for (const b of buttons) b.disabled = !allowed.includes(b.dataset.command) || !session.caller.can.transition;
    actions.hidden = !session.caller.can.transition;
  };

  const confirmCommand = (cmd) => {
    const [, label, what] = COMMANDS.find((c) => c[0] === cmd);
    const reason = h("textarea", { name: "reason", rows: 3, "aria-required": "true", maxlength: 500 });
    const error = h("p", { class: "error", role: "alert" });
    const form = h(
      "form",
      { method: "dialog" },
      h("h3", { id: ids("dlg-t") }, `${label} “${ev.name}”?`),
      h("p", {}, what),
      field("Reason (recorded in the transition log)", reason),
      error,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", value: "confirm", class: "primary" }, `Confirm ${label.toLowerCase()}`),
        h("button", { type: "button", onclick: () => dialog.close() }, "Back"),
      ),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!reason.value.trim()) {
        error.textContent = "Give a reason: it is recorded with your name.";
        reason.focus();
        return;
      }
      try {
        await api("POST", `/events/${eventId}/${cmd}`, { reason: reason.value.trim() });
        dialog.close();
        toast(`${label}: done`);
        await refresh();
      } catch (err) {
        error.textContent = err instanceof ApiError ? `${err.message}${err.details?.allowed ? ` (allowed now: ${err.details.allowed.join(", ") || "nothing"})` : ""}` : String(err);
      }
    });
    replace(dialog, form);
    dialog.showModal();
    reason.focus();
  };

  const renderLog = () => {
    replace(
      document.getElementById(ids("log")),
      h(
        "table",
        { class: "log" },
        h("caption", { class: "sr-only" }, "State changes, oldest first"),
        h("thead", {}, h("tr", {}, ["When", "Change", "Cause", "Actor", "Reason"].map((c) => h("th", { scope: "col" }, c)))),
        h(
          "tbody",
          {},
          ev.transitions.map((t) =>
            h(
              "tr",
              {},
              h("td", {}, fmtTime(t.at)),
              h("td", {}, `${t.fromState ?? "∅"} → ${t.toState}`),
              h("td", {}, t.cause, t.details?.forced ? h("span", { class: "badge forced-badge" }, ` forced: ${(t.details.overriddenRules ?? []).join(", ")}`) : null),
              h("td", { class: "actor" }, t.actor),
              h("td", {}, t.reason ?? ""),
            ),
          ),
        ),
      ),
    );
  };

  const refresh = async () => {
    ev = await api("GET", `/events/${eventId}`);
    loadedAt = Date.now();
    renderHead();
    renderActions();
    renderLog();
  };

  const refreshLive = async () => {
    const el = document.getElementById(ids("live"));
    if (!el) return;
    try {
      const sum = await api("GET", `/events/${eventId}/progress/summary`);
      replace(
        el,
        h("p", {}, h("strong", { id: "live-participants" }, String(sum.participantCount)), " participants, ", h("strong", {}, String(sum.completionCount)), " at ≥ 75 % completion", h("small", { class: "hint" }, ` · refreshed ${new Date().toISOString().slice(11, 19)} UTC`)),
        barChart({ name: "completion-histogram", title: "Players by completion", series: sum.completionHistogram.map((b) => ({ label: `${Math.round(b.from * 100)}%`, value: b.count })) }),
      );
    } catch (err) {
      replace(el, h("p", { class: "hint" }, err.message));
    }
  };

  const refreshBoards = async () => {
    const b = document.getElementById(ids("board"));
    const c = document.getElementById(ids("clans"));
    if (!b || !c) return;
    if (ev.leaderboard) {
      try {
        const { cohorts } = await api("GET", `/events/${eventId}/leaderboard/cohorts`);
        const cohort = cohorts[0]?.cohortId ?? "global";
        const page = await api("GET", `/events/${eventId}/leaderboard/standings${qs({ cohort, limit: 10 })}`);
        replace(
          b,
          h("p", { class: "hint" }, `${cohorts.length} cohort(s): ${cohorts.map((x) => `${x.cohortId} (${x.members})`).join(", ") || "none yet"}; top of ${cohort}:`),
          table(["Rank", "Player", "Score"], (page.entries ?? page.rows ?? []).map((r) => [r.rank, r.playerId, r.score])),
        );
      } catch (err) {
        replace(b, h("p", { class: "hint" }, err.message));
      }
    } else replace(b, h("p", { class: "hint" }, "This event has no leaderboard."));
    if (ev.clan || ev.type === "cooperative") {
      try {
        const r = await api("GET", `/events/${eventId}/clans${qs({ limit: 10 })}`);
        replace(c, table(["Rank", "Clan", "Total", "Completion", "Members"], r.clans.map((x) => [x.rank, x.clanId, x.total, pct(x.completion), x.members])));
      } catch (err) {
        replace(c, h("p", { class: "hint" }, err.message));
      }
    } else replace(c, h("p", { class: "hint" }, "Not a clan event."));
  };

  const refreshReport = async () => {
    const el = document.getElementById(ids("report"));
    const al = document.getElementById(ids("alerts"));
    if (!el) return;
    try {
      if (ev.state === "scheduled" || ev.state === "cancelled") {
        replace(el, h("p", { class: "hint" }, "The report starts with the event."));
      } else {
        const r = await api("GET", `/events/${eventId}/report`);
        const k = r.kpis;
        replace(
          el,
          h("p", { class: "hint" }, r.final ? "Final report, stored at expiry." : "Live report, computed now."),
          table(
            ["Participation", "Completion", "RPPU", "Conversion", "Engagement", "Notification delivery", "Sync p95"],
            [[pct(k.participationRate), pct(k.completionRate), num(k.rppu), pct(k.conversionRate), num(k.engagementScore, 1), pct(k.notificationDeliveryRate), k.progressSyncLatencyMs.p95 === null ? "–" : `${k.progressSyncLatencyMs.p95} ms`]],
          ),
          h(
            "div",
            { class: "charts" },
            barChart({ name: "participation-per-hour", title: "Participants per hour", series: r.participationByHour.map((p) => ({ label: `h${p.hour}`, value: p.participants, note: `${p.joins} joined` })) }),
            barChart({ name: "milestone-funnel", title: "Funnel by milestone (players who reached it)", series: r.completionFunnel.map((m) => ({ label: `M${m.milestoneIndex}`, value: m.reached, note: pct(m.share) })) }),
          ),
          h("h4", {}, "Notification funnel"),
          table(["Type", "Sent", "Push delivered", "Push failed", "Shown", "Clicked"], r.notificationFunnel.map((n) => [n.type, n.sent, n.pushDelivered, n.pushFailed, n.shown, n.clicked])),
        );
      }
    } catch (err) {
      replace(el, h("p", { class: "hint" }, err.message));
    }
    try {
      const { alerts: list } = await api("GET", `/alerts${qs({ eventId, limit: 20 })}`);
      replace(al, list.length ? table(["Severity", "Kind", "State", "Value", "Opened"], list.map((a) => [a.severity, a.kind, a.state, `${a.value ?? "–"} ${a.unit} (threshold ${a.threshold})`, fmtTime(a.openedAt)])) : h("p", { class: "hint" }, "No alerts."));
    } catch (err) {
      replace(al, h("p", { class: "hint" }, err.message));
    }
  };

  await refresh();
  await Promise.all([refreshLive(), refreshBoards(), refreshReport()]);
  timers.push(setInterval(tick, 1000));
  // The state and the live figures every 3 s (a scheduled event is watched going active), the rest less often.
  timers.push(
    setInterval(async () => {
      const before = ev?.state;
      await refresh().catch(() => {});
      await refreshLive();
      if (ev && before !== ev.state) await refreshReport();
    }, 3000),
  );
  timers.push(setInterval(() => void refreshBoards().then(refreshReport), 15000));
  return () => timers.forEach(clearInterval);
}

function table(columns, rows) {
  if (!rows.length) return h("p", { class: "hint" }, "Nothing yet.");
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((v) => h("td", {}, String(v)))))),
  );
}
