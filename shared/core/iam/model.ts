/**
 * The identity layer as plain data: what an IAM event changed, and the live state of the principals it
 * affects (their effective identity policies), as the runtime reads them and the rules judge them.
 * Policy documents are kept as decoded JSON text: IAM's Get APIs return them URL-encoded, and the
 * adapters decode them before anything else sees them.
 */

export type IamEntityKind = "role" | "user" | "group";

/** What an IAM call was about: a role, user or group by name, or a managed policy by ARN. */
export type IamTarget =
  | { readonly kind: IamEntityKind; readonly name: string }
  | { readonly kind: "policy"; readonly arn: string | undefined; readonly name: string | undefined };

/** The parts of an IAM call the rule and the notification need. */
export interface IamTrigger {
  readonly eventName: string;
  readonly target: IamTarget;
  /** Attach/Detach, SetDefaultPolicyVersion, CreatePolicyVersion, permissions-boundary puts. */
  readonly policyArn: string | undefined;
  /** Inline policy name (Put/Delete{Role,User,Group}Policy). */
  readonly policyName: string | undefined;
  /** The policy document as sent (Put*Policy, CreatePolicy, CreatePolicyVersion), decoded. */
  readonly policyDocument: string | undefined;
  /** CreatePolicyVersion: whether the new version became the default (only then it is in force). */
  readonly setAsDefault: boolean | undefined;
  /** AddUserToGroup / RemoveUserFromGroup: the group. */
  readonly groupName: string | undefined;
}

/** One identity policy in force for a principal, where it comes from, and its document. */
export interface IamPolicySource {
  /** How people know it: `managed policy AmazonS3FilesFullAccess`, `inline policy app of role x`. */
  readonly label: string;
  /** The managed policy's ARN; undefined for an inline policy. */
  readonly arn: string | undefined;
  /** The group it comes through, for a user's group policies. */
  readonly via: string | undefined;
  /** Decoded JSON text of the default version (managed) or of the inline policy. */
  readonly document: string;
}

/** A role or user as it is now: every identity policy in force and its permissions boundary. */
export interface IamPrincipalState {
  readonly kind: "role" | "user";
  readonly name: string;
  readonly arn: string;
  /** The IAM path (`/`, `/aws-service-role/…/`, `/aws-reserved/sso.amazonaws.com/`). */
  readonly path: string;
  /** Attached managed policies (default versions), inline policies, and for a user its groups' policies. */
  readonly policies: readonly IamPolicySource[];
  readonly boundary: IamPolicySource | undefined;
}

/**
 * An IAM change. `principals` is the live state of every role and user the change affects (for a
 * managed policy: every entity it is attached to; for a group: its members), filled by the runtime;
 * offline it is undefined and the rule judges what the event itself carries.
 */
export interface IamIdentityChange {
  readonly kind: "iam-identity";
  readonly trigger: IamTrigger;
  readonly principals: readonly IamPrincipalState[] | undefined;
  /** The guardrail's own deny policy in this account, when the runtime knows it (enforce attaches it). */
  readonly denyPolicyArn: string | undefined;
}
