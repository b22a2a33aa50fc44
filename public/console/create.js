// Create from template, in the seed's four steps: 1. pick a template (with its historical performance), 2. theme and
// texts, 3. rewards, 4. schedule, with a live dry run (POST /schedule/validate) as the times are typed, the conflict
// sentences shown, and for an admin, force with a reason. Content changes (steps 2 and 3) and force are an admin's:
// an operator runs a template as approved, and the API would refuse anything else with 403.
import { ApiError, api, applyRole, newIdempotencyKey, qs, session } from "./api.js";
import { field, h, num, pct, replace, select, toast } from "./dom.js";

const STEPS = ["Template", "Theme and texts", "Rewards", "Schedule"];

const nextHour = () => new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
const plus = (d, ms) => new Date(d.getTime() + ms);

export async function createView(root, preselect) {
  const can = session.caller.can;
  const draft = { templateId: preselect ?? null, template: null, name: "", description: "", theme: "{}", rewards: null, start: nextHour().toISOString(), end: plus(nextHour(), 86_400_000).toISOString(), force: false, reason: "" };
  let step = 0;
  let sort = "usage";
  let templates = [];
  const stepper = h("ol", { class: "stepper" });
  const panel = h("section", { class: "panel", "aria-live": "polite" });
  replace(root, h("h2", { id: "create-title" }, "Create an event from a template"), stepper, panel);

  const load = async () => {
    templates = (await api("GET", `/templates${qs({ sort, limit: 100 })}`)).templates;
  };

  const go = (n) => {
    step = n;
    replace(
      stepper,
      STEPS.map((label, i) => h("li", { "aria-current": i === step ? "step" : null, class: i < step ? "done" : "" }, `${i + 1}. ${label}`)),
    );
    [pickTemplate, themeAndTexts, rewards, schedule][step]();
    applyRole(panel);
    panel.querySelector("input, select, textarea, button")?.focus();
  };

  const nav = (nextOk = true) =>
    h(
      "div",
      { class: "actions" },
      step > 0 ? h("button", { type: "button", onclick: () => go(step - 1) }, "Back") : null,
      step < STEPS.length - 1 ? h("button", { type: "button", class: "primary", disabled: !nextOk, onclick: () => go(step + 1) }, "Next") : null,
    );

  const adoptTemplate = (t) => {
    draft.templateId = t.templateId;
    draft.template = t;
    draft.name = t.name;
    draft.description = t.description;
    draft.theme = JSON.stringify(t.theme ?? {}, null, 2);
    draft.rewards = t.milestones.map((m) => m.rewards.map((r) => ({ ...r })));
  };

  function pickTemplate() {
    const sortSel = select("sort", [["usage", "Most used"], ["engagement", "Engagement"], ["completion", "Completion rate"], ["rppu", "RPPU"]], sort);
    sortSel.addEventListener("change", async () => {
      sort = sortSel.value;
      await load();
      pickTemplate();
    });
    const list = h(
      "fieldset",
      { class: "templates" },
      h("legend", {}, "Template"),
      templates.map((t) => {
        const id = `tpl-${t.templateId}`;
        const radio = h("input", { type: "radio", name: "template", id, value: t.templateId, checked: t.templateId === draft.templateId });
        radio.addEventListener("change", () => {
          adoptTemplate(t);
          pickTemplate();
        });
        return h(
          "div",
          { class: "tpl-option" },
          radio,
          h(
            "label",
            { for: id },
            h("strong", {}, t.name),
            ` (${t.templateId}, v${t.version}) `,
            h("span", { class: `ev type-${t.type} tier-${t.tier}` }, `${t.type} · ${t.tier}`),
            h(
              "span",
              { class: "perf" },
              ` used ${t.usageCount}×, engagement ${num(t.averageEngagementScore, 1)}, completion ${pct(t.performance.averageCompletionRate)}, RPPU ${num(t.performance.averageRppu)} over ${t.performance.reportedEvents} reported event(s)`,
            ),
          ),
        );
      }),
    );
    replace(panel, h("h3", {}, "1. Pick a template"), field("Sort templates by", sortSel), list, nav(!!draft.templateId));
  }

  const adminNote = () => (can.overrideContent ? null : h("p", { class: "hint" }, "Changing content is an admin's: as an operator you run the template as an admin approved it. Shown read-only."));

  function themeAndTexts() {
    const name = h("input", { type: "text", value: draft.name, disabled: !can.overrideContent, maxlength: 200 });
    const description = h("textarea", { rows: 3, disabled: !can.overrideContent }, draft.description);
    const theme = h("textarea", { rows: 5, class: "mono", disabled: !can.overrideContent }, draft.theme);
    name.addEventListener("input", () => (draft.name = name.value));
    description.addEventListener("input", () => (draft.description = description.value));
    theme.addEventListener("input", () => (draft.theme = theme.value));
    replace(panel, h("h3", {}, "2. Theme and texts"), adminNote(), field("Event name", name), field("Description", description), field("Theme (JSON)", theme, "Free JSON the game reads: colours, art keys, banner texts."), nav());
  }

  function rewards() {
    const t = draft.template;
    const rows = t.milestones.map((m, i) =>
      h(
        "fieldset",
        { class: "milestone" },
        h("legend", {}, `Milestone ${m.index} at ${Math.round(m.progressThreshold * 100)} %`),
        draft.rewards[i].map((r) => {
          const qty = h("input", { type: "number", min: 1, value: r.quantity, disabled: !can.overrideContent });
          qty.addEventListener("input", () => (r.quantity = Number(qty.value)));
          return field(`${r.rewardId}: ${r.type} ${r.itemId}${r.rarity ? ` (${r.rarity})` : ""}, quantity`, qty);
        }),
      ),
    );
    replace(panel, h("h3", {}, "3. Rewards"), adminNote(), rows, nav());
  }

  /** The body as the API takes it: content fields only when an admin changed them, force only with its reason. */
  const body = () => {
    const b = { templateId: draft.templateId, startTime: draft.start.trim(), endTime: draft.end.trim() };
    if (draft.reason.trim()) b.reason = draft.reason.trim();
    if (can.overrideContent) {
      const t = draft.template;
      if (draft.name !== t.name) b.name = draft.name;
      if (draft.description !== t.description) b.description = draft.description;
      try {
        if (JSON.stringify(JSON.parse(draft.theme)) !== JSON.stringify(t.theme ?? {})) b.theme = JSON.parse(draft.theme);
      } catch {
        b.theme = draft.theme; // not JSON: the API names the field
      }
      const pool = t.milestones.map((m, i) => ({ milestoneIndex: m.index, rewards: draft.rewards[i] })).filter((p, i) => JSON.stringify(p.rewards) !== JSON.stringify(t.milestones[i].rewards));
      if (pool.length) b.rewardPool = pool;
    }
    if (draft.force && can.force) b.force = true;
    return b;
  };

  function schedule() {
    const start = h("input", { type: "text", name: "startTime", value: draft.start, autocomplete: "off", spellcheck: "false" });
    const end = h("input", { type: "text", name: "endTime", value: draft.end, autocomplete: "off", spellcheck: "false" });
    const reason = h("input", { type: "text", name: "reason", value: draft.reason, maxlength: 500 });
    const force = h("input", { type: "checkbox", name: "force", checked: draft.force, "data-can": "force" });
    const check = h("div", { id: "dry-run", class: "dry-run", role: "status", "aria-live": "polite" }, "Checking…");
    const create = h("button", { type: "button", class: "primary", id: "create-event" }, "Create event");
    let seq = 0;
    let lastOk = false;

    const dryRun = async () => {
      const mine = ++seq;
      try {
        const r = await api("POST", "/schedule/validate", body());
        if (mine !== seq) return; // a newer keystroke's check is on its way
        lastOk = r.ok;
        replace(
          check,
          r.ok
            ? h("p", { class: "ok" }, "✓ This schedule fits every rule.")
            : h("div", { class: "conflicts" }, h("p", {}, `✗ ${r.conflicts.length} rule(s) broken:`), h("ul", {}, r.conflicts.map((c) => h("li", { class: "conflict-sentence", "data-rule": c.rule }, c.message)))),
        );
      } catch (err) {
        if (mine !== seq) return;
        lastOk = false;
        replace(check, h("p", { class: "error" }, problems(err)));
      }
      create.disabled = !(lastOk || (draft.force && can.force && draft.reason.trim()));
    };
    let timer = null;
    const typed = () => {
      draft.start = start.value;
      draft.end = end.value;
      draft.reason = reason.value;
      draft.force = force.checked;
      clearTimeout(timer);
      timer = setTimeout(dryRun, 250);
    };
    for (const el of [start, end, reason]) el.addEventListener("input", typed);
    force.addEventListener("change", typed);

    create.addEventListener("click", async () => {
      create.disabled = true;
      try {
        const ev = await api("POST", "/events", body(), { "Idempotency-Key": newIdempotencyKey() });
        toast(`Created ${ev.name}`);
        location.hash = `#/events/${ev.eventId}`;
      } catch (err) {
        replace(check, h("p", { class: "error", role: "alert" }, problems(err)), err.details?.conflicts ? h("ul", {}, err.details.conflicts.map((c) => h("li", { class: "conflict-sentence" }, c.message))) : null);
        create.disabled = false;
      }
    });

    replace(
      panel,
      h("h3", {}, "4. Schedule"),
      h("p", {}, `Template: ${draft.template.name} (${draft.template.type}, ${draft.template.tier}).`),
      field("Start (UTC, ISO 8601, or “now”)", start, "For example 2027-01-10T00:00:00Z"),
      field("End (UTC, ISO 8601)", end),
      check,
      h("div", { class: "field check", "data-can": "force" }, force, h("label", { for: (force.id = "force-box") }, "Force: set the broken rules aside (admin; the reason is recorded)")),
      field("Reason (optional; required to force)", reason),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => go(step - 1) }, "Back"), create),
    );
    void dryRun();
  }

  await load();
  const pre = templates.find((t) => t.templateId === preselect);
  if (pre) adoptTemplate(pre);
  go(pre ? 1 : 0);
}

/** An API refusal in words: its message (which names each field problem) and its code. */
function problems(err) {
  return err instanceof ApiError ? `${err.message} (${err.code})` : String(err);
}
