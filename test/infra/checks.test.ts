/**
 * The external checks on the synthesized templates: cdk-nag (AwsSolutions) leaves no unsuppressed
 * finding, and cfn-lint reports no error on any template.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
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
  it("reports no error on any synthesized template", () => {
    const templates = apps.flatMap((app) =>
      readdirSync(app.outdir)
        .filter((f) => f.endsWith(".template.json"))
        .map((f) => join(app.outdir, f)),
    );
    // Organization: central, member, member IAM forwarding; single account: central.
    expect(templates).toHaveLength(4);
    const run = spawnSync("cfn-lint", ["--format", "json", "--", ...templates], { encoding: "utf8" });
    if (run.error) throw new Error(`cfn-lint could not run (is it on PATH?): ${run.error.message}`);
    const findings = JSON.parse(run.stdout || "[]") as {
      Level: string;
      Rule: { Id: string };
      Message: string;
      Filename: string;
    }[];
    const errors = findings
      .filter((f) => f.Level === "Error")
      .map((f) => `${f.Filename}: ${f.Rule.Id} ${f.Message}`);
    expect(errors).toEqual([]);
    // Exit status bit 2 means errors (4 warnings, 8 informational).
    expect((run.status ?? 0) & 2).toBe(0);
  }, 120_000);
});
