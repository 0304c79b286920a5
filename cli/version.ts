/**
 * The package version. The bundle has it inlined at build time (`REMEDIATOR_VERSION`, see
 * esbuild.config.ts); run from source, it is read from package.json.
 */
import { readFileSync } from "node:fs";

declare const REMEDIATOR_VERSION: string | undefined;

function fromPackageJson(): string {
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

export const VERSION: string =
  typeof REMEDIATOR_VERSION === "string" ? REMEDIATOR_VERSION : fromPackageJson();
