/** The package version, inlined at build time so the bundled CLI needs no package.json beside it. */
import packageJson from "../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;
