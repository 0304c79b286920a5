/**
 * `@cloud-copilot/iam-simulate` is AGPL and `z3-solver` a 30 MB WASM module: development-time test
 * oracles only. This test builds every bundle (to a temporary directory) and fails if any of their
 * code reaches the output, and checks that no shipped source imports them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildAll } from "../../../esbuild.config.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const FORBIDDEN = /@cloud-copilot[\\/]iam-simulate|z3-solver/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const outdir = mkdtempSync(join(tmpdir(), "remediator-agpl-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("the test oracles never ship", () => {
  it("no bundle takes an input from iam-simulate or z3-solver, and no output mentions them", async () => {
    // Act
    const metafile = await buildAll(outdir);
    // Assess
    expect(Object.keys(metafile.inputs).filter((input) => FORBIDDEN.test(input))).toEqual([]);
    const outputs = filesUnder(outdir).filter((file) => file.endsWith(".mjs"));
    expect(outputs.length).toBeGreaterThan(0);
    for (const file of outputs) {
      const text = readFileSync(file, "utf8");
      expect(text.includes("iam-simulate"), file).toBe(false);
      expect(text.includes("runSimulation"), file).toBe(false);
      expect(text.includes("z3-solver") || text.includes("Z3_mk_context"), file).toBe(false);
    }
  }, 120_000);

  it("no source under shared/, cli/ or functions/ imports them", () => {
    const sources = ["shared", "cli", "functions"]
      .flatMap((dir) => filesUnder(join(ROOT, dir)))
      .filter((f) => f.endsWith(".ts"));
    const offenders = sources.filter((file) => FORBIDDEN.test(readFileSync(file, "utf8")));
    expect(offenders).toEqual([]);
  });
});
