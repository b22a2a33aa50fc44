// The architecture's rules, checked on every `npm test` (and so in CI), because a rule nobody checks erodes:
// - src/domain is pure: no `cloudflare:` imports and nothing from the layers around it;
// - actors never import src/http or src/routes; routes never import each other;
// - no import cycle anywhere in src/;
// - the schedule table's SQL lives only in the actor kit.
// Prints every violation and exits 1 if there is one.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}

const files = walk(src);
const rel = (p) => relative(root, p).replaceAll("\\", "/");
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm;

/** Local imports of a file, resolved to files under src/ (type-only imports count too: they still couple modules). */
function importsOf(file) {
  const text = readFileSync(file, "utf8");
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1];
    if (!spec.startsWith(".")) {
      out.push({ spec, file: null });
      continue;
    }
    const base = resolve(dirname(file), spec);
    const target = [`${base}.ts`, join(base, "index.ts")].find((p) => files.includes(p));
    out.push({ spec, file: target ?? null });
  }
  return out;
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));
const problems = [];
const under = (f, dir) => rel(f).startsWith(`src/${dir}/`);

for (const [file, imports] of graph) {
  for (const { spec, file: target } of imports) {
    if (under(file, "domain")) {
      if (spec.startsWith("cloudflare:")) problems.push(`${rel(file)} imports ${spec}: the domain does no I/O`);
      if (target && !under(target, "domain") && !under(target, "lib")) problems.push(`${rel(file)} imports ${rel(target)}: the domain depends only on itself and src/lib`);
    }
    if (under(file, "actors") && target && (under(target, "http") || under(target, "routes"))) problems.push(`${rel(file)} imports ${rel(target)}: actors never import the HTTP layer`);
    // A room (src/actors/<room>/) builds on the kit, the contracts and stubs, its own files, and the pure layers.
    const room = rel(file).match(/^src\/actors\/([^/]+)\//)?.[1];
    if (room && target) {
      const t = rel(target);
      const allowed =
        room === "kit"
          ? under(target, "domain") || under(target, "actors/kit")
          : under(target, `actors/${room}`) || under(target, "actors/kit") || /^src\/actors\/(contracts|stubs)\.ts$/.test(t) ||
            under(target, "domain") || under(target, "db") || under(target, "lib") || t === "src/config.ts";
      if (!allowed) problems.push(`${rel(file)} imports ${t}: a room builds only on the kit, the contracts, its own files, domain, db, lib and config`);
    }
    // A sub-app's index.ts composes its route modules; route modules themselves never import one another.
    if (under(file, "routes") && target && under(target, "routes") && !file.endsWith("index.ts") && !target.endsWith("index.ts"))
      problems.push(`${rel(file)} imports ${rel(target)}: routes do not import each other`);
  }
  const text = readFileSync(file, "utf8");
  if (!under(file, "actors/kit") && /\b(FROM|INTO|UPDATE|TABLE(?: IF NOT EXISTS)?)\s+schedule\b/.test(text))
    problems.push(`${rel(file)} writes SQL for the schedule table: only src/actors/kit/schedule.ts may`);
}

// Cycles: depth-first search over local imports.
const state = new Map();
const stack = [];
function visit(f) {
  state.set(f, "open");
  stack.push(f);
  for (const { file: t } of graph.get(f) ?? []) {
    if (!t) continue;
    if (state.get(t) === "open") problems.push(`import cycle: ${[...stack.slice(stack.indexOf(t)), t].map(rel).join(" → ")}`);
    else if (!state.has(t)) visit(t);
  }
  stack.pop();
  state.set(f, "done");
}
for (const f of files) if (!state.has(f)) visit(f);

if (problems.length) {
  console.error(`architecture check: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`- ${p}`);
  process.exit(1);
}
console.log(`architecture check: ${files.length} files, no cycles, layers respected`);
