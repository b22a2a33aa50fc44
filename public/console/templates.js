// Templates library: filter by type and tier, sort by usage, engagement, completion or RPPU (the API's sorts, from
// the templates' reported events); a template's version history with what each version changed; and for an admin,
// editing it as JSON with a diff against the stored version before saving (PUT bumps the version; events keep theirs).
import { ApiError, api, applyRole, qs, session } from "./api.js";
import { field, fmtTime, h, num, pct, replace, select, toast } from "./dom.js";

const filters = { type: "", tier: "", sort: "usage" };
// Not edited here: bookkeeping, and the engagement score, which the template's event reports measure.
const READ_ONLY = ["version", "usageCount", "lastUsed", "createdAt", "updatedAt", "performance", "averageEngagementScore"];

export async function templatesView(root, templateId) {
  if (templateId) return templateDetail(root, templateId);
  const { templates } = await api("GET", `/templates${qs({ ...filters, limit: 200 })}`);
  const control = (name, label, options) => {
    const el = select(name, options, filters[name]);
    el.addEventListener("change", () => {
      filters[name] = el.value;
      void templatesView(root);
    });
    return field(label, el);
  };
  replace(
    root,
    h("h2", {}, "Templates"),
    h(
      "div",
      { class: "toolbar" },
      control("type", "Type", [["", "All types"], ...["seasonal", "competitive", "cooperative", "crossover", "gacha"].map((t) => [t, t])]),
      control("tier", "Tier", [["", "All tiers"], ...["major", "standard", "mini", "daily"].map((t) => [t, t])]),
      control("sort", "Sort by", [["usage", "Usage"], ["engagement", "Engagement"], ["completion", "Completion rate"], ["rppu", "RPPU"]]),
    ),
    h(
      "table",
      { class: "templates-table" },
      h("thead", {}, h("tr", {}, ["Template", "Type · tier", "Version", "Used", "Engagement", "Completion", "RPPU", "Reported events", "Last used", ""].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        templates.map((t) =>
          h(
            "tr",
            {},
            h("td", {}, h("a", { href: `#/templates/${t.templateId}` }, t.name), h("br"), h("small", {}, t.templateId)),
            h("td", {}, h("span", { class: `ev type-${t.type} tier-${t.tier}` }, `${t.type} · ${t.tier}`)),
            h("td", {}, `v${t.version}`),
            h("td", {}, String(t.usageCount)),
            h("td", {}, num(t.averageEngagementScore, 1)),
            h("td", {}, pct(t.performance.averageCompletionRate)),
            h("td", {}, num(t.performance.averageRppu)),
            h("td", {}, String(t.performance.reportedEvents)),
            h("td", {}, fmtTime(t.lastUsed)),
            h("td", {}, h("a", { href: `#/create/${t.templateId}`, "data-can": "schedule" }, `Schedule ${t.name}`)),
          ),
        ),
      ),
    ),
  );
}

async function templateDetail(root, templateId) {
  const [t, { versions }] = await Promise.all([api("GET", `/templates/${templateId}`), api("GET", `/templates/${templateId}/versions`)]);
  const editable = Object.fromEntries(Object.entries(t).filter(([k]) => !READ_ONLY.includes(k)));
  const text = h("textarea", { rows: 24, class: "mono", spellcheck: "false", disabled: !session.caller.can.editTemplates }, JSON.stringify(editable, null, 2));
  const out = h("div", { id: "tpl-diff", role: "status", "aria-live": "polite" });
  const preview = () => {
    let next;
    try {
      next = JSON.parse(text.value);
    } catch (err) {
      replace(out, h("p", { class: "error" }, `Not JSON: ${err.message}`));
      return null;
    }
    const changes = diff(editable, next);
    replace(
      out,
      changes.length
        ? h(
            "table",
            { class: "diff" },
            h("caption", {}, `${changes.length} change(s) against v${t.version}`),
            h("thead", {}, h("tr", {}, ["Field", `v${t.version}`, `v${t.version + 1}`].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, changes.map(([path, a, b]) => h("tr", {}, h("td", {}, path), h("td", { class: "del" }, show(a)), h("td", { class: "ins" }, show(b))))),
          )
        : h("p", { class: "hint" }, "No changes."),
    );
    return changes.length ? next : null;
  };
  const save = async () => {
    const next = preview();
    if (!next) return;
    try {
      // The version this edit started from: if someone saved in between, the API refuses (409) instead of overwriting.
      const saved = await api("PUT", `/templates/${templateId}`, { ...next, expectedVersion: t.version });
      toast(`Saved ${saved.name} as v${saved.version}`);
      await templateDetail(root, templateId);
    } catch (err) {
      if (err instanceof ApiError && err.code === "version_conflict") {
        replace(
          out,
          h("p", { class: "error version-conflict", role: "alert" }, `Not saved: ${err.details.savedBy ?? "someone"} saved v${err.details.currentVersion} after you opened v${t.version}. `, h("button", { type: "button", class: "link", onclick: () => templateDetail(root, templateId) }, "Reload the template"), " and apply your change to it."),
        );
        return;
      }
      replace(out, h("p", { class: "error", role: "alert" }, err instanceof ApiError ? `${err.message} (${err.code})` : String(err)));
    }
  };
  replace(
    root,
    h("p", { class: "crumbs" }, h("a", { href: "#/templates" }, "Templates"), " › ", templateId),
    h("h2", {}, `${t.name} `, h("small", {}, `v${t.version}`)),
    h(
      "p",
      {},
      `Used ${t.usageCount}× (last ${fmtTime(t.lastUsed)}); engagement ${num(t.averageEngagementScore, 1)}, completion ${pct(t.performance.averageCompletionRate)}, RPPU ${num(t.performance.averageRppu)} over ${t.performance.reportedEvents} reported event(s). Updated ${fmtTime(t.updatedAt)}.`,
    ),
    h("p", {}, h("a", { href: `#/create/${templateId}`, "data-can": "schedule" }, "Schedule an event from this template")),
    field("Template (JSON)", text, session.caller.can.editTemplates ? "Edit, preview the diff, then save: the version goes up by one." : "Editing templates is an admin's."),
    h(
      "div",
      { class: "actions", "data-can": "editTemplates" },
      h("button", { type: "button", onclick: preview }, "Preview diff"),
      h("button", { type: "button", class: "primary", onclick: save }, "Save new version"),
    ),
    out,
    history(versions),
  );
  applyRole(root);
}

/** The saved versions, each with what changed against the one before it. */
function history(versions) {
  return h(
    "section",
    { "aria-labelledby": "tpl-history-t" },
    h("h3", { id: "tpl-history-t" }, "Version history"),
    h(
      "ol",
      { class: "history", reversed: true },
      versions.map((v, i) => {
        const before = versions[i + 1];
        const changes = before ? diff(before.template, v.template) : [];
        return h(
          "li",
          { "data-version": v.version },
          h("strong", {}, `v${v.version}`),
          ` saved ${fmtTime(v.savedAt)} by ${v.savedBy}`,
          before
            ? h(
                "details",
                {},
                h("summary", {}, `${changes.length} change(s) from v${before.version}`),
                h("table", { class: "diff" }, h("tbody", {}, changes.map(([path, a, b]) => h("tr", {}, h("th", { scope: "row" }, path), h("td", { class: "del" }, show(a)), h("td", { class: "ins" }, show(b)))))),
              )
            : h("span", { class: "hint" }, versions.length < 50 ? " (first version)" : ""),
        );
      }),
    ),
  );
}

/** Field-level differences between two JSON values: [path, before, after]. */
export function diff(a, b, path = "") {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (x) => x !== null && typeof x === "object";
  if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) return [[path || "(all)", a, b]];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) => diff(a[k], b[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k));
}

const show = (v) => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));
