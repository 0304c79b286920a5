import { readFileSync } from "node:fs";

/** Set by the CLI bundle's build (`esbuild.config.ts`); absent when the CLI runs from source. */
declare const REMEDIATOR_VERSION: string | undefined;

/** The package version: inlined by the bundle, read from package.json when run from source. */
export const VERSION: string =
  typeof REMEDIATOR_VERSION === "string"
    ? REMEDIATOR_VERSION
    : (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
        .version;
