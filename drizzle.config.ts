import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes the next numbered SQL file into migrations/, which wrangler applies.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
