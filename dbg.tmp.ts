import fc from "fast-check";
import { adversarialCaseArb } from "./test/helpers/policy-arbitraries.ts";
import { Differential } from "./test/oracle/differential.ts";
import { decisionEngine } from "./test/oracle/engine-under-test.ts";
import { PolicyOracle } from "./test/oracle/z3-policy-oracle.ts";
const cases = fc.sample(adversarialCaseArb, { numRuns: 30, seed: 8 });
const oracle = await PolicyOracle.create({ timeoutMs: 10_000 });
const d = new Differential(oracle, decisionEngine);
for (const [i, c] of cases.entries()) {
  const before = d.report.examples.length;
  await d.compare(c, i);
  for (const e of d.report.examples.slice(before)) console.log(`#${i} [${e.kind}] ${JSON.stringify(e.policy)}\n  ${e.detail}\n`);
  if (d.report.examples.length >= 4) break;
}
process.exit(0);
