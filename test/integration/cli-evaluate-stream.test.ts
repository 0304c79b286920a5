/**
 * `remediator evaluate` reads its inputs as streams. The large inputs are judged by a process
 * whose JavaScript heap is capped below their size: holding one whole (the text, or the records
 * parsed from it) would end in an out-of-memory crash. Its peak memory is also compared with a run
 * over a small input. Sizes are kept modest here; the 1 GB inputs are in `npm run bench -- stream`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTrail, writeTrailFile } from "../helpers/big-trail.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MB = 1024 * 1024;
/** Peak RSS may grow this much between a small and a large input (allocator and GC slack). */
const ALLOWED_GROWTH_MB = 100;
/** The heap cap of the large runs: less than the input, let alone the records parsed from it. */
const HEAP_CAP_MB = 48;
const REPORT_PEAK_RSS =
  'process.on("exit", () => process.stderr.write("rss " + process.resourceUsage().maxRSS + "\\n"));';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "remediator-stream-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI from source; stdout is counted, never kept. */
async function evaluate(args: string[], stdinBytes?: number, heapCapMb?: number) {
  const child = spawn(
    process.execPath,
    [
      ...(heapCapMb === undefined ? [] : [`--max-old-space-size=${heapCapMb}`]),
      "--import",
      `data:text/javascript,${encodeURIComponent(REPORT_PEAK_RSS)}`,
      "--import",
      "tsx",
      "cli/main.ts",
      "evaluate",
      "--format",
      "json",
      ...args,
    ],
    {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, REMEDIATOR_CONFIG: "", SELF_ROLE_ARNS: "" },
    },
  );
  let lines = 0;
  let violations = 0;
  let tail = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const text = tail + chunk.toString("utf8");
    const parts = text.split("\n");
    tail = parts.pop() ?? "";
    for (const part of parts) {
      lines++;
      if (part.includes('"verdict":"violation"')) violations++;
    }
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  if (stdinBytes !== undefined) await writeTrail(child.stdin, stdinBytes, "jsonl");
  else child.stdin.end();
  const status = await closed;
  return { status, lines, violations, stderr, rssMb: Number(/rss (\d+)/.exec(stderr)?.[1] ?? 0) / 1024 };
}

describe("remediator evaluate streams its inputs", () => {
  it("judges a large .json.gz log and a large stdin of JSON lines with flat memory", async () => {
    const small = join(dir, "small.jsonl");
    const smallWritten = await writeTrailFile(small, 2 * MB, "jsonl");
    const gz = join(dir, "large.json.gz");
    const gzWritten = await writeTrailFile(gz, 64 * MB, "records");

    const baseline = await evaluate([small]);
    const fromGzip = await evaluate([gz], undefined, HEAP_CAP_MB);
    const fromStdin = await evaluate(["-"], 64 * MB, HEAP_CAP_MB);

    expect(baseline.status, baseline.stderr).toBe(0);
    expect(fromGzip.status, fromGzip.stderr).toBe(0);
    expect(fromStdin.status, fromStdin.stderr).toBe(0);
    expect(baseline.lines).toBe(smallWritten.records);
    expect(fromGzip.lines).toBe(gzWritten.records);
    expect(fromGzip.violations).toBeGreaterThan(5_000);
    expect(fromStdin.lines).toBeGreaterThanOrEqual(gzWritten.records);
    expect(fromGzip.stderr).not.toMatch(/unexpected error/);
    expect(baseline.rssMb).toBeGreaterThan(0);
    // 32 times the input, and memory grows by no more than the allocator's slack.
    expect(fromGzip.rssMb - baseline.rssMb).toBeLessThan(ALLOWED_GROWTH_MB);
    expect(fromStdin.rssMb - baseline.rssMb).toBeLessThan(ALLOWED_GROWTH_MB);
  }, 300_000);

  it("prints only the verdicts asked for, and still counts every record", async () => {
    const file = join(dir, "mixed.jsonl");
    const written = await writeTrailFile(file, 1 * MB, "jsonl");

    const all = await evaluate([file]);
    const only = await evaluate(["--only", "violation", file]);

    expect(all.lines).toBe(written.records);
    expect(only.lines).toBe(all.violations);
    expect(only.violations).toBe(all.violations);
  }, 120_000);
});
