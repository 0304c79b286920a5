/**
 * Narrowing a statement through its Principal element: the one control every service evaluates for
 * every request (a condition key may not be: the EFS guide says only `aws:SecureTransport`,
 * `aws:SourceIp`, `elasticfilesystem:AccessPointArn` and `elasticfilesystem:AccessedViaMountTarget`
 * are enforced for NFS clients). Usable for any resource policy (file systems, buckets): the
 * statement keeps its Sid, actions, resources and conditions; only whom it names changes.
 */
import { MAX_POLICY_CHARS, type PolicyDocument, policyFromJson, statementLabel } from "./document.ts";

export interface NarrowedPolicy {
  readonly policy: PolicyDocument;
  /** The edited document as it will be sent (compact JSON). */
  readonly text: string;
  /** One line per change, naming the statement. */
  readonly changes: readonly string[];
}

/** The Principal element naming these accounts (each account's root ARN stands for all its principals). */
export function accountPrincipals(accounts: readonly string[], partition: string): Record<string, unknown> {
  const arns = [...new Set(accounts)].map((a) => `arn:${partition}:iam::${a}:root`);
  return { AWS: arns.length === 1 ? arns[0] : arns };
}

/**
 * Replaces the Principal (or NotPrincipal) of the Allow statements at `indexes` by the principals
 * of `accounts`. Returns undefined when `accounts` is empty (nobody to narrow to: the caller must
 * leave the change for a person, or remove the statement). Callers prove the result with
 * `findWidening` / `proveBucketNoWidening`: replacing `NotPrincipal` can widen when it excluded a
 * principal of one of the accounts.
 */
export function narrowToAccounts(
  policy: PolicyDocument,
  indexes: readonly number[],
  accounts: readonly string[],
  partition: string,
): NarrowedPolicy | undefined {
  if (accounts.length === 0) return undefined;
  const changes: string[] = [];
  const statements = policy.statements.map((statement) => {
    const raw: Record<string, unknown> = structuredClone(statement.raw) as Record<string, unknown>;
    if (!indexes.includes(statement.index) || statement.effect !== "Allow") return raw;
    delete raw.NotPrincipal;
    raw.Principal = accountPrincipals(accounts, partition);
    changes.push(
      `${statementLabel(statement)}: Principal narrowed to account(s) ${[...new Set(accounts)].join(", ")}`,
    );
    return raw;
  });
  const edited = policyFromJson({ ...policy.raw, Statement: statements });
  const text = JSON.stringify(edited.raw);
  if (text.length > MAX_POLICY_CHARS) return undefined;
  return { policy: edited, text, changes };
}
