// Calendar: month and week views of GET /v1/admin/calendar (its filters: type, tier, state), each day's peak
// concurrency against the rules in force (GET /settings), days that break a rule (the API's conflicts) and forced
// schedules marked, and the ICS subscription URL. The grid follows the ARIA grid pattern: one day is in the tab order,
// arrow keys move between days (past an edge they turn the page), Home/End go to the week's ends.
import { api, qs } from "./api.js";
import { field, fmtTime, h, replace, select } from "./dom.js";

const DAY = 86_400_000;
const TYPES = ["seasonal", "competitive", "cooperative", "crossover", "gacha"];
const TIERS = ["major", "standard", "mini", "daily"];
const STATES = ["scheduled", "active", "paused", "expired", "archived", "cancelled", "failed_activation"];
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

// Kept across visits, so coming back from an event page shows the same month and filters.
const state = { mode: "month", anchor: floorDay(Date.now()), filters: { type: "", tier: "", state: "" }, focus: null };

function floorDay(ms) {
  return Math.floor(ms / DAY) * DAY;
}
/** Monday on or before the day (UTC). */
function weekStart(ms) {
  const d = new Date(floorDay(ms));
  return floorDay(ms) - ((d.getUTCDay() + 6) % 7) * DAY;
}
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

function range() {
  if (state.mode === "week") return { from: weekStart(state.anchor), days: 7 };
  const a = new Date(state.anchor);
  const first = Date.UTC(a.getUTCFullYear(), a.getUTCMonth(), 1);
  return { from: weekStart(first), days: 42 };
}

