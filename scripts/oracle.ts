/**
 * `npm run oracle [-- COUNT [SEED [REPORT_FILE]]]`: the policy engine against the Z3 oracle on
 * COUNT generated adversarial policies (default 10,000): the three judgements, an edit and its
 * proof, and the widening of a one-step mutant of each policy. `ORACLE_ENGINE=sampling` compares
 * the sampling analysis instead of the decision procedure. Prints agreement, every
 * disagreement by name with up to three examples each, and the time each side took; with
 * REPORT_FILE, also writes the report so far there every 250 policies (a long run can be read
 * while it goes on).
 */
import { writeFileSync } from "node:fs";
import fc from "fast-check";
import { adversarialCaseArb } from "../test/helpers/policy-arbitraries.ts";
import { Differential, formatReport } from "../test/oracle/differential.ts";
import { decisionEngine, samplingEngine } from "../test/oracle/engine-under-test.ts";
import { PolicyOracle } from "../test/oracle/z3-policy-oracle.ts";

const count = Number(process.argv[2] ?? 10_000);
const seed = Number(process.argv[3] ?? 8);
const reportFile = process.argv[4];
const engine = process.env.ORACLE_ENGINE === "sampling" ? samplingEngine : decisionEngine;
const cases = fc.sample(adversarialCaseArb, { numRuns: count, seed });
const oracle = await PolicyOracle.create({ timeoutMs: 10_000 });
const differential = new Differential(oracle, engine);
const start = performance.now();

function render(): string {
  const { report } = differential;
  const lines = [
    formatReport(report, `${engine.name} vs Z3 (seed ${seed})`),
    `  oracle: ${oracle.stats.calls} solver calls, ${(oracle.stats.ms / Math.max(1, oracle.stats.calls)).toFixed(1)} ms each on average`,
    `  wall time: ${((performance.now() - start) / 1000).toFixed(0)} s`,
  ];
  for (const example of report.examples)
    lines.push(
      `\n[${example.kind}] ${JSON.stringify(example.policy)}\n  scope ${JSON.stringify(example.scope)}\n  ${example.detail}`,
    );
  return lines.join("\n");
}

for (const [i, c] of cases.entries()) {
  await differential.compare(c, i);
  if ((i + 1) % 250 === 0) {
    console.error(`${i + 1}/${count} (${((performance.now() - start) / 1000).toFixed(0)} s)`);
    if (reportFile) writeFileSync(reportFile, `${render()}\n`);
  }
}
const text = render();
if (reportFile) writeFileSync(reportFile, `${text}\n`);
console.log(text);
process.exit(0);
