/** Builders for file-system policies and the scope they are judged in. */
import type { PolicyScope } from "../../shared/core/policy/index.ts";
import { parsePolicy } from "../../shared/core/policy/index.ts";

export const OWNER = "111122223333";
export const PARTNER = "444455556666";
export const S3FS_ARN = `arn:aws:s3files:us-west-2:${OWNER}:file-system/fs-1`;
export const EFS_ARN = `arn:aws:elasticfilesystem:eu-west-1:${OWNER}:file-system/fs-2`;

export function scope(overrides: Partial<PolicyScope> = {}): PolicyScope {
  return {
    service: "s3files",
    ownerAccount: OWNER,
    partition: "aws",
    region: "us-west-2",
    fileSystemId: "fs-1",
    trustedAccounts: [],
    adminPrincipals: [],
    ...overrides,
  };
}

export function efsScope(overrides: Partial<PolicyScope> = {}): PolicyScope {
  return scope({ service: "efs", region: "eu-west-1", fileSystemId: "fs-2", ...overrides });
}

export function policyText(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

export function policy(...statements: Record<string, unknown>[]) {
  return parsePolicy(policyText(...statements));
}

/** An Allow of S3 Files client actions to `principal`, with optional conditions. */
export function allow(principal: unknown, action: string | string[], condition?: Record<string, unknown>) {
  return {
    Effect: "Allow",
    Principal: principal,
    Action: action,
    Resource: S3FS_ARN,
    ...(condition ? { Condition: condition } : {}),
  };
}

export function deny(principal: unknown, action: string | string[], condition?: Record<string, unknown>) {
  return { ...allow(principal, action, condition), Effect: "Deny" };
}
