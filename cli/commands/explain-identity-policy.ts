/**
 * `remediator explain-policy --kind identity`: whether an identity policy (the kind attached to roles,
 * users and groups) gives root on file systems, s3files:ClientRootAccess or
 * elasticfilesystem:ClientRootAccess, and through which statement; or why it cannot.
 */
import { parseIdentityPolicy } from "../../shared/core/iam/identity-policy.ts";
import { type IdentityRootVerdict, judgeIdentityRoot } from "../../shared/core/policy/index.ts";
import type { CliIo } from "../io.ts";

const STAND_IN_ACCOUNT = "000000000000";

export interface IdentityExplainOptions {
  readonly format: "text" | "json";
  /** The account whose file systems count; any account when absent. */
  readonly account: string | undefined;
  readonly partition: string;
  /** A permissions boundary to intersect with, as text. */
  readonly boundary: string | undefined;
}

function formatText(verdict: IdentityRootVerdict, account: string | undefined, bounded: boolean): string {
  const scope = `file systems of ${account ? `account ${account}` : "any account"}${bounded ? ", within the given permissions boundary" : ""}`;
  switch (verdict.grantsRoot) {
    case true:
      return [
        `Root on ${scope}: YES`,
        `  ${verdict.witness.description}.`,
        "  Use s3files:ClientMount and s3files:ClientWrite (AmazonS3FilesClientReadWriteAccess; for EFS",
        "  AmazonElasticFileSystemClientReadWriteAccess) for clients that do not need uid 0.",
      ].join("\n");
    case false:
      return [`Root on ${scope}: no`, `  Proof: ${verdict.proof}.`].join("\n");
    default:
      return [
        `Root on ${scope}: UNDECIDED (treated as a finding, never as safe)`,
        `  ${verdict.reason}.`,
      ].join("\n");
  }
}

/** Explains one identity policy; throws `InvalidInputError` when it is not one. */
export function explainIdentityPolicy(text: string, options: IdentityExplainOptions, io: CliIo): void {
  const document = parseIdentityPolicy(text);
  const boundary = options.boundary ? parseIdentityPolicy(options.boundary) : undefined;
  const verdict = judgeIdentityRoot({
    policies: [{ label: "the policy", document }],
    ...(boundary ? { boundary: { label: "the boundary", document: boundary } } : {}),
    partition: options.partition,
    // The engine judges the requests of one identity of one account; without --account a stand-in
    // account plays it (an identity policy reads the same in every account).
    account: options.account ?? STAND_IN_ACCOUNT,
    principalArn: `arn:${options.partition}:iam::${options.account ?? STAND_IN_ACCOUNT}:role/policy-holder`,
  });
  if (options.format === "json") {
    io.stdout.write(`${JSON.stringify({ kind: "identity", ...verdict })}\n`);
  } else {
    io.stdout.write(`${formatText(verdict, options.account, boundary !== undefined)}\n`);
  }
}
