/**
 * Where the function bundles come from. The stack deploys exactly what `npm run build` wrote to
 * `dist/functions/<name>/index.mjs` (the bundles the tests exercised); it never bundles on its own.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's `dist/functions`, wherever the app is started from. */
export const DEFAULT_FUNCTIONS_DIR = resolve(fileURLToPath(new URL("../dist/functions", import.meta.url)));

/** The function names the stack deploys, each a directory holding `index.mjs` that exports `handler`. */
export const FUNCTION_NAMES = ["remediate", "reconcile"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** A missing bundle: the message says how to make it. */
export class MissingBundleError extends Error {
  override readonly name = "MissingBundleError";
}

/** The asset directory of one function; throws with the fix when its bundle is not there. */
export function bundleDirectory(functionsDir: string, name: FunctionName): string {
  const dir = join(functionsDir, name);
  const entry = join(dir, "index.mjs");
  if (!existsSync(entry)) {
    throw new MissingBundleError(
      `the ${name} function bundle ${entry} does not exist: run \`npm run build\` first ` +
        "(the stack deploys exactly the bundles the build produced and the tests exercised)",
    );
  }
  return dir;
}
