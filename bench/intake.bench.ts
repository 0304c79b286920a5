/**
 * Judging a CloudTrail log versus only reading it. The baseline reads, gunzips and JSON.parses the
 * same files in the same run; the judgement does that plus intake, validation and every rule.
 */
import { spawnSync } from "node:child_process";
import { createReadStream, openSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { gunzipSync } from "node:zlib";
import { buildAll } from "../esbuild.config.ts";
import { parseConfig } from "../shared/core/config.ts";
import { evaluateRecord } from "../shared/core/judge.ts";
import { RULE_IDS } from "../shared/core/rules/index.ts";
import { streamRecords } from "../shared/io/json-stream.ts";
import { generateTrail } from "./generate-trail.ts";

const TARGET_BYTES = 100 * 1024 * 1024;
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
    // Read as the CLI reads: streamed, each record parsed on its own.
    for await (const items of streamRecords(createReadStream(file, { highWaterMark: 1 << 20 }), file)) {
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

export async function run(): Promise<void> {
  const trail = generateTrail(".bench/trail", TARGET_BYTES);
  console.log(
    `trail: ${trail.files.length} gzip files, ${mb(trail.uncompressedBytes).toFixed(1)} MB JSON (${mb(trail.compressedBytes).toFixed(1)} MB gzip)`,
  );
  // Alternate the two so a noisy neighbour hurts both alike; keep each one's best round.
  let baseline = Number.POSITIVE_INFINITY;
  let judged = Number.POSITIVE_INFINITY;
  let baselineCpu = Number.POSITIVE_INFINITY;
  let judgedCpu = Number.POSITIVE_INFINITY;
  let records = 0;
  let violations = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const parse = await timed(() => parseOnly(trail.files));
    baseline = Math.min(baseline, parse.seconds);
    baselineCpu = Math.min(baselineCpu, parse.cpuSeconds);
    const judge = await timed(() => judgeAll(trail.files));
    judged = Math.min(judged, judge.seconds);
    judgedCpu = Math.min(judgedCpu, judge.cpuSeconds);
    ({ records, violations } = judge.value);
  }
  const rssAfterSingle = process.resourceUsage().maxRSS / 1024;
  const line = (label: string, seconds: number) =>
    `${label.padEnd(34)} ${(records / seconds).toFixed(0).padStart(9)} records/s ${(mb(trail.uncompressedBytes) / seconds).toFixed(1).padStart(7)} MB/s`;
  console.log(`records: ${records} (${violations} violations), best of ${ROUNDS} rounds`);
  console.log(line("baseline: read+gunzip+JSON.parse", baseline));
  console.log(line("judge, one core", judged));
  console.log(line("baseline, per CPU second", baselineCpu));
  console.log(line("judge, per CPU second", judgedCpu));
  console.log(
    `ratio judge/baseline, one core: ${((baselineCpu / judgedCpu) * 100).toFixed(1)}% on CPU time, ${((baseline / judged) * 100).toFixed(1)}% on wall time  (target ≥ 70%)`,
  );

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
