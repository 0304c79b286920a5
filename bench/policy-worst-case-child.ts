/**
 * Child process of `policy-decision.bench.ts`: judges one adversarial policy (the three questions
 * and the edit with its proof) with the engine named on the command line, then prints the time it
 * took and the process's peak resident memory, so memory is measured per policy in a fresh process
 * (run under `--max-old-space-size`, a policy that needs more heap fails instead of swapping).
 */
import { readFileSync } from "node:fs";
import { engineScopeOf } from "../test/oracle/differential.ts";
import { decisionEngine, productEngine } from "../test/oracle/engine-under-test.ts";

const [file, engineName] = process.argv.slice(2) as [string, string];
const c = JSON.parse(readFileSync(file, "utf8"));
const engine = engineName === "product" ? productEngine : decisionEngine;
const scope = engineScopeOf(c);
const rssBefore = process.resourceUsage().maxRSS;
const start = performance.now();
let outcome = "decided";
try {
  const judgement = engine.judge(c.policy, scope);
  if (Object.values(judgement).some((a) => a.kind === "undecided")) outcome = "undecided";
  engine.edit(c.policy, scope);
} catch (error) {
  outcome = `left for a person (${String(error).slice(0, 60)})`;
}
const ms = performance.now() - start;
console.log(
  JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, rssBeforeKb: rssBefore, outcome }),
);
