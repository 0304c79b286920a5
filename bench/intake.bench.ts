/**
 * Judging a CloudTrail log versus only reading it. The baseline reads, gunzips and JSON.parses the
 * same files in the same run; the judgement does that plus intake, validation and every rule.
 */
import { spawnSync } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { gunzipSync } from "node:zlib";
import { buildAll } from "../esbuild.config.ts";
import { parseConfig } from "../shared/core/config.ts";
import { evaluateRecord } from "../shared/core/judge.ts";
import { RULE_IDS } from "../shared/core/rules/index.ts";
import { readInput } from "../shared/io/json-stream.ts";
import { type GeneratedTrail, generateTrail } from "./generate-trail.ts";

const TARGET_BYTES = 100 * 1024 * 1024;
const DENSE_TARGET_BYTES = 40 * 1024 * 1024;
/** Preloaded into the CLI process: its own peak RSS (all threads), on stderr at exit. */
const REPORT_PEAK_RSS =
  'process.on("exit", () => process.stderr.write("rss " + process.resourceUsage().maxRSS + "\\n"));';
const ROUNDS = 5;

function parseOnly(files: readonly string[]): number {
  let records = 0;
  for (const file of files) {
    const text = gunzipSync(readFileSync(file)).toString("utf8");
    records += (JSON.parse(text) as { Records: unknown[] }).Records.length;
  }
  return records;
}

async function judgeAll(files: readonly string[]): Promise<{ records: number; violations: number }> {
  const config = parseConfig({}, RULE_IDS);
  const now = new Date();
  let records = 0;
  let violations = 0;
  for (const file of files) {
    // Read as the CLI reads (a small file whole, a large one streamed).
    for await (const items of readInput(file)) {
      for (const item of items) {
        if (item.kind !== "record") continue;
        records++;
        if (evaluateRecord(item.raw, { config, now }).verdict === "violation") violations++;
      }
    }
  }
  return { records, violations };
}

/**
 * Wall time, and the CPU time this process spent (all its threads: the garbage collector's helpers
 * count). On a shared machine CPU time is the steadier figure for single-threaded work; the ratio
 * is taken on it, and wall figures are printed beside it.
 */
async function timed<T>(
  work: () => Promise<T> | T,
): Promise<{ seconds: number; cpuSeconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return {
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
    cpuSeconds: (used.user + used.system) / 1e6,
    value,
  };
}

const mb = (bytes: number) => bytes / (1024 * 1024);

interface Comparison {
  records: number;
  violations: number;
  baseline: number;
  judged: number;
  baselineCpu: number;
  judgedCpu: number;
}

/** Baseline and judgement alternated, so a noisy neighbour hurts both alike; each one's best round. */
async function compare(files: readonly string[]): Promise<Comparison> {
  const result: Comparison = {
    records: 0,
    violations: 0,
    baseline: Number.POSITIVE_INFINITY,
    judged: Number.POSITIVE_INFINITY,
    baselineCpu: Number.POSITIVE_INFINITY,
    judgedCpu: Number.POSITIVE_INFINITY,
  };
  for (let round = 0; round < ROUNDS; round++) {
    const parse = await timed(() => parseOnly(files));
    result.baseline = Math.min(result.baseline, parse.seconds);
    result.baselineCpu = Math.min(result.baselineCpu, parse.cpuSeconds);
    const judge = await timed(() => judgeAll(files));
    result.judged = Math.min(result.judged, judge.seconds);
    result.judgedCpu = Math.min(result.judgedCpu, judge.cpuSeconds);
    result.records = judge.value.records;
    result.violations = judge.value.violations;
  }
  return result;
}

