/** The `remediator` command line: dispatches to a command and maps errors to exit statuses. */
import { ConfigError, errorMessage } from "../shared/core/errors.ts";
import { AUDIT_USAGE, auditCommand } from "./commands/audit.ts";
import { EVALUATE_USAGE, evaluateCommand } from "./commands/evaluate.ts";
import { EXPLAIN_POLICY_USAGE, explainPolicyCommand } from "./commands/explain-policy.ts";
import { REPORT_USAGE, reportCommand } from "./commands/report.ts";
import { RULES_USAGE, rulesCommand } from "./commands/rules.ts";
import { type CliIo, EXIT, UsageError } from "./io.ts";
import { VERSION } from "./version.ts";

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  evaluate: {
    run: evaluateCommand,
    summary: "judge CloudTrail records offline and print what would be done",
  },
  rules: { run: rulesCommand, summary: "list the rule catalogue with each rule's rationale" },
  "explain-policy": {
    run: explainPolicyCommand,
    summary: "show who a file-system policy lets mount, write and be root, and why",
  },
  audit: { run: auditCommand, summary: "read the remediation log (audit ledger), newest first" },
  report: {
    run: reportCommand,
    summary:
      "a report of the ledger for auditors: figures, breakdowns, every remediation (HTML, Markdown, JSON)",
  },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(16)} ${summary}`);
  return `Usage: remediator <command> [options]\n\nCommands:\n${lines.join("\n")}\n\n${EVALUATE_USAGE}\n\n${RULES_USAGE}\n\n${EXPLAIN_POLICY_USAGE}\n\n${AUDIT_USAGE}\n\n${REPORT_USAGE}\n`;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === "--version" || name === "-V" || name === "version") {
    io.stdout.write(`remediator ${VERSION}\n`);
    return EXIT.ok;
  }
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    (name === undefined ? io.stderr : io.stdout).write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`remediator: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    // parseArgs reports unknown or malformed options with these codes.
    const code = (error as { code?: string }).code ?? "";
    if (error instanceof UsageError || error instanceof ConfigError || code.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`remediator ${name}: ${errorMessage(error)}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`remediator ${name}: unexpected error: ${oneLine(errorMessage(error))}\n`);
    return EXIT.unexpected;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").slice(0, 1000);
}
