// CSV cells of a report: no cell a spreadsheet would run as a formula, and no line break left unquoted.
import { describe, expect, it } from "vitest";
import { cell } from "./report";

describe("report CSV cells", () => {
  it("prefixes text that starts like a formula with a quote, and leaves numbers alone", () => {
    expect(cell("=HYPERLINK(\"x\")")).toBe(`"'=HYPERLINK(""x"")"`);
    expect(["+1", "-cmd", "@SUM(A1)"].map(cell)).toEqual(["'+1", "'-cmd", "'@SUM(A1)"]);
    expect(cell(-0.5)).toBe("-0.5");
    expect(cell("milestone")).toBe("milestone");
    expect(cell(null)).toBe("");
  });

  it("quotes a carriage return as well as a comma, quote or line feed", () => {
    expect(cell("a\rb")).toBe('"a\rb"');
    expect(cell("a,b")).toBe('"a,b"');
    expect(cell("a\nb")).toBe('"a\nb"');
  });
});
