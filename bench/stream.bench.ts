/**
 * `remediator evaluate` on inputs far larger than memory: a 1 GB `.jsonl` file, a `.json.gz` log
 * of about 100 MB compressed (one `{"Records": [...]}` document of more than 1 GB), and 1 GB of
 * JSON lines on stdin. Each run is the bundled CLI in its own process; its peak RSS is measured by
 * the process itself, beside a run over a small input (8 MB): flat memory means the two are close.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { buildAll } from "../esbuild.config.ts";
import { writeTrail, writeTrailFile } from "../test/helpers/big-trail.ts";

const DIR = ".bench/stream";
const GB = 1024 * 1024 * 1024;
const REPORT_PEAK_RSS =
  'process.on("exit", () => process.stderr.write("rss " + process.resourceUsage().maxRSS + "\\n"));';

async function ensure(path: string, bytes: number, shape: "jsonl" | "records"): Promise<void> {
  const marker = `${path}.complete`;
  if (existsSync(marker)) return;
  await writeTrailFile(path, bytes, shape);
  writeFileSync(marker, "");
}

async function evaluate(
  args: string[],
  stdinBytes?: number,
): Promise<{ seconds: number; rssMb: number; lines: number; status: number | null }> {
  const start = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [
      "--import",
      `data:text/javascript,${encodeURIComponent(REPORT_PEAK_RSS)}`,
      ".bench/dist/cli/remediator.mjs",
      "evaluate",
      "--format",
      "json",
      "--only",
      "violation,invalid",
      ...args,
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let lines = 0;
  child.stdout.on("data", (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2000);
  });
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  if (stdinBytes !== undefined) await writeTrail(child.stdin, stdinBytes, "jsonl");
  else child.stdin.end();
  const status = await closed;
  if (status !== 0 && status !== 3) throw new Error(`evaluate exited ${status}: ${stderr}`);
  return {
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
    rssMb: Number(/rss (\d+)/.exec(stderr)?.[1] ?? 0) / 1024,
    lines,
    status,
  };
}

export async function run(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  await buildAll(".bench/dist");
  await ensure(`${DIR}/small.jsonl`, 8 * 1024 * 1024, "jsonl");
  await ensure(`${DIR}/big.jsonl`, GB, "jsonl");
  // About 100 MB once compressed (level 1): a single document of a bit over 1 GB.
  await ensure(`${DIR}/big.json.gz`, 1.1 * GB, "records");
  const size = (path: string) => `${(statSync(path).size / 1024 / 1024).toFixed(0)} MB`;
  const line = (label: string, r: Awaited<ReturnType<typeof evaluate>>, mb: number) =>
    `${label.padEnd(44)} peak RSS ${r.rssMb.toFixed(0).padStart(4)} MB  ${(mb / r.seconds).toFixed(1).padStart(6)} MB/s  ${r.seconds.toFixed(1)} s  (${r.lines} lines printed)`;
  const small = await evaluate([`${DIR}/small.jsonl`]);
  console.log(line(`small.jsonl (${size(`${DIR}/small.jsonl`)})`, small, 8));
  const jsonl = await evaluate([`${DIR}/big.jsonl`]);
  console.log(line(`big.jsonl (${size(`${DIR}/big.jsonl`)})`, jsonl, 1024));
  const gz = await evaluate([`${DIR}/big.json.gz`]);
  console.log(line(`big.json.gz (${size(`${DIR}/big.json.gz`)} gzip, ~1.1 GB JSON)`, gz, 1.1 * 1024));
  const stdin = await evaluate(["-"], GB);
  console.log(line("stdin, 1 GB of JSON lines", stdin, 1024));
}
