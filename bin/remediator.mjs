#!/usr/bin/env node
// The `remediator` command: runs the bundled CLI that `npm run build` writes.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/cli/remediator.mjs", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("remediator: dist/cli/remediator.mjs is missing; run `npm run build` first\n");
  process.exit(2);
}
await import(bundle.href);
