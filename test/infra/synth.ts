/**
 * Synthesizes the CDK app once per test file and hands out the templates. The real bundles from
 * `npm run build` are deployed when they exist (CI builds before testing); otherwise a stand-in
 * `index.mjs` per function in a temporary directory lets the infrastructure be tested on its own.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloudFormationStackArtifact } from "aws-cdk-lib/cx-api";
import { buildApp, type RemediatorApp } from "../../infra/app.ts";
import { DEFAULT_FUNCTIONS_DIR, FUNCTION_NAMES } from "../../infra/bundles.ts";

/** Organization mode with every optional feature on: the largest surface to check. */
export const ORG_CONTEXT = {
  organizationId: "o-a1b2c3d4e5",
  centralAccount: "111122223333",
  centralRegions: ["eu-west-1", "us-east-1"],
  notificationEmail: "security@example.com",
  slackSecretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:remediator/slack",
  securityHub: true,
  adminPrincipals: ["arn:aws:iam::111122223333:role/StorageAdmin"],
  reconcileMemberAccounts: ["222233334444", "333344445555"],
};

export function functionsDirForTests(): string {
  if (FUNCTION_NAMES.every((name) => existsSync(join(DEFAULT_FUNCTIONS_DIR, name, "index.mjs")))) {
    return DEFAULT_FUNCTIONS_DIR;
  }
  const dir = mkdtempSync(join(tmpdir(), "remediator-bundles-"));
  for (const name of FUNCTION_NAMES) {
    mkdirSync(join(dir, name));
    writeFileSync(
      join(dir, name, "index.mjs"),
      "export const handler = async () => ({ batchItemFailures: [] });\n",
    );
  }
  return dir;
}

export interface Synthesized extends RemediatorApp {
  readonly outdir: string;
  readonly artifacts: readonly CloudFormationStackArtifact[];
  /** Stack id → template JSON. */
  readonly templates: Readonly<Record<string, TemplateJson>>;
}

export interface TemplateJson {
  readonly Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Condition?: string }
  >;
  readonly Parameters?: Record<string, unknown>;
  readonly Outputs?: Record<string, unknown>;
}

export function synthesize(context: Record<string, unknown> = ORG_CONTEXT): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "remediator-cdk-out-"));
  const built = buildApp({ context, outdir, functionsDir: functionsDirForTests() });
  const assembly = built.app.synth();
  const artifacts = built.stacks.map((stack) => assembly.getStackArtifact(stack.artifactId));
  const templates = Object.fromEntries(
    built.stacks.map((stack, i) => [stack.stackName, artifacts[i]?.template as TemplateJson]),
  );
  return { ...built, outdir, artifacts, templates };
}
