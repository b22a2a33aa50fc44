// The README's "Live channel" section documents the protocol from its one schema (src/domain/live.ts): every frame,
// every field, every state change, refetch reason, error code and close code. This keeps the two from drifting.
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import readme from "../README.md?raw";
import { CLOSE, ClientFrame, FRAME_ERRORS, STATE_CHANGES, ServerFrame } from "../src/domain/live";

const section = readme.slice(readme.indexOf("### Live channel"), readme.indexOf("\n### ", readme.indexOf("### Live channel") + 1));
const rowOf = (direction: string, type: string) => section.split("\n").find((l) => l.startsWith(`| ${direction} | \`${type}\` |`));

function frames(schema: typeof ClientFrame | typeof ServerFrame) {
  return schema.options.map((o) => {
    const shape = (o as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
    return { type: (shape.type as unknown as z.ZodLiteral<string>).value, fields: Object.keys(shape).filter((k) => k !== "type"), shape };
  });
}

describe("README: Live channel", () => {
  it("has a row for every frame, naming every field", () => {
    for (const [direction, schema] of [["client → server", ClientFrame], ["server → client", ServerFrame]] as const) {
      for (const f of frames(schema)) {
        const row = rowOf(direction, f.type);
        expect(row, `no row for ${direction} ${f.type}`).toBeTruthy();
        for (const field of f.fields) expect(row, `${f.type}.${field} is not documented`).toContain(`\`${field}\``);
      }
    }
  });

  it("lists every state change, refetch reason, error code and close code", () => {
    const eventState = rowOf("server → client", "event_state")!;
    for (const change of STATE_CHANGES) expect(eventState).toContain(`\`${change}\``);
    const refetch = frames(ServerFrame).find((f) => f.type === "refetch")!;
    for (const reason of (refetch.shape.reason as unknown as z.ZodEnum).options) expect(rowOf("server → client", "refetch")).toContain(`\`${String(reason)}\``);
    for (const code of FRAME_ERRORS) expect(section).toContain(`\`${code}\``);
    for (const code of Object.values(CLOSE)) expect(section).toContain(`| ${code} |`);
  });
});
