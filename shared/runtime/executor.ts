/**
 * Runs a plan: each step is an exact SDK command input, dispatched on its `api` to the adapter
 * that owns it. Only the operations below can run, whatever a plan says: the remediator revokes,
 * narrows, restores, deletes access points and attaches its own deny policy; it never creates or
 * widens anything.
 */
import { errorMessage } from "../core/errors.ts";
import type { PlanStep } from "../core/types.ts";
import type { CallResult, Operations } from "./live-ports.ts";
import { awsErrorName, isRetryableAwsError } from "./retry.ts";

export const ALLOWED_OPERATIONS = [
  "ec2:RevokeSecurityGroupIngress",
  "ec2:RevokeSecurityGroupEgress",
  "s3files:PutFileSystemPolicy",
  "s3files:DeleteAccessPoint",
  "s3files:UpdateMountTarget",
  "elasticfilesystem:PutFileSystemPolicy",
  "elasticfilesystem:DeleteAccessPoint",
  "elasticfilesystem:ModifyMountTargetSecurityGroups",
  // Only the guardrail's own deny policy: the IAM grant is conditioned on iam:PolicyARN.
  "iam:AttachRolePolicy",
  "iam:AttachUserPolicy",
  // The bucket behind an S3 Files file system: versioning back on, Block Public Access back on, a
  // public statement narrowed. Never a bucket or policy deletion.
  "s3:PutBucketVersioning",
  "s3:PutPublicAccessBlock",
  "s3:PutBucketPolicy",
] as const;

export interface StepResult extends CallResult {
  readonly api: string;
}

export interface ExecutionResult {
  readonly steps: readonly StepResult[];
  /** A non-retryable failure (access denied, validation): the plan stopped there. */
  readonly error: string | undefined;
}

export class PlanExecutor {
  private readonly operations: Operations;

  constructor(...operationSets: Operations[]) {
    this.operations = Object.assign({}, ...operationSets);
  }

  /**
   * Runs the steps in order. Retryable failures (after the adapters' own retries) are rethrown so
   * the input goes back to the queue; every step is idempotent, so a redelivery can run the plan
   * again from the live state.
   */
  async run(plan: readonly PlanStep[]): Promise<ExecutionResult> {
    const steps: StepResult[] = [];
    for (const step of plan) {
      const operation = (ALLOWED_OPERATIONS as readonly string[]).includes(step.api)
        ? this.operations[step.api]
        : undefined;
      if (!operation) {
        return { steps, error: `${step.api} is not an operation the remediator may run` };
      }
      try {
        steps.push({ api: step.api, ...(await operation(step.params)) });
      } catch (error) {
        if (isRetryableAwsError(error)) throw error;
        return { steps, error: `${step.api}: ${awsErrorName(error)}: ${errorMessage(error)}` };
      }
    }
    return { steps, error: undefined };
  }
}
