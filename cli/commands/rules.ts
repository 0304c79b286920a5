/** `remediator rules`: the catalogue, with each rule's default mode and rationale. */
import { parseArgs } from "node:util";
import { RULES } from "../../shared/core/rules/index.ts";
import { type CliIo, EXIT, UsageError } from "../io.ts";

export const RULES_USAGE = `Usage: remediator rules [--format text|json]

  --format text (default) for people; json: the catalogue as one JSON array (id, title, severity,
           defaultMode, appliesTo, rationale).

Exit status: 0 printed; 2 usage error.`;

export async function rulesCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "text" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(`${RULES_USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.format !== "text" && values.format !== "json") {
    throw new UsageError(
      `--format must be text or json, got "${values.format}" (for YAML, convert the json output)`,
    );
  }
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
