/**
 * `remediator explain-policy --kind bucket`: whether a bucket policy is public by S3's definition
 * (with the request that shows it, or the proof that none exists), which of its Deny statements can
 * block the given roles, and the narrowing the guardrail would make.
 */

import { type PolicyDocument, statementLabel } from "../../shared/core/policy/index.ts";
import { DIRECT_READ_ACTIONS, FILE_SYSTEM_ROLE_ACTIONS } from "../../shared/core/rules/bucket-judgement.ts";
import {
  type BucketScope,
  bucketDenials,
  judgeBucketPolicyPublic,
  narrowPublicStatements,
} from "../../shared/core/rules/bucket-policy-engine.ts";
import { UsageError } from "../io.ts";

const BUCKET_ARN = /^arn:([^:]+):s3:::([^/*?]+)(\/.*)?$/;

export interface BucketExplainOptions {
  readonly bucket: string | undefined;
  readonly account: string | undefined;
  /** The file system's role: checked for what S3 Files needs to sync. */
  readonly roles: readonly string[];
  /** Compute roles: checked for direct reads. */
  readonly readers: readonly string[];
  readonly trustedAccounts: readonly string[];
}

export interface BucketExplanation {
  readonly bucket: string;
  readonly ownerAccount: string;
  readonly verdict: "public" | "not-public" | "undecided";
  readonly publicStatements: readonly { readonly statement: string; readonly witness?: string }[];
  readonly undecided: readonly { readonly statement: string; readonly reason: string }[];
  readonly proof?: string;
  readonly narrowing?:
    | { readonly changes: readonly string[]; readonly proof: string }
    | { readonly failure: string };
  readonly denials: readonly {
    readonly principal: string;
    readonly statement: string;
    readonly actions: readonly string[];
    readonly status: "denies" | "may-deny";
    readonly detail: string;
  }[];
  /** True when the policy is public or undecided, or a Deny can block a given role. */
  readonly unsafe: boolean;
}

/** The one bucket the policy's Resource elements name, if they name exactly one. */
function namedBucket(policy: PolicyDocument): { bucket?: string; partition?: string } {
  const named = new Map<string, string>();
  for (const statement of policy.statements) {
    for (const resource of [...(statement.resources ?? []), ...(statement.notResources ?? [])]) {
      const match = BUCKET_ARN.exec(resource);
      if (match) named.set(match[2] as string, match[1] as string);
    }
  }
  const [first] = named;
  return named.size === 1 && first ? { bucket: first[0], partition: first[1] } : {};
}

export function explainBucketPolicy(
  policy: PolicyDocument,
  options: BucketExplainOptions,
): BucketExplanation {
  const hint = namedBucket(policy);
  const bucket = options.bucket ?? hint.bucket;
  if (!bucket) throw new UsageError("give --bucket: the policy's Resource elements name no single bucket");
  if (hint.bucket && options.bucket && hint.bucket !== options.bucket) {
    throw new UsageError(
      `--bucket ${options.bucket} disagrees with the policy's Resource (bucket ${hint.bucket})`,
    );
  }
  if (!options.account)
    throw new UsageError("give --account: the bucket owner's account decides who is an outsider");
  const scope: BucketScope = {
    bucket,
    ownerAccount: options.account,
    partition: hint.partition ?? "aws",
    trustedAccounts: options.trustedAccounts,
  };
  const judgement = judgeBucketPolicyPublic(policy, scope);
  const publicStatements =
    judgement.status === "public"
      ? judgement.publicStatements.map((p) => ({
          statement: statementLabel(p.statement),
          ...(p.witness ? { witness: p.witness } : {}),
        }))
      : [];
  const undecided =
    judgement.status === "not-public"
      ? []
      : judgement.undecided.map((u) => ({ statement: statementLabel(u.statement), reason: u.reason }));
  let narrowing: BucketExplanation["narrowing"];
  if (judgement.status === "public") {
    const edit = narrowPublicStatements(
      policy,
      judgement.publicStatements.map((p) => p.statement),
      scope,
    );
    narrowing = edit.edit
      ? { changes: edit.edit.changes, proof: edit.edit.proof }
      : { failure: edit.failure ?? "no edit" };
  }
  const denials = [
    ...options.roles.map((principal) => ({ principal, actions: FILE_SYSTEM_ROLE_ACTIONS })),
    ...options.readers.map((principal) => ({ principal, actions: DIRECT_READ_ACTIONS })),
  ].flatMap(({ principal, actions }) =>
    bucketDenials(policy, scope, { principalArn: principal, actions }).map((d) => ({
      principal,
      statement: statementLabel(d.statement),
      actions: d.actions,
      status: d.status,
      detail: d.detail,
    })),
  );
  return {
    bucket,
    ownerAccount: options.account,
    verdict: judgement.status,
    publicStatements,
    undecided,
    ...(judgement.status === "not-public" ? { proof: judgement.proof } : {}),
    ...(narrowing ? { narrowing } : {}),
    denials,
    unsafe: judgement.status !== "not-public" || denials.length > 0,
  };
}

export function formatBucketExplanation(e: BucketExplanation): string {
  const lines = [`Bucket policy of ${e.bucket} (owner account ${e.ownerAccount})`, ""];
  if (e.verdict === "not-public") lines.push(`Not public: ${e.proof}`);
  for (const p of e.publicStatements)
    lines.push(`PUBLIC     ${p.statement}${p.witness ? `: allows ${p.witness}` : ""}`);
  for (const u of e.undecided) lines.push(`UNDECIDED  ${u.statement}: ${u.reason}`);
  if (e.narrowing) {
    lines.push("");
    if ("failure" in e.narrowing)
      lines.push(
        `No provable narrowing (${e.narrowing.failure}): Block Public Access would be put on instead.`,
      );
    else lines.push(`Narrowing: ${e.narrowing.changes.join("; ")}.`, `  ${e.narrowing.proof}`);
  }
  if (e.denials.length > 0) lines.push("");
  for (const d of e.denials) {
    lines.push(
      `${d.status === "denies" ? "BLOCKS" : "MAY BLOCK"}  ${d.statement} → ${d.principal} (${d.actions.join(", ")})`,
      `  ${d.detail}`,
    );
  }
  lines.push("", `Verdict: ${e.unsafe ? "UNSAFE" : "safe"}`);
  return `${lines.join("\n")}\n`;
}
