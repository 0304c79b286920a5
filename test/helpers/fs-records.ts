/** Variants of the synthetic S3 Files / EFS PutFileSystemPolicy records, and a judge for them. */
import { evaluateRecord } from "../../shared/core/judge.ts";
import type { LiveFacts } from "../../shared/core/rules/rule.ts";
import { testConfig, variantOf } from "./fixtures.ts";

export const NOW = new Date("2026-11-22T12:00:00Z");
export const S3_POLICY_RECORD = "synthetic-s3files-PutFileSystemPolicy-public-mount.json";
export const EFS_POLICY_RECORD = "synthetic-efs-PutFileSystemPolicy-public-root-no-tls.json";
export const S3_FS = "fs-abcd123456789ef0";
export const EFS_FS = "fs-0123456789abcdef0";
export const S3_ARN = `arn:aws:s3files:us-west-2:111122223333:file-system/${S3_FS}`;
export const EFS_ARN = `arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/${EFS_FS}`;

export function judge(raw: unknown, overrides = {}, facts: LiveFacts = {}) {
  return evaluateRecord(raw, { config: testConfig(overrides), now: NOW, facts });
}

/** The S3 Files (or EFS) PutFileSystemPolicy record carrying `statements`. */
export function putPolicy(statements: Record<string, unknown>[], service: "s3files" | "efs" = "s3files") {
  return variantOf(service === "s3files" ? S3_POLICY_RECORD : EFS_POLICY_RECORD, (r) => {
    r.requestParameters.policy = JSON.stringify({ Version: "2012-10-17", Statement: statements });
  });
}

/** The policy a plan step would put, parsed. */
export function plannedPolicy(
  step: { params: Readonly<Record<string, unknown>> } | undefined,
): Record<string, any> {
  const text = (step?.params.policy ?? step?.params.Policy) as string;
  return JSON.parse(text);
}
