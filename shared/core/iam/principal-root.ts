/**
 * One principal's verdict: its effective identity policies (attached managed default versions, inline
 * policies, its groups' policies for a user) intersected with its permissions boundary, judged for
 * root on any file system of the account. Also the exemptions that are not a matter of configuration:
 * service-linked roles and IAM Identity Center (SSO) reserved roles.
 */
import { errorMessage, InvalidInputError } from "../errors.ts";
import { type IdentityRootVerdict, judgeIdentityRoot, type LabelledPolicy } from "../policy/index.ts";
import { parseIdentityPolicy } from "./identity-policy.ts";
import type { IamPolicySource, IamPrincipalState } from "./model.ts";

/**
 * Service-linked roles live under `/aws-service-role/`: their policies are defined by the AWS service
 * and IAM refuses to attach anything to them, so they are exempt (recorded in the notes, never judged).
 */
export function isServiceLinkedRole(principal: Pick<IamPrincipalState, "kind" | "path" | "name">): boolean {
  return (
    principal.kind === "role" &&
    (principal.path.startsWith("/aws-service-role/") || principal.name.startsWith("AWSServiceRoleFor"))
  );
}

/**
 * IAM Identity Center roles (`AWSReservedSSO_…` under `/aws-reserved/sso.amazonaws.com/`) are written
 * by Identity Center from a permission set, and IAM lets nobody else change them: they are judged and
 * reported, never enforced (the fix is in the permission set).
 */
export function isSsoReservedRole(principal: Pick<IamPrincipalState, "kind" | "path" | "name">): boolean {
  return (
    principal.kind === "role" &&
    (principal.path.startsWith("/aws-reserved/sso.amazonaws.com/") ||
      principal.name.startsWith("AWSReservedSSO_"))
  );
}

export interface PrincipalVerdict {
  readonly verdict: IdentityRootVerdict;
  /** The policy the witness names, with its ARN (to name a known managed policy's replacement). */
  readonly witnessSource: IamPolicySource | undefined;
}

function labelled(source: IamPolicySource): LabelledPolicy {
  try {
    return { label: source.label, document: parseIdentityPolicy(source.document) };
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw new InvalidInputError(`${source.label}: ${errorMessage(error)}`);
    }
    throw error;
  }
}

/** Judges one principal. A document that does not parse makes the verdict undecided, never safe. */
export function judgePrincipal(
  principal: IamPrincipalState,
  partition: string,
  account: string,
): PrincipalVerdict {
  let policies: LabelledPolicy[];
  let boundary: LabelledPolicy | undefined;
  try {
    policies = principal.policies.map(labelled);
    boundary = principal.boundary ? labelled(principal.boundary) : undefined;
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return {
      verdict: { grantsRoot: "undecided", reason: `a policy cannot be read: ${errorMessage(error)}` },
      witnessSource: undefined,
    };
  }
  const verdict = judgeIdentityRoot({
    policies,
    ...(boundary ? { boundary } : {}),
    partition,
    account,
    principalArn: principal.arn,
  });
  const witnessSource =
    verdict.grantsRoot === true
      ? principal.policies.find((p) => p.label === verdict.witness.policy)
      : undefined;
  return { verdict, witnessSource };
}
