/**
 * cfn-lint on every synthesized template, for one region of each partition the deploy documentation
 * claims: what CloudFormation accepts differs by region (an event bus `Description` is refused in the
 * GovCloud regions, for one), and a template that only passes in us-east-1 fails there on deploy.
 *
 *   npx tsx scripts/lint-templates.ts cdk.out cdk.out.org
 *
 * lints every `*.template.json` in the directories given (CI synthesizes the single-account stack
 * and the organization stacks, central and member, each into its own directory). Exit status 1 on
 * any error, or when cfn-lint itself fails; warnings are printed only.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** One region of each partition: commercial, GovCloud (US), China. */
export const LINT_REGIONS = ["us-east-1", "us-gov-west-1", "cn-north-1"] as const;

export interface LintFinding {
  readonly Level: string;
  readonly Rule: { readonly Id: string };
  readonly Message: string;
  readonly Filename: string;
}

export interface LintResult {
  readonly templates: readonly string[];
  readonly findings: readonly LintFinding[];
  /** cfn-lint's exit status: bit 1 its own failure, 2 errors, 4 warnings, 8 informational. */
  readonly status: number;
}

export function templatesIn(directories: readonly string[]): string[] {
  return directories.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".template.json"))
      .sort()
      .map((f) => join(dir, f)),
  );
}

export function lintTemplates(
  templates: readonly string[],
  regions: readonly string[] = LINT_REGIONS,
): LintResult {
  if (templates.length === 0) throw new Error("no template to lint: synthesize first");
  const run = spawnSync("cfn-lint", ["--format", "json", "--regions", ...regions, "--", ...templates], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw new Error(`cfn-lint could not run (is it on PATH?): ${run.error.message}`);
  let findings: LintFinding[];
  try {
    findings = JSON.parse(run.stdout || "[]") as LintFinding[];
  } catch {
    throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr || run.stdout}`);
  }
  return { templates, findings, status: run.status ?? 1 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const directories = process.argv.slice(2);
  const result = lintTemplates(templatesIn(directories.length > 0 ? directories : ["cdk.out"]));
  for (const f of result.findings) console.log(`${f.Level} ${f.Rule.Id} ${f.Filename}: ${f.Message}`);
  const errors = result.findings.filter((f) => f.Level === "Error").length;
  console.log(
    `cfn-lint: ${result.templates.length} templates × ${LINT_REGIONS.length} regions (${LINT_REGIONS.join(", ")}): ` +
      `${errors} errors, ${result.findings.length - errors} other findings`,
  );
  if (result.status & 3) process.exit(1);
}
