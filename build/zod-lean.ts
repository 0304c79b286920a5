/**
 * What the bundles import when code says `import { z } from "zod"` (an esbuild alias in
 * `esbuild.config.ts`). Zod's own entry re-exports every locale, JSON Schema conversion and more
 * through the `z` namespace, and a namespace object cannot be tree-shaken: about 300 KB of each
 * bundle that the code never calls. This entry offers the schema builders, checks, errors and
 * parsing, with English messages, and nothing else. Type-checking still uses zod's own types.
 */
import { config } from "../node_modules/zod/v4/core/index.js";
import en from "../node_modules/zod/v4/locales/en.js";
import * as lean from "./zod-lean-parts.ts";

config(en());

export const z = lean;
export default lean;
