/**
 * The identity layer in the guardrail's stack:
 * - the guardrail's own customer-managed deny policy for the two root actions (IAM is global: created
 *   by the stack in the region that judges IAM, once per account);
 * - the IAM grants of the functions: read the identity layer, and attach that one policy, nothing else
 *   (`iam:PolicyARN` is the policy's ARN; no PutRolePolicy, no CreatePolicyVersion, no Detach);
 * - the bus the us-east-1 forwarding rule writes to, its policy limited to that rule's ARN (and, in
 *   organization mode, to the members' forwarding rules inside the organization), a rule from it to
 *   the intake queue, and an alert on IAM changes to the guardrail's own roles and deny policy.
 */
import { Aws, CfnCondition, Fn } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";
import { DENY_ROOT_POLICY_DOCUMENT, denyPolicyName } from "../../shared/core/iam/deny-policy.ts";
import { IAM_JUDGED_EVENTS, IAM_SOURCE } from "../../shared/core/intake/iam.ts";
import { awsSourceOnly, CLOUDTRAIL_DETAIL_TYPE } from "./event-routing.ts";
import { cloudTrailPattern, memberForwardingChangePattern } from "./self-protection.ts";

/** IAM calls that can weaken the guardrail's own roles or deny policy (reported, besides those judged). */
export const IAM_SELF_PROTECTION_EVENTS = [
  "DeleteRole",
  "UpdateAssumeRolePolicy",
  "PutRolePolicy",
  "DeleteRolePolicy",
  "AttachRolePolicy",
  "DetachRolePolicy",
  "PutRolePermissionsBoundary",
  "DeleteRolePermissionsBoundary",
  "DetachUserPolicy",
  "DeletePolicy",
  "CreatePolicyVersion",
  "SetDefaultPolicyVersion",
  "DeletePolicyVersion",
] as const;

/** Every IAM call the forwarding rule sends to the guardrail: the judged ones and the self-protection ones. */
export function forwardedIamEvents(): string[] {
  return [...new Set([...IAM_JUDGED_EVENTS, ...IAM_SELF_PROTECTION_EVENTS])].sort();
}

/** The pattern of the forwarding rule in the IAM event region (source `aws.iam`, only there). */
export function iamForwardPattern(): events.EventPattern {
  return {
    source: ["aws.iam"],
    detailType: [CLOUDTRAIL_DETAIL_TYPE],
    detail: { eventSource: [IAM_SOURCE], eventName: forwardedIamEvents() },
  };
}

/** The forwarding rule's name, in every account: the bus policy names its ARN. */
export function iamForwardRuleName(name: string): string {
  return `${name}-iam-forward`;
}

/** The bus in the guardrail's region that receives the forwarded IAM events. */
export function iamIntakeBusName(name: string): string {
  return `${name}-iam-intake`;
}

export interface IdentityGrantScope {
  /** The account whose identity layer the role reads and acts on. */
  readonly account: string;
  /** The guardrail's deny policy in that account. */
  readonly denyPolicyArn: string;
}

/** The IAM statements of a role that judges the identity layer (central functions, member role). */
export function identityStatements(scope: IdentityGrantScope): iam.PolicyStatement[] {
  const arn = (resource: string, account = scope.account) =>
    `arn:${Aws.PARTITION}:iam::${account}:${resource}`;
  return [
    new iam.PolicyStatement({
      sid: "IamReadIdentityLayer",
      actions: [
        "iam:GetRole",
        "iam:GetUser",
        "iam:GetGroup",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListAttachedUserPolicies",
        "iam:ListAttachedGroupPolicies",
        "iam:ListRolePolicies",
        "iam:ListUserPolicies",
        "iam:ListGroupPolicies",
        "iam:ListGroupsForUser",
        "iam:ListEntitiesForPolicy",
      ],
      // AWS managed policies belong to the account `aws`.
      resources: [arn("role/*"), arn("user/*"), arn("group/*"), arn("policy/*"), arn("policy/*", "aws")],
    }),
    new iam.PolicyStatement({
      sid: "IamReadAuthorizationDetails",
      // GetAccountAuthorizationDetails supports no resource-level permissions; it is read-only.
      actions: ["iam:GetAccountAuthorizationDetails"],
      resources: ["*"],
    }),
    new iam.PolicyStatement({
      sid: "IamAttachOnlyTheGuardrailDenyPolicy",
      // IAM Attach*Policy support iam:PolicyARN: no other policy can be attached with this grant.
      actions: ["iam:AttachRolePolicy", "iam:AttachUserPolicy"],
      resources: [arn("role/*"), arn("user/*")],
      conditions: { ArnEquals: { "iam:PolicyARN": scope.denyPolicyArn } },
    }),
  ];
}

/** The deny policy's ARN in an account. */
export function denyPolicyArn(stackName: string, account: string): string {
  return `arn:${Aws.PARTITION}:iam::${account}:policy/${denyPolicyName(stackName)}`;
}

/** The deny policy itself; `condition` limits it to one region of the account (IAM is global). */
export function createDenyPolicy(scope: Construct, id: string, stackName: string, condition?: CfnCondition) {
  const policy = new iam.ManagedPolicy(scope, id, {
    managedPolicyName: denyPolicyName(stackName),
    description:
      "S3 Files remediator: attached to a role or user found with root on file systems; denies only the two root actions. Undo: detach it.",
    document: iam.PolicyDocument.fromJson(DENY_ROOT_POLICY_DOCUMENT),
  });
  if (condition) (policy.node.defaultChild as iam.CfnManagedPolicy).cfnOptions.condition = condition;
  return policy;
}

