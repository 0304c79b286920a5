/**
 * The port through which the pipeline reads the identity layer (IAM) and attaches the guardrail's
 * own deny policy. IAM is global: one adapter per account serves every region.
 */
import type { IamPrincipalState } from "../core/iam/model.ts";
import type { Operations } from "./live-ports.ts";

/** What a managed policy is attached to (as a permissions policy or as a boundary). */
export interface PolicyEntities {
  readonly roles: readonly string[];
  readonly users: readonly string[];
  readonly groups: readonly string[];
}

/** One page of the account's roles and users, each with every policy in force, as read now. */
export interface PrincipalPage {
  readonly principals: readonly IamPrincipalState[];
  readonly nextToken: string | undefined;
}

export interface IdentityApi {
  /** A role or user with every identity policy in force and its boundary; undefined when it is gone. */
  principal(kind: "role" | "user", name: string): Promise<IamPrincipalState | undefined>;
  /** The user names of a group's members; undefined when the group is gone. */
  groupMembers(groupName: string): Promise<readonly string[] | undefined>;
  /** Every role, user and group a managed policy is attached to; undefined when the policy is gone. */
  policyEntities(policyArn: string): Promise<PolicyEntities | undefined>;
  /** `GetAccountAuthorizationDetails`, one page at a time (the reconcile sweep). */
  principalPage(nextToken: string | undefined): Promise<PrincipalPage>;
  /** `iam:AttachRolePolicy`, `iam:AttachUserPolicy` (the guardrail's deny policy only: see the IAM grant). */
  readonly operations: Operations;
}

/** The identity layer of one account: its IAM adapter, and the guardrail's deny policy there. */
export interface IdentityResources {
  readonly api: IdentityApi;
  /** `undefined` when no deny policy is deployed: violations are then reported, never enforced. */
  readonly denyPolicyArn: (account: string | undefined) => string | undefined;
}