function title() {
  const a = new Date(state.anchor);
  if (state.mode === "week") return `Week of ${isoDay(weekStart(state.anchor))}`;
  return a.toLocaleString("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });
}

function move(step) {
  if (state.mode === "week") state.anchor += step * 7 * DAY;
  else {
    const a = new Date(state.anchor);
    state.anchor = Date.UTC(a.getUTCFullYear(), a.getUTCMonth() + step, 1);
  }
}

export async function calendarView(root) {
  const { from, days } = range();
  const to = from + days * DAY;
  const span = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  const filtered = Object.values(state.filters).some(Boolean);
  // The limits count every event, so a day's peak and conflicts come from the unfiltered calendar; filters pick chips.
  const [settings, cal, all] = await Promise.all([
    api("GET", "/settings"),
    api("GET", `/calendar${qs({ ...span, ...state.filters })}`),
    filtered ? api("GET", `/calendar${qs(span)}`) : null,
  ]);
  const allByDate = new Map((all ?? cal).days.map((d) => [d.date, d]));
  const rerender = () => calendarView(root);

  const filterSelect = (name, label, values) => {
    const el = select(name, [["", `All ${label.toLowerCase()}s`], ...values.map((v) => [v, v.replace("_", " ")])], state.filters[name]);
    el.addEventListener("change", () => {
      state.filters[name] = el.value;
      void rerender();
    });
    return field(label, el);
  };
  const modeSelect = select("mode", [["month", "Month"], ["week", "Week"]], state.mode);
  modeSelect.addEventListener("change", () => {
    state.mode = modeSelect.value;
    void rerender();
  });
  const ics = `${location.origin}/v1/admin/calendar${qs({ format: "ics", ...state.filters })}&token=CALENDAR_FEED_TOKEN`;
  const icsInput = h("input", { type: "text", readonly: true, value: ics, class: "wide" });
  icsInput.addEventListener("focus", () => icsInput.select());
  const unit = state.mode === "week" ? "week" : "month";

  const grid = h(
    "table",
    { role: "grid", class: `calendar ${state.mode}`, "aria-labelledby": "cal-title", "aria-describedby": "cal-help" },
    h("thead", {}, h("tr", { role: "row" }, WEEKDAYS.map((d) => h("th", { role: "columnheader", scope: "col", abbr: d }, d.slice(0, 3))))),
  );
  const body = h("tbody");
  grid.append(body);
  const byDate = new Map(cal.days.map((d) => [d.date, d]));
  const month = new Date(state.anchor).getUTCMonth();
  let row;
  const focusDate = state.focus && state.focus >= from && state.focus < to ? state.focus : Math.min(Math.max(floorDay(Date.now()), from), to - DAY);
  for (let i = 0; i < days; i++) {
    if (i % 7 === 0) body.append((row = h("tr", { role: "row" })));
    const dayMs = from + i * DAY;
    const date = isoDay(dayMs);
    const empty = { date, concurrency: 0, eventCount: 0, events: [] };
    const day = byDate.get(date) ?? empty;
    const whole = allByDate.get(date) ?? empty;
    // The API says which rules the day breaks (every event counted, majors beyond the range included), in the
    // scheduler's own sentences.
    const broken = day.conflicts ?? [];
    const over = whole.concurrency > settings.maxConcurrent;
    const forced = whole.events.filter((e) => e.forced);
    const conflict = broken.length > 0;
    const notes = [
      `${day.eventCount} event${day.eventCount === 1 ? "" : "s"}`,
      `peak ${whole.concurrency} of ${settings.maxConcurrent} at once`,
      ...broken.map((c) => c.message),
      forced.length ? `${forced.length} forced schedule${forced.length === 1 ? "" : "s"}` : null,
    ].filter(Boolean);
    const longDate = new Date(dayMs).toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
    row.append(
      h(
        "td",
        {
          role: "gridcell",
          tabindex: dayMs === focusDate ? 0 : -1,
          class: ["day", conflict ? "conflict" : "", state.mode === "month" && new Date(dayMs).getUTCMonth() !== month ? "outside" : "", date === isoDay(Date.now()) ? "today" : ""].join(" "),
          "aria-label": `${longDate}: ${notes.join(", ")}`,
          dataset: { date },
        },
        h(
          "div",
          { class: "day-head" },
          h("span", { class: "date" }, String(new Date(dayMs).getUTCDate())),
          h("span", { class: `peak${over ? " over" : ""}`, title: `peak concurrency ${whole.concurrency} / limit ${settings.maxConcurrent}` }, `${whole.concurrency}/${settings.maxConcurrent}`),
          conflict ? h("span", { class: "badge conflict-badge", title: broken.map((c) => c.message).join("\n") }, broken.length > 1 ? `${broken.length} conflicts` : "conflict") : null,
        ),
        h(
          "ul",
          { class: "day-events" },
          day.events.map((e) =>
            h(
              "li",
              {},
              h(
                "a",
                {
                  href: `#/events/${e.eventId}`,
                  class: `ev type-${e.type} tier-${e.tier} state-${e.state}`,
                  title: `${e.name}: ${e.type}, ${e.tier}, ${e.state}, ${fmtTime(e.startTime)} → ${fmtTime(e.endTime)}${e.forced ? ", forced" : ""}`,
                },
                e.forced ? h("span", { class: "forced", "aria-label": "forced" }, "⚑ ") : null,
                state.mode === "week" ? h("span", { class: "ev-time" }, `${e.startTime.slice(11, 16)}–${e.endTime.slice(11, 16)} `) : null,
                e.name,
                h("span", { class: "ev-meta" }, ` ${e.tier} · ${e.state}`),
              ),
            ),
          ),
        ),
      ),
    );
  }

  grid.addEventListener("keydown", (e) => {
    const cell = e.target.closest?.("td[role=gridcell]");
    if (!cell || e.target !== cell) return;
    const at = Date.parse(`${cell.dataset.date}T00:00:00Z`);
    const dow = (new Date(at).getUTCDay() + 6) % 7;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 7, ArrowUp: -7, Home: -dow, End: 6 - dow }[e.key];
    if (e.key === "Enter") {
      cell.querySelector("a")?.click();
      return;
    }
    if (step === undefined) return;
    e.preventDefault();
    const target = at + step * DAY;
    const next = grid.querySelector(`td[data-date="${isoDay(target)}"]`);
    if (next) {
      cell.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
      state.focus = target;
    } else {
      // Past the grid's edge: turn the page and keep going from the day asked for.
      state.anchor = target;
      state.focus = target;
      void calendarView(root).then(() => root.querySelector(`td[data-date="${isoDay(target)}"]`)?.focus());
    }
  });

  replace(
    root,
    h(
      "section",
      { "aria-labelledby": "cal-title" },
      h(
        "div",
        { class: "toolbar" },
        h("h2", { id: "cal-title" }, title()),
        h("button", { type: "button", "aria-label": `Previous ${unit}`, onclick: () => (move(-1), void rerender()) }, "‹"),
        h("button", { type: "button", onclick: () => ((state.anchor = floorDay(Date.now())), (state.focus = null), void rerender()) }, "Today"),
        h("button", { type: "button", "aria-label": `Next ${unit}`, onclick: () => (move(1), void rerender()) }, "›"),
        field("View", modeSelect),
        filterSelect("type", "Type", TYPES),
        filterSelect("tier", "Tier", TIERS),
        filterSelect("state", "State", STATES),
      ),
      h(
        "p",
        { id: "cal-help", class: "hint" },
        `Rules in force: ${settings.maxConcurrent} events at once, ${settings.maxConcurrentSameType} of a type, ${settings.majorGapHours} h between majors (mini and daily events are exempt). `,
        "Each day shows its peak concurrency against the limit; ⚑ marks a forced schedule. Arrow keys move between days.",
      ),
      h("div", { class: "legend", "aria-label": "Legend" }, TYPES.map((t) => h("span", { class: `ev type-${t}` }, t)), TIERS.map((t) => h("span", { class: `ev tier-${t}` }, t))),
      grid,
      field("iCalendar subscription URL", icsInput, "Subscribe with the calendar feed token in place of CALENDAR_FEED_TOKEN (the feed is read-only)."),
    ),
  );
}
