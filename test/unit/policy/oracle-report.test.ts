/** Reports of oracle runs over disjoint shards sum into one (`npm run oracle -- --merge`). */
import { describe, expect, it } from "vitest";
import { type DifferentialReport, emptyReport, mergeReports } from "../../oracle/differential.ts";

function synthetic(cases: number, kind: string, examples: number): DifferentialReport {
  const report = emptyReport();
  report.cases = cases;
  report.compared = cases * 4;
  report.agreements = cases * 4 - examples;
  report.disagreements[kind] = examples;
  report.skipped["oracle unknown (timeout)"] = 1;
  report.oracleMs = 1000;
  for (let i = 0; i < examples; i++)
    report.examples.push({ kind, policy: { i }, scope: undefined as never, detail: `example ${i}` });
  return report;
}

describe("mergeReports", () => {
  it("sums every figure and keeps three examples per kind", () => {
    // Act
    const merged = mergeReports([
      synthetic(25, "missed:publicAccess", 2),
      synthetic(50, "missed:publicAccess", 2),
      synthetic(10, "false-alarm:publicAccess", 1),
    ]);
    // Assess
    expect(merged.cases).toBe(85);
    expect(merged.compared).toBe(340);
    expect(merged.agreements).toBe(335);
    expect(merged.oracleMs).toBe(3000);
    expect(merged.disagreements).toEqual({ "missed:publicAccess": 4, "false-alarm:publicAccess": 1 });
    expect(merged.skipped).toEqual({ "oracle unknown (timeout)": 3 });
    expect(merged.examples.filter((e) => e.kind === "missed:publicAccess")).toHaveLength(3);
    expect(merged.examples.filter((e) => e.kind === "false-alarm:publicAccess")).toHaveLength(1);
  });
});
