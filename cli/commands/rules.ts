/** `remediator rules`: the catalogue, with each rule's default mode and rationale. */
import { parseArgs } from "node:util";
import { RULES } from "../../shared/core/rules/index.ts";
import { type CliIo, EXIT } from "../io.ts";

export async function rulesCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { format: { type: "string", default: "text" } } });
  if (values.format === "json") {
    const catalogue = RULES.map(({ id, title, severity, defaultMode, rationale, appliesTo }) => ({
      id,
      title,
      severity,
      defaultMode,
      appliesTo,
      rationale,
    }));
    io.stdout.write(`${JSON.stringify(catalogue, null, 2)}\n`);
    return EXIT.ok;
  }
  for (const rule of RULES) {
    io.stdout.write(
      `${rule.id}  [${rule.severity}, default ${rule.defaultMode}]\n  ${rule.title}\n  judges: ${rule.appliesTo.join(", ")}\n  why: ${rule.rationale}\n\n`,
    );
  }
  return EXIT.ok;
}
