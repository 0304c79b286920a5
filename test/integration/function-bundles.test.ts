/**
 * The function bundles as deployed: each function's directory (its CDK asset) holds its entry and
 * every chunk it may load, and nothing outside it; the optional features' SDK clients are lazy
 * chunks, not parsed at cold start; the SDK service models tree-shake.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { literalSchemaKeys } from "../../build/sdk-schema-keys.ts";
import { buildAll } from "../../esbuild.config.ts";
import { STUB_ENV } from "../helpers/aws-stub.ts";

const FUNCTIONS = ["remediate", "reconcile"];
let outdir: string;
let metafile: Metafile;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "remediator-functions-"));
  metafile = await buildAll(outdir);
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The output files a cold start loads: the entry and what it imports statically, transitively. */
function coldStart(entry: string): Set<string> {
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const i of metafile.outputs[file]?.imports ?? []) {
      if (i.kind === "import-statement" && !i.external) visit(i.path);
    }
  };
  visit(entry);
  return loaded;
}

function entryOf(name: string): string {
  const entry = Object.keys(metafile.outputs).find((f) => f.endsWith(`/functions/${name}/index.mjs`));
  if (!entry) throw new Error(`no ${name} entry in ${Object.keys(metafile.outputs).join(", ")}`);
  return entry;
}

describe("function bundles", () => {
  it.each(FUNCTIONS)("%s: every import of every file stays inside the function's directory", (name) => {
    const dir = dirname(entryOf(name));
    const files = Object.keys(metafile.outputs).filter((f) => f.startsWith(`${dir}/`));
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      for (const i of metafile.outputs[file]?.imports ?? []) {
        if (i.external) continue;
        expect(relative(dir, i.path).startsWith(".."), `${file} imports ${i.path}`).toBe(false);
      }
    }
  });

  it.each(FUNCTIONS)("%s: the directory alone, copied elsewhere, loads its entry and every chunk", (name) => {
    const copy = mkdtempSync(join(tmpdir(), `remediator-${name}-asset-`));
    try {
      cpSync(join(outdir, "functions", name), copy, { recursive: true });
      const files = readdirSync(copy).filter((f) => f.endsWith(".mjs"));
      const script = `for (const f of ${JSON.stringify(files)}) await import(${JSON.stringify(
        pathToFileURL(copy).href,
      )} + "/" + f); const m = await import(${JSON.stringify(pathToFileURL(join(copy, "index.mjs")).href)}); if (typeof m.handler !== "function") throw new Error("no handler");`;
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: copy, // no node_modules to fall back on
        env: {
          ...process.env,
          ...STUB_ENV,
          AWS_REGION: "eu-west-1",
          SECURITY_HUB_ENABLED: "true",
          AUDIT_ARCHIVE_BUCKET: "audit-archive",
          POWERTOOLS_LOG_LEVEL: "ERROR",
        },
        encoding: "utf8",
      });
      expect(run.stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*$/, "")).toBe("");
      expect(run.status).toBe(0);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it.each(FUNCTIONS)("%s: Security Hub, Secrets Manager, S3 and IAM are not parsed at cold start", (name) => {
    const entry = entryOf(name);
    const inputs = (files: Iterable<string>) =>
      [...files].flatMap((f) => Object.keys(metafile.outputs[f]?.inputs ?? {}));
    const lazy = /@aws-sdk[\\/](client-securityhub|client-secrets-manager|client-s3|client-iam)[\\/]/;
    expect(inputs(coldStart(entry)).filter((input) => lazy.test(input))).toEqual([]);
    // …but they are in the asset, for when the feature is on.
    const all = Object.keys(metafile.outputs).filter((f) => f.startsWith(dirname(entry)));
    for (const client of ["client-securityhub", "client-secrets-manager", "client-s3", "client-iam"]) {
      expect(
        inputs(all).some((input) => input.includes(`@aws-sdk/${client}/`)),
        client,
      ).toBe(true);
    }
  });

  it("keeps only the EC2 shapes the adapters use (the whole model is ~555 KB minified)", () => {
    const ec2Model = Object.entries(metafile.outputs[entryOf("remediate")]?.inputs ?? {})
      .filter(([input]) => input.includes("@aws-sdk/client-ec2/dist-es/schemas/"))
      .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
    expect(ec2Model).toBeGreaterThan(0);
    expect(ec2Model).toBeLessThan(100_000);
  });
});

describe("literalSchemaKeys", () => {
  it("makes computed keys naming a string constant of the module literal, and nothing else", () => {
    const source = [
      'const _xN = "xmlName";',
      'const _p = "__proto__";',
      "export var A$ = [3, n0, _A, 0, [_B], [[() => B$, { [_xN]: _T, [_p]: 1, [_other]: 2 }]]];",
    ].join("\n");
    expect(literalSchemaKeys(source)).toBe(
      [
        'const _xN = "xmlName";',
        'const _p = "__proto__";',
        'export var A$ = [3, n0, _A, 0, [_B], [[() => B$, { "xmlName": _T, [_p]: 1, [_other]: 2 }]]];',
      ].join("\n"),
    );
  });
});
