/**
 * The bundled CLI (what `npx remediator` runs after `npm run build`), including its worker threads.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAll } from "../../esbuild.config.ts";
import { fixturePath } from "../helpers/fixtures.ts";

let outdir: string;
beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "remediator-bundle-"));
  await buildAll(outdir);
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("the bundled CLI", () => {
  it("is a self-contained ESM file that judges a directory with worker threads", () => {
    const cli = join(outdir, "cli", "remediator.mjs");
    expect(existsSync(cli)).toBe(true);
    expect(existsSync(join(outdir, "cli", "evaluate-worker.mjs"))).toBe(true);
    const run = (workers: string) =>
      spawnSync(
        process.execPath,
        [cli, "evaluate", "--format", "json", "--workers", workers, fixturePath("")],
        {
          cwd: tmpdir(), // no node_modules to fall back on
          encoding: "utf8",
        },
      );
    const parallel = run("2");
    expect(parallel.status).toBe(0);
    const verdicts = parallel.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).verdict);
    expect(verdicts).toContain("violation");
    expect(verdicts).toContain("invalid");
    expect(parallel.stdout).toBe(run("1").stdout);
  });
});
