/**
 * `npm run bench`: runs every `bench/*.bench.ts` module in turn. Each prints its own figures next
 * to a baseline measured in the same run (these machines are shared and noisy, so only ratios
 * taken side by side mean anything). `npm run bench -- intake` runs the modules whose name matches.
 */
import { readdirSync } from "node:fs";

const filter = process.argv[2];
const modules = readdirSync(new URL(".", import.meta.url))
  .filter((name) => name.endsWith(".bench.ts") && (!filter || name.includes(filter)))
  .sort();

for (const name of modules) {
  console.log(`\n## ${name.replace(".bench.ts", "")}`);
  const module = (await import(new URL(name, import.meta.url).href)) as { run: () => Promise<void> };
  await module.run();
}