function printComparison(trail: GeneratedTrail, c: Comparison, target: string): void {
  const line = (label: string, seconds: number) =>
    `${label.padEnd(34)} ${(c.records / seconds).toFixed(0).padStart(9)} records/s ${(mb(trail.uncompressedBytes) / seconds).toFixed(1).padStart(7)} MB/s`;
  console.log(`records: ${c.records} (${c.violations} violations), best of ${ROUNDS} rounds`);
  console.log(line("baseline: read+gunzip+JSON.parse", c.baseline));
  console.log(line("judge, one core", c.judged));
  console.log(line("baseline, per CPU second", c.baselineCpu));
  console.log(line("judge, per CPU second", c.judgedCpu));
  console.log(
    `ratio judge/baseline, one core: ${((c.baselineCpu / c.judgedCpu) * 100).toFixed(1)}% on CPU time, ${((c.baseline / c.judged) * 100).toFixed(1)}% on wall time  (target ${target})`,
  );
}

export async function run(): Promise<void> {
  const trail = generateTrail(".bench/trail", TARGET_BYTES);
  console.log(
    `trail: ${trail.files.length} gzip files, ${mb(trail.uncompressedBytes).toFixed(1)} MB JSON (${mb(trail.compressedBytes).toFixed(1)} MB gzip), one record in five a security-group or file-system call`,
  );
  const mixed = await compare(trail.files);
  printComparison(trail, mixed, "≥ 70%");
  const { records } = mixed;
  const rssAfterSingle = process.resourceUsage().maxRSS / 1024;

  // A trail dense in what the remediator judges: 60 % security-group and policy changes.
  const dense = generateTrail(".bench/trail-dense", DENSE_TARGET_BYTES, 2_000_000, 7, 0.6);
  console.log(
    `\ndense trail: ${dense.files.length} gzip files, ${mb(dense.uncompressedBytes).toFixed(1)} MB JSON, 60 % of records judged changes (security-group rules, file-system policies)`,
  );
  printComparison(dense, await compare(dense.files), "≥ 40%");

  // The command line as users run it: the bundled CLI, JSON lines to /dev/null, 1 and N workers,
  // over the trail three times (about 300 MB) so start-up and warm-up weigh little. Peak RSS of
  // each run is measured by the child itself (flat memory: it must not grow with the input).
  await buildAll(".bench/dist");
  const passes = 3;
  const cli = (workers: number) =>
    timed(() => {
      const result = spawnSync(
        process.execPath,
        [
          "--import",
          `data:text/javascript,${encodeURIComponent(REPORT_PEAK_RSS)}`,
          ".bench/dist/cli/remediator.mjs",
          "evaluate",
          "--format",
          "json",
          "--workers",
          String(workers),
          ...Array<string>(passes).fill(trail.dir),
        ],
        { stdio: ["ignore", openSync("/dev/null", "w"), "pipe"], encoding: "utf8" },
      );
      if (result.status !== 0) throw new Error(`evaluate exited ${result.status}: ${result.stderr}`);
      return Number(/rss (\d+)/.exec(result.stderr)?.[1] ?? 0) / 1024;
    });
  const cores = availableParallelism();
  const single = await cli(1);
  const parallel = await cli(cores);
  const cliLine = (label: string, seconds: number, rss: number) =>
    `${label.padEnd(34)} ${((records * passes) / seconds).toFixed(0).padStart(9)} records/s ${((mb(trail.uncompressedBytes) * passes) / seconds).toFixed(1).padStart(7)} MB/s  peak RSS ${rss.toFixed(0)} MB`;
  console.log(cliLine("remediator evaluate, 1 worker", single.seconds, single.value));
  console.log(cliLine(`remediator evaluate, ${cores} workers`, parallel.seconds, parallel.value));
  console.log(
    `  (${passes} passes over the trail, whole process: start-up, JSON lines out; speed-up ${(single.seconds / parallel.seconds).toFixed(2)}x on ${cores} cores)`,
  );
  console.log(
    `peak RSS: ${rssAfterSingle.toFixed(0)} MB after the single-core rounds; ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB overall`,
  );
}
