/**
 * `npm run oracle [-- COUNT [SEED [REPORT_FILE]]] [--from I] [--to J] [--resume]`: the policy
 * engine against the Z3 oracle on COUNT generated adversarial policies (default 10,000): the three
 * judgements, an edit and its proof, and the widening of a one-step mutant of each policy.
 * `ORACLE_ENGINE=product` compares the product's own path (`analyzePolicy`, `editPolicy`,
 * `proveEdit`) instead. Prints agreement, every disagreement by name with up to three examples
 * each, and the time each side took.
 *
 * With REPORT_FILE, the report so far is written there every 25 policies and when the run is
 * stopped (a long run can be read while it goes on), and its figures to `REPORT_FILE.json`.
 * - `--from I --to J` compares cases I..J-1 of the COUNT cases of SEED only (a shard);
 * - `--resume` continues the run `REPORT_FILE.json` records, from the first case it did not finish;
 * - `npm run oracle -- --merge OUT A.json B.json ...` sums the figures of runs over disjoint
 *   shards into one report (OUT and OUT.json).
 * A query Z3 cannot be stopped on, or an error from Z3 itself, may leave its Z3 context unusable:
 * the run records the case as left out, saves its figures and exits with status 75; `--resume`
 * goes on from the next case in a fresh process.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { adversarialCaseArb } from "../test/helpers/policy-arbitraries.ts";
import {
  Differential,
  type DifferentialReport,
  emptyReport,
  formatReport,
  mergeReports,
} from "../test/oracle/differential.ts";
import { decisionEngine, productEngine } from "../test/oracle/engine-under-test.ts";
import { OracleHangError, type OracleStats, PolicyOracle } from "../test/oracle/z3-policy-oracle.ts";

/** What `REPORT_FILE.json` holds: the figures, and where the run stands. */
interface RunState {
  readonly title: string;
  readonly count: number;
  readonly seed: number;
  /** The first case of the range, the first not yet compared, and the end of the range. */
  readonly from: number;
  readonly next: number;
  readonly to: number;
  readonly report: DifferentialReport;
  readonly oracle: OracleStats;
  /** Wall time of the run so far (over every resumed part). */
  readonly wallMs: number;
}

const HUNG_EXIT = 75;

/** Positional arguments, and `--name value` / `--resume` flags. */
function parseArgs(args: readonly string[]) {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--resume") flags.set(arg, "");
    else if (arg.startsWith("--")) flags.set(arg, args[++i] ?? "");
    else positional.push(arg);
  }
  const number = (name: string) => (flags.has(name) ? Number(flags.get(name)) : undefined);
  return { positional, resume: flags.has("--resume"), from: number("--from"), to: number("--to") };
}

function render(state: RunState, note = ""): string {
  const { report, oracle } = state;
  const lines = [
    formatReport(
      report,
      `${state.title} (seed ${state.seed}, cases ${state.from} to ${state.next - 1} of ${state.count})`,
    ),
    `  oracle: ${oracle.calls} solver calls, ${(oracle.ms / Math.max(1, oracle.calls)).toFixed(1)} ms each on average; ${oracle.split} questions asked again kind by kind after a short first try; ${oracle.unknown} left unknown`,
    `  wall time: ${(state.wallMs / 1000).toFixed(0)} s, ${(state.wallMs / 1000 / Math.max(1, report.cases)).toFixed(2)} s per policy${note}`,
  ];
  for (const example of report.examples)
    lines.push(
      `\n[${example.kind}] ${JSON.stringify(example.policy)}\n  scope ${JSON.stringify(example.scope)}\n  ${example.detail}`,
    );
  return `${lines.join("\n")}\n`;
}

function save(file: string | undefined, state: RunState, note = ""): void {
  if (!file) return;
  writeFileSync(`${file}.json`, `${JSON.stringify(state)}\n`);
  writeFileSync(file, render(state, note));
}

if (process.argv[2] === "--merge") {
  const [out, ...inputs] = process.argv.slice(3);
  if (!out || inputs.length === 0) throw new Error("usage: --merge OUT A.json B.json ...");
  const states = inputs.map((f) => JSON.parse(readFileSync(f, "utf8")) as RunState);
  const first = states[0] as RunState;
  const merged: RunState = {
    ...first,
    from: Math.min(...states.map((s) => s.from)),
    next: Math.max(...states.map((s) => s.next)),
    report: mergeReports(states.map((s) => s.report)),
    oracle: states.reduce(
      (sum, s) => ({
        calls: sum.calls + s.oracle.calls,
        ms: sum.ms + s.oracle.ms,
        split: sum.split + s.oracle.split,
        unknown: sum.unknown + s.oracle.unknown,
      }),
      { calls: 0, ms: 0, split: 0, unknown: 0 },
    ),
    wallMs: states.reduce((sum, s) => sum + s.wallMs, 0),
  };
  save(out, merged, ` (the sum of ${states.length} runs; wall time summed)`);
  console.log(render(merged));
  process.exit(0);
}

const args = parseArgs(process.argv.slice(2));
const positional = args.positional;
const count = Number(positional[0] ?? 10_000);
const seed = Number(positional[1] ?? 8);
const reportFile = positional[2];
const engine = process.env.ORACLE_ENGINE === "product" ? productEngine : decisionEngine;
const title = `${engine.name} vs Z3`;
const resumed =
  args.resume && reportFile && existsSync(`${reportFile}.json`)
    ? (JSON.parse(readFileSync(`${reportFile}.json`, "utf8")) as RunState)
    : undefined;
const from = resumed?.from ?? args.from ?? 0;
const to = Math.min(count, resumed?.to ?? args.to ?? count);
const cases = fc.sample(adversarialCaseArb, { numRuns: count, seed });
const oracle = await PolicyOracle.create({ timeoutMs: 10_000, groupTimeoutMs: 1_000 });
if (resumed) Object.assign(oracle.stats, resumed.oracle);
const differential = new Differential(oracle, engine, resumed?.report ?? emptyReport());
const start = performance.now() - (resumed?.wallMs ?? 0);

const state = (next: number): RunState => ({
  title,
  count,
  seed,
  from,
  next,
  to,
  report: differential.report,
  oracle: { ...oracle.stats },
  wallMs: performance.now() - start,
});

let next = resumed?.next ?? from;
process.on("SIGTERM", () => {
  // The figures file keeps the last whole batch of 25 (so --resume counts no case twice).
  if (reportFile) writeFileSync(reportFile, render(state(next), "\n  (stopped before the end)"));
  process.exit(143);
});

for (; next < to; next++) {
  try {
    await differential.compare(cases[next] as (typeof cases)[number], next);
  } catch (error) {
    // A hung query, or any error from Z3 itself, may leave the Z3 context unusable: the case is left
    // out and the run stops, to be resumed in a fresh process.
    const reason =
      error instanceof OracleHangError
        ? "oracle hung (case left out; the run restarts Z3)"
        : `oracle error (case left out; the run restarts Z3): ${String(error).slice(0, 80)}`;
    differential.report.skipped[reason] = (differential.report.skipped[reason] ?? 0) + 1;
    save(reportFile, state(next + 1), "\n  (Z3 stopped: resume with --resume)");
    console.error(`case ${next}: ${String(error)}; resume with --resume`);
    process.exit(HUNG_EXIT);
  }
  if ((next + 1) % 25 === 0) {
    console.error(`${next + 1}/${to} (${((performance.now() - start) / 1000).toFixed(0)} s)`);
    save(reportFile, state(next + 1));
  }
}
save(reportFile, state(to));
console.log(render(state(to)));
process.exit(0);