export interface IdentityLayerProps {
  readonly name: string;
  /** The region whose guardrail judges IAM (receives the forwarded events, owns the deny policy). */
  readonly iamRegion: string;
  /** Where IAM's CloudTrail events reach EventBridge (us-east-1 in the commercial partition). */
  readonly iamEventRegion: string;
  /** The intake queue, as the stack delivers to it (dead-letter queue, confused-deputy conditions). */
  readonly queueTarget: () => events.IRuleTarget;
  /** The alert topic with the self-protection message, delivered the same way. */
  readonly alertTarget: () => events.IRuleTarget;
  /** Organization mode: members forward their IAM events here too. */
  readonly organizationId: string | undefined;
  /** Role names of the guardrail (all regions) whose IAM changes are reported. */
  readonly ownRoleNames: readonly string[];
  readonly ownRolePrefixes: readonly string[];
}

export class IdentityLayer extends Construct {
  readonly bus: events.EventBus;
  readonly ruleNames: string[] = [];
  readonly denyPolicyArn: string;
  /** True in the region that judges IAM. */
  readonly judgesHere: CfnCondition;

  constructor(scope: Construct, id: string, props: IdentityLayerProps) {
    super(scope, id);
    const here = new CfnCondition(this, "JudgesIdentityHere", {
      expression: Fn.conditionEquals(Aws.REGION, props.iamRegion),
    });
    this.judgesHere = here;
    createDenyPolicy(this, "DenyRootPolicy", props.name, here);
    this.denyPolicyArn = denyPolicyArn(props.name, Aws.ACCOUNT_ID);

    const busName = iamIntakeBusName(props.name);
    // No description: AWS GovCloud (US) refuses one on an event bus.
    this.bus = new events.EventBus(this, "Bus", { eventBusName: busName });
    const ruleArn = (account: string) =>
      `arn:${Aws.PARTITION}:events:${props.iamEventRegion}:${account}:rule/${iamForwardRuleName(props.name)}`;
    // EventBridge sets aws:SourceArn to the rule that sent the event (EventBridge User Guide, "Send
    // events from specific rules to an event bus in a different Region").
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "ThisAccountsIamForwardingRuleOnly",
        principals: [new iam.AccountRootPrincipal()],
        actions: ["events:PutEvents"],
        resources: [this.bus.eventBusArn],
        conditions: { ArnEquals: { "aws:SourceArn": ruleArn(Aws.ACCOUNT_ID) } },
      }),
    );
    if (props.organizationId) {
      this.bus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: "MembersIamForwardingRulesOnly",
          principals: [new iam.AnyPrincipal()],
          actions: ["events:PutEvents"],
          resources: [this.bus.eventBusArn],
          conditions: {
            StringEquals: { "aws:PrincipalOrgID": props.organizationId },
            ArnLike: { "aws:SourceArn": ruleArn("*") },
          },
        }),
      );
    }

    const intakeRule = `${props.name}-iam-intake`;
    new events.Rule(this, "Intake", {
      ruleName: intakeRule,
      description: "Routes the forwarded IAM CloudTrail events the remediator judges to its queue",
      eventBus: this.bus,
      eventPattern: {
        source: awsSourceOnly(),
        detailType: [CLOUDTRAIL_DETAIL_TYPE],
        detail: { eventSource: [IAM_SOURCE], eventName: [...IAM_JUDGED_EVENTS].sort() },
      },
      targets: [props.queueTarget()],
    });
    const protectRule = `${props.name}-protect-iam`;
    new events.Rule(this, "Protect", {
      ruleName: protectRule,
      description: "Alerts on IAM changes to the remediator's own roles and deny policy",
      eventBus: this.bus,
      eventPattern: cloudTrailPattern(
        IAM_SOURCE,
        [...IAM_SELF_PROTECTION_EVENTS],
        [
          {
            requestParameters: {
              roleName: [...props.ownRoleNames, ...props.ownRolePrefixes.map((prefix) => ({ prefix }))],
            },
          },
          { requestParameters: { policyArn: [{ suffix: `:policy/${denyPolicyName(props.name)}` }] } },
        ],
      ),
      targets: [props.alertTarget()],
    });
    const protectForwardRule = `${props.name}-protect-iam-forward`;
    new events.Rule(this, "ProtectForwarding", {
      ruleName: protectForwardRule,
      description: "Alerts when the IAM forwarding rule in the IAM event region is changed",
      eventBus: this.bus,
      eventPattern: memberForwardingChangePattern(iamForwardRuleName(props.name)),
      targets: [props.alertTarget()],
    });
    this.ruleNames.push(intakeRule, protectRule, protectForwardRule);
  }
}

/** The identity grants use account-wide wildcards by resource type: justify each, by exact text. */
export function suppressIdentityWildcards(role: iam.IRole, account = "<AWS::AccountId>"): void {
  const scoped = (resource: string, owner = account) =>
    `Resource::arn:<AWS::Partition>:iam::${owner}:${resource}`;
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "The identity layer judges any role, user, group and managed policy of this account, named only when an " +
          "IAM event arrives; each wildcard is one IAM resource type in this account (AWS managed policies: the " +
          "account `aws`), the reads are read-only, and the only write (attach) is conditioned on iam:PolicyARN " +
          "being the guardrail's own deny policy.",
        appliesTo: [
          scoped("role/*"),
          scoped("user/*"),
          scoped("group/*"),
          scoped("policy/*"),
          scoped("policy/*", "aws"),
        ],
      },
      {
        id: "AwsSolutions-IAM5",
        reason: "iam:GetAccountAuthorizationDetails supports no resource-level permissions; it is read-only.",
        appliesTo: ["Resource::*"],
      },
    ],
    true,
  );
}
