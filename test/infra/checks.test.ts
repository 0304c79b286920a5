/**
 * The external checks on the synthesized templates: cdk-nag (AwsSolutions) leaves no unsuppressed
 * finding, and cfn-lint reports no error on any template in one region of each partition
 * (`scripts/lint-templates.ts`, which CI runs too).
 */
import { readdirSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { LINT_REGIONS, lintTemplates, templatesIn } from "../../scripts/lint-templates.ts";
import { ORG_CONTEXT, type Synthesized, synthesize } from "./synth.ts";

let apps: Synthesized[];

beforeAll(() => {
  // Organization mode (central + member template) and the default single-account stack.
  apps = [synthesize(ORG_CONTEXT), synthesize({})];
}, 180_000);

describe("cdk-nag AwsSolutions", () => {
  it("leaves no unsuppressed error or warning", () => {
    const findings = apps.flatMap((app) =>
      app.artifacts.flatMap((artifact) =>
        artifact.messages
          .filter(
            (m) =>
              (m.level === "error" || m.level === "warning") &&
              String(m.entry.data).includes("AwsSolutions-"),
          )
          .map((m) => `${m.id}: ${String(m.entry.data).split("\n")[0]}`),
      ),
    );
    expect(findings).toEqual([]);
  });

  it("ran, and every suppression carries a reason", () => {
    for (const app of apps) {
      const reports = readdirSync(app.outdir).filter(
        (f) => f.startsWith("AwsSolutions-") && f.endsWith(".csv"),
      );
      expect(reports.length).toBe(app.stacks.length);
    }
    const suppressions = apps.flatMap((app) =>
      Object.values(app.templates).flatMap((template) =>
        Object.values(template.Resources).flatMap(
          (resource) =>
            (resource as { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } })
              .Metadata?.cdk_nag?.rules_to_suppress ?? [],
        ),
      ),
    );
    expect(suppressions.length).toBeGreaterThan(0);
    for (const suppression of suppressions) {
      expect(suppression.reason.length, suppression.id).toBeGreaterThanOrEqual(60);
    }
  });
});

describe("cfn-lint", () => {
  it("reports no error on any synthesized template, in one region of each partition", () => {
    const result = lintTemplates(templatesIn(apps.map((app) => app.outdir)));
    // Single account; organization: central and member (and any stack added since).
    expect(result.templates.length).toBeGreaterThanOrEqual(3);
    expect(LINT_REGIONS.map((r) => r.split("-")[0])).toEqual(["us", "us", "cn"]);
    const errors = result.findings
      .filter((f) => f.Level === "Error")
      .map((f) => `${f.Filename}: ${f.Rule.Id} ${f.Message}`);
    expect(errors).toEqual([]);
    // Exit status bit 2 means errors (4 warnings, 8 informational), bit 1 a failure of cfn-lint itself.
    expect(result.status & 3).toBe(0);
  }, 180_000);
});
