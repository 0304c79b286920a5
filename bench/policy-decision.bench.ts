/**
 * The decision procedure, each figure beside its baseline measured in the same run:
 * - uncached PutFileSystemPolicy judgement with edit and proof (the three questions, the narrowing
 *   edit, `findWidening` and the questions again on the edited policy), against the product's
 *   path (`evaluateRecord`: intake, `analyzePolicy`, `editPolicy`, `proveEdit`) and against the Z3
 *   oracle answering the same questions; and `evaluateRecord` on other shapes people write
 *   (`POLICY_SHAPES`: the EFS console's policy, a partner's root, a private source range…), each
 *   a different policy every round;
 * - the worst case over adversarial policies (`policy-adversarial.ts`: a 600-character `*a*a…*b`
 *   pattern beside a long value, many fixed values, many patterns of both polarities, long
 *   ignore-case values, hundreds of address ranges, numbers, dates and set values, many keys, many
 *   statements): time and peak memory of one judgement, each the least of a few fresh child
 *   processes (bundled as the functions are) under a 64 MB heap, beside the same child judging a 5-statement policy (the
 *   process's own footprint) and beside the product's path.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { sharedOptions } from "../esbuild.config.ts";
import { parseConfig } from "../shared/core/config.ts";
import { evaluateRecord } from "../shared/core/judge.ts";
import { RULE_IDS } from "../shared/core/rules/index.ts";
import { engineScopeOf, oracleScopeOf } from "../test/oracle/differential.ts";
import { decisionEngine } from "../test/oracle/engine-under-test.ts";
import { PolicyOracle } from "../test/oracle/z3-policy-oracle.ts";
import { benchPolicyVariant, POLICY_SHAPES, putPolicyRecord } from "./bench-policy.ts";
import { adversarialPolicies, BENCH_CASE } from "./policy-adversarial.ts";

const CASE = BENCH_CASE;
const POLICY = CASE.policy;

async function rate(label: string, baseline: number | undefined, seconds: number, once: () => unknown) {
  // Warm up first (compilation takes a few seconds of judgements; a warm function has done it),
  // then count.
  const warm = performance.now();
  while (performance.now() - warm < 3000) await once();
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await once();
    count++;
  }
  const perSecond = count / ((performance.now() - start) / 1000);
  const beside = baseline === undefined ? "" : `   (${(perSecond / baseline).toFixed(1)} x the baseline)`;
  console.log(`${label.padEnd(62)} ${perSecond.toFixed(perSecond < 10 ? 2 : 0).padStart(8)} /s${beside}`);
  return perSecond;
}

/**
 * The child, bundled as the functions are (`esbuild.config.ts`): a fresh process runs its code
 * cold, and code loaded through the TypeScript loader runs measurably slower than the bundle Lambda
 * runs (≈ 8 ms on the same policy here).
 */
async function bundleChild(dir: string): Promise<string> {
  const outfile = join(dir, "child.mjs");
  await build({
    ...sharedOptions,
    entryPoints: ["bench/policy-worst-case-child.ts"],
    outfile,
    metafile: false,
    external: ["z3-solver"],
  });
  return outfile;
}

/**
 * Fresh processes per policy: the time is the least of them, the memory the most. The machine is
 * shared: one run can lose 10–25 ms to a neighbour, and three in a row have.
 */
const RUNS = 5;

interface ChildRun {
  readonly ms?: number;
  readonly mb?: number;
  readonly outcome?: string;
  readonly text: string;
}

function child(script: string, file: string, engine: string, timeoutMs: number): ChildRun {
  let least: ChildRun | undefined;
  for (let run = 0; run < RUNS; run++) {
    const result = spawnSync(process.execPath, ["--max-old-space-size=64", script, file, engine], {
      encoding: "utf8",
      timeout: timeoutMs,
    });
    if (result.status !== 0 || !result.stdout.trim())
      return { text: result.error ? `> ${timeoutMs / 1000} s (stopped)` : "failed (out of the 64 MB heap?)" };
    const { ms, maxRssKb, outcome } = JSON.parse(result.stdout.trim().split("\n").pop() as string);
    const mb = Math.max(maxRssKb / 1024, least?.mb ?? 0);
    least = { ms: Math.min(ms, least?.ms ?? ms), mb, outcome: least?.outcome ?? outcome, text: "" };
  }
  return least as ChildRun;
}

