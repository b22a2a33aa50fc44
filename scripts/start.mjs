// `npm start`: everything a fresh clone needs to serve on 127.0.0.1:8787.
// 1. .dev.vars from the committed example, 2. local D1 migrated, 3. wrangler dev, 4. demo templates seeded.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { seedDemoTemplates } from "./seed.mjs";

const BASE = "http://127.0.0.1:8787";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example");
}

const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local"], { stdio: "inherit", env: { ...process.env, CI: "true" } });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn("wrangler", ["dev", "--ip", "127.0.0.1", "--port", "8787", ...process.argv.slice(2)], { stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => dev.kill(sig));
dev.on("exit", (code) => process.exit(code ?? 0));

const adminToken = readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1]?.trim();
for (let i = 0; i < 120; i++) {
  await new Promise((r) => setTimeout(r, 500));
  try {
    if ((await fetch(`${BASE}/health`)).ok) break;
  } catch {
    // not listening yet
  }
}
try {
  const seeded = await seedDemoTemplates(BASE, adminToken);
  console.log(`demo templates ready: ${seeded.join(", ")}`);
  console.log(`live-events is serving on ${BASE}  (admin token: see .dev.vars; player token: npm run token -- <playerId>)`);
} catch (err) {
  console.error(`seeding demo templates failed: ${err.message}`);
}
