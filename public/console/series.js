// Recurring series, read-only: the list (GET /v1/admin/series: status, rule, next occurrence, counts), filtered by
// status and paged by cursor, and one series' occurrences (GET /v1/admin/series/:id, paged) with each event's state
// and a link to its event page. Creating and editing series stays with the API (README "Series").
import { api, qs } from "./api.js";
import { field, fmtTime, h, replace, select } from "./dom.js";

const filters = { status: "" };

export async function seriesView(root, seriesId) {
  if (seriesId) return seriesDetail(root, seriesId);
  const table = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "More series");
  let cursor = null;
  // A filter change starts the list over inside this view (never a second render of the route, which app.js's
  // routeSeq would not know of): a page still loading for the old filter is dropped when it lands.
  let seq = 0;
  const load = async (fresh) => {
    const mine = fresh ? ++seq : seq;
    more.disabled = true; // one click, one page: a double click would load the same cursor twice
    try {
      const page = await api("GET", `/series${qs({ ...filters, limit: 50, cursor: fresh ? null : cursor })}`);
      if (mine !== seq) return;
      if (fresh) replace(table);
      for (const s of page.series) table.append(seriesRow(s));
      cursor = page.nextCursor;
      more.hidden = !cursor;
      if (!table.children.length) table.append(h("tr", {}, h("td", { colspan: 8 }, "No series.")));
    } finally {
      if (mine === seq) more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load(false));
  const status = select("status", [["", "All"], ["active", "Active"], ["paused", "Paused"], ["ended", "Ended"]], filters.status);
  status.addEventListener("change", () => {
    filters.status = status.value;
    void load(true);
  });
  replace(
    root,
    h("h2", {}, "Series"),
    h("div", { class: "toolbar" }, field("Status", status)),
    h(
      "table",
      { class: "series-table" },
      h("thead", {}, h("tr", {}, ["Series", "Template", "Status", "Rule", "Next occurrence", "Scheduled", "Skipped", "Cancelled"].map((c) => h("th", { scope: "col" }, c)))),
      table,
    ),
    more,
  );
  await load(true);
}

const ruleText = (r) => `${r.rrule} from ${r.dtstart} (${r.timeZone}), ${r.duration}`;

function seriesRow(s) {
  return h(
    "tr",
    {},
    h("td", {}, h("a", { href: `#/series/${s.seriesId}` }, s.seriesId)),
    h("td", {}, s.templateId),
    h("td", {}, h("span", { class: `state state-${s.status}` }, s.status)),
    h("td", {}, ruleText(s.rule)),
    h("td", {}, fmtTime(s.nextOccurrence)),
    h("td", {}, String(s.counts.scheduled + s.counts.shifted)),
    h("td", {}, String(s.counts.skipped)),
    h("td", {}, String(s.counts.cancelled)),
  );
}

async function seriesDetail(root, seriesId) {
  const rows = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "More occurrences");
  let cursor = null;
  let first = null;
  const load = async () => {
    more.disabled = true; // one click, one page: a double click would load the same cursor twice
    try {
      const page = await api("GET", `/series/${encodeURIComponent(seriesId)}${qs({ limit: 100, cursor })}`);
      first ??= page;
      for (const o of page.occurrences) rows.append(occurrenceRow(o));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  await load();
  replace(
    root,
    h("p", {}, h("a", { href: "#/series" }, "All series")),
    h("h2", {}, `Series ${first.seriesId}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Template"),
      h("dd", {}, first.templateId),
      h("dt", {}, "Status"),
      h("dd", {}, first.status),
      h("dt", {}, "Rule"),
      h("dd", {}, ruleText(first.rule)),
      h("dt", {}, "On conflict"),
      h("dd", {}, first.onConflict),
      h("dt", {}, "Horizon"),
      h("dd", {}, `${first.horizonDays} days`),
    ),
    h("h3", {}, `Occurrences from ${fmtTime(first.from)}`),
    h(
      "table",
      { class: "occurrences-table" },
      h("thead", {}, h("tr", {}, ["Occurrence", "Status", "Start", "End", "Event", "Event state", "Why"].map((c) => h("th", { scope: "col" }, c)))),
      rows,
    ),
    more,
  );
}

function occurrenceRow(o) {
  return h(
    "tr",
    {},
    h("td", {}, o.occurrence),
    h("td", {}, o.status),
    h("td", {}, fmtTime(o.startTime)),
    h("td", {}, fmtTime(o.endTime)),
    h("td", {}, o.eventId ? h("a", { href: `#/events/${o.eventId}` }, o.eventId) : "–"),
    h("td", {}, o.eventState ?? "–"),
    h("td", {}, [o.shiftedFrom ? `shifted from ${fmtTime(o.shiftedFrom)}` : null, o.reason].filter(Boolean).join("; ") || "–"),
  );
}
