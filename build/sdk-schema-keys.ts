/**
 * An esbuild plugin that lets the AWS SDK's generated schema modules tree-shake.
 *
 * Each client ships its whole service model as one module (`dist-es/schemas/schemas_0.js`): string
 * constants (`const _xN = "xmlName";`) and one array per shape. Shapes with serialization traits
 * hold object literals keyed by those constants, `{ [_xN]: _TSa }`. esbuild cannot prove that a
 * computed key is free of side effects (it would call `toString` on an object), so it keeps every
 * such shape, and everything they reference, whether or not a command needs it: about 555 KB of
 * the EC2 client's 563 KB in each bundle.
 *
 * Rewriting `[_xN]:` to `"xmlName":` (the constant's own literal, declared in the same file) is
 * exactly the same object, and then unused shapes are dropped. A key whose constant is not a plain
 * string literal of that file, or is `__proto__` (where the two spellings differ), is left as it
 * is; a change in the SDK's layout therefore costs bytes, never correctness.
 */
import { readFile } from "node:fs/promises";
import type { Plugin } from "esbuild";

const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/].+[\\/]dist-es[\\/](?:.+[\\/])?schemas[\\/]schemas_\d+\.js$/;
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;
const COMPUTED_KEY = /\[(_\w+)\]:/g;

/** The module's text with every computed key that names one of its string constants made literal. */
export function literalSchemaKeys(source: string): string {
  const constants = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT)) {
    if (name && literal && JSON.parse(literal) !== "__proto__") constants.set(name, literal);
  }
  return source.replace(COMPUTED_KEY, (key, name: string) => {
    const literal = constants.get(name);
    return literal === undefined ? key : `${literal}:`;
  });
}

export const sdkSchemaKeysPlugin: Plugin = {
  name: "sdk-schema-keys",
  setup(build) {
    build.onLoad({ filter: SCHEMA_MODULE }, async (args) => ({
      contents: literalSchemaKeys(await readFile(args.path, "utf8")),
      loader: "js",
    }));
  },
};
