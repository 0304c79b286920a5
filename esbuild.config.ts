/**
 * Bundles each Lambda function (`functions/<name>/index.ts` → `dist/functions/<name>/index.mjs`)
 * and the CLI (`dist/cli/remediator.mjs` and its worker) as minified ESM for Node 20+.
 *
 * `mainFields: ["module", "main"]` makes esbuild take the AWS SDK's ES module builds, which it can
 * tree-shake; the default resolution picks the CommonJS builds and nearly doubles the bundle.
 *
 * Each function is built on its own, with code splitting, into its own directory: a dynamic
 * `import()` (an optional notifier, the audit archive) becomes a chunk file beside `index.mjs`,
 * loaded only when that feature is on. The directory is the function's deployment asset
 * (`infra/bundles.ts`), so every chunk it needs must be in it and nothing else.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type BuildOptions, type BuildResult, build, type Metafile } from "esbuild";
import { sdkSchemaKeysPlugin } from "./build/sdk-schema-keys.ts";

const FUNCTIONS_DIR = "functions";

/**
 * Development-time test oracles, never shipped: iam-simulate (AGPL) and the Z3 solver (a 30 MB
 * WASM module the functions have no use for).
 */
const FORBIDDEN_IN_BUNDLE = /@cloud-copilot[\\/]iam-simulate|[\\/]z3-solver[\\/]/;

/** Function name → its entry module. */
export function functionEntries(): Record<string, string> {
  if (!existsSync(FUNCTIONS_DIR)) return {};
  const entries: Record<string, string> = {};
  for (const name of readdirSync(FUNCTIONS_DIR)) {
    const entry = join(FUNCTIONS_DIR, name, "index.ts");
    if (existsSync(entry)) entries[name] = entry;
  }
  return entries;
}

export const sharedOptions: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  sourcemap: false,
  metafile: true,
  legalComments: "none",
  mainFields: ["module", "main"],
  outExtension: { ".js": ".mjs" },
  // Some CommonJS dependencies call require() for Node built-ins; give ESM bundles one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
  // Zod's `z` namespace drags in every locale and JSON Schema support; see build/zod-lean.ts.
  alias: { zod: "./build/zod-lean.ts" },
  // Lets the SDK's service models tree-shake (the EC2 model alone is ~555 KB otherwise).
  plugins: [sdkSchemaKeysPlugin],
};

function assertNoForbiddenCode(metafile: Metafile): void {
  const offenders = Object.keys(metafile.inputs).filter((input) => FORBIDDEN_IN_BUNDLE.test(input));
  if (offenders.length > 0) {
    throw new Error(
      `test oracles must not be bundled (iam-simulate, z3-solver): ${offenders.slice(0, 3).join(", ")}`,
    );
  }
}

/** One metafile for several builds (their outputs never overlap). */
function mergeMetafiles(metafiles: readonly Metafile[]): Metafile {
  return {
    inputs: Object.assign({}, ...metafiles.map((m) => m.inputs)),
    outputs: Object.assign({}, ...metafiles.map((m) => m.outputs)),
  };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;
}

export async function buildAll(outdir = "dist"): Promise<Metafile> {
  const builds: Promise<BuildResult>[] = Object.entries(functionEntries()).map(([name, entry]) => {
    const functionDir = join(outdir, "functions", name);
    // Chunk names carry a content hash: clear the last build's, or they would pile up in the asset.
    rmSync(functionDir, { recursive: true, force: true });
    return build({
      ...sharedOptions,
      entryPoints: { index: entry },
      outdir: functionDir,
      splitting: true,
      chunkNames: "chunk-[hash]",
    });
  });
  // The CLI stays self-contained files (run from anywhere; the worker is loaded by its path).
  builds.push(
    build({
      ...sharedOptions,
      entryPoints: { "cli/remediator": "cli/main.ts", "cli/evaluate-worker": "cli/evaluate-worker.ts" },
      outdir,
      // Only the version string: bundling package.json itself would ship every dependency's name.
      define: { REMEDIATOR_VERSION: JSON.stringify(packageVersion()) },
    }),
  );
  const metafile = mergeMetafiles((await Promise.all(builds)).map((result) => result.metafile as Metafile));
  assertNoForbiddenCode(metafile);
  return metafile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const metafile = await buildAll();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    console.log(`${file}  ${(output.bytes / 1024).toFixed(1)} KiB`);
  }
}
