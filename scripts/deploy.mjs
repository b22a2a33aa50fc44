// `npm run deploy [-- --env staging]`: the remote D1 migrations, then `wrangler deploy`, both for the same
// environment (an npm script `a && b` would hand the arguments to the last command only).
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
for (const step of [["d1", "migrations", "apply", "DB", "--remote", ...args], ["deploy", ...args]]) {
  console.log(`$ wrangler ${step.join(" ")}`);
  const r = spawnSync("wrangler", step, { stdio: "inherit", env: { ...process.env, CI: process.env.CI ?? "true" } });
  if (r.error) {
    console.error(`deploy: cannot run wrangler (${r.error.message}); run it as \`npm run deploy\`, which puts node_modules/.bin on PATH`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}