export async function run(): Promise<void> {
  const config = parseConfig({}, RULE_IDS);
  const record = putPolicyRecord("fs-1", POLICY);
  const now = new Date();
  const scope = engineScopeOf(CASE);
  const edit = decisionEngine.edit(POLICY, scope);
  if (!edit?.proved) throw new Error("the bench policy should be narrowed with a proof");

  console.log(
    "uncached PutFileSystemPolicy judgement with edit and proof (5-statement policy; target >= 5,000/s)",
  );
  // A fresh configuration each round: judgements are remembered per configuration object.
  const variants = Array.from({ length: 50_000 }, (_, i) => {
    const { fileSystemId, policy } = benchPolicyVariant(i + 1);
    return putPolicyRecord(fileSystemId, policy);
  });
  let next = 0;
  await rate("evaluateRecord, a different policy each round (all cold)", undefined, 3, () =>
    evaluateRecord(variants[next++ % variants.length] as typeof record, { config: { ...config }, now }),
  );
  console.log("evaluateRecord on other shapes people write, a different policy each round (all cold):");
  for (const shape of POLICY_SHAPES) {
    const records = Array.from({ length: 20_000 }, (_, i) => shape.record(i + 1));
    let n = 0;
    await rate(`  ${shape.name}`, undefined, 2, () =>
      evaluateRecord(records[n++ % records.length] as typeof record, { config: { ...config }, now }),
    );
  }
  const baseline = await rate(
    "evaluateRecord, the same policy each round (engine memos warm)",
    undefined,
    3,
    () => evaluateRecord(record, { config: { ...config }, now }),
  );
  const decision = await rate("decision procedure: 3 questions + narrowing edit + proof", baseline, 3, () => {
    decisionEngine.judge(POLICY, scope);
    decisionEngine.edit(POLICY, scope);
  });
  const oracle = await PolicyOracle.create();
  const oscope = oracleScopeOf(scope);
  const z3 = await rate("Z3 oracle: the same questions, widening and goals", undefined, 5, async () => {
    await oracle.publicAccess(POLICY, oscope);
    await oracle.crossAccountAccess(POLICY, oscope);
    await oracle.rootOutsideAdmins(POLICY, oscope);
    await oracle.widening(POLICY, edit.edited, oscope);
    await oracle.publicAccess(edit.edited, oscope);
    await oracle.crossAccountAccess(edit.edited, oscope);
  });
  console.log(
    `${"ratio: decision procedure / Z3 oracle".padEnd(62)} ${(decision / z3).toFixed(0).padStart(8)} x`,
  );

  console.log(
    `\nworst case over adversarial policies (target <= 50 ms and <= 64 MB), each the least of ${RUNS} fresh processes`,
  );
  const dir = mkdtempSync(join(tmpdir(), "policy-worst-"));
  try {
    const small = join(dir, "small.json");
    writeFileSync(small, JSON.stringify(CASE));
    const script = await bundleChild(dir);
    const footprint = child(script, small, "decision", 60_000);
    console.log(
      `${"the child judging the 5-statement policy (its own footprint)".padEnd(62)} ${footprint.ms?.toFixed(1) ?? footprint.text} ms, peak RSS ${footprint.mb?.toFixed(0)} MB`,
    );
    let worstMs = 0;
    let worstMb = 0;
    let productWorstMs = 0;
    let productWorstMb = 0;
    for (const [name, c] of adversarialPolicies()) {
      const file = join(dir, `${name.replace(/\W+/g, "-")}.json`);
      writeFileSync(file, JSON.stringify(c));
      const ours = child(script, file, "decision", 60_000);
      const theirs = child(script, file, "product", 10_000);
      if (ours.ms !== undefined) worstMs = Math.max(worstMs, ours.ms);
      if (ours.mb !== undefined) worstMb = Math.max(worstMb, ours.mb - (footprint.mb ?? 0));
      if (theirs.ms !== undefined) productWorstMs = Math.max(productWorstMs, theirs.ms);
      if (theirs.mb !== undefined) productWorstMb = Math.max(productWorstMb, theirs.mb - (footprint.mb ?? 0));
      const show = (r: ChildRun) =>
        r.ms === undefined ? r.text : `${r.ms.toFixed(1)} ms, peak RSS ${r.mb?.toFixed(0)} MB, ${r.outcome}`;
      console.log(`  ${name} (${JSON.stringify(c.policy).length} chars)`);
      console.log(`    decision procedure: ${show(ours)}`);
      console.log(`    the product's path, analyzePolicy + editPolicy + proveEdit: ${show(theirs)}`);
    }
    console.log(
      `${"worst case, decision procedure".padEnd(62)} ${worstMs.toFixed(1)} ms, +${worstMb.toFixed(0)} MB peak RSS over the footprint`,
    );
    console.log(
      `${"worst case, the product's path".padEnd(62)} ${productWorstMs.toFixed(1)} ms, +${productWorstMb.toFixed(0)} MB peak RSS over the footprint`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
