// Seeds the demo templates through the admin API, so they pass the same validation as anything ops create.
// Idempotent: an existing template (409) is left as it is.
import { readFileSync } from "node:fs";

export async function seedDemoTemplates(base, adminToken) {
  const templates = JSON.parse(readFileSync(new URL("../seed/demo-templates.json", import.meta.url), "utf8"));
  const done = [];
  for (const t of templates) {
    const res = await fetch(`${base}/v1/admin/templates`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify(t),
    });
    if (res.status !== 201 && res.status !== 409) throw new Error(`${t.templateId}: ${res.status} ${await res.text()}`);
    done.push(t.templateId);
  }
  return done;
}
