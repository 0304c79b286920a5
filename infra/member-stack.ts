/**
 * The organization member template, for CloudFormation StackSets (no assets, no bootstrap):
 * - in every governed region, rules that forward the judged CloudTrail events to the central
 *   intake bus of the same region;
 * - once per account (parameter `CreateRemediationRole`, true in one region only: IAM is global),
 *   the remediation role that only the central `remediate` roles (and the `reconcile` roles, which
 *   sweep the member accounts listed to them) can assume, and only from inside the organization.
 */
import { Aws, CfnCondition, CfnOutput, CfnParameter, Fn, Stack, type StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import { NagSuppressions } from "cdk-nag";
import type { Construct } from "constructs";
import { adapterStatements, BUCKET_WILDCARD_SUPPRESSION } from "./constructs/adapter-permissions.ts";
import { JudgedEventRules } from "./constructs/event-routing.ts";
import { memberForwardingChangePattern } from "./constructs/self-protection.ts";

export interface MemberStackProps extends StackProps {
  readonly name: string;
  readonly organizationId: string;
  readonly centralAccount: string;
  readonly centralRegions: readonly string[];
  readonly memberRoleName: string;
}

/** The central `remediate` role of one region (see `RemediatorFunction`: `<name>-remediate-<region>`). */
export function centralRemediateRoleArn(name: string, account: string, region: string): string {
  return `arn:${Aws.PARTITION}:iam::${account}:role/${name}-remediate-${region}`;
}

/** The central `reconcile` role of one region: it assumes the member role only when it sweeps members. */
export function centralReconcileRoleArn(name: string, account: string, region: string): string {
  return `arn:${Aws.PARTITION}:iam::${account}:role/${name}-reconcile-${region}`;
}

export class MemberStack extends Stack {
  constructor(scope: Construct, id: string, props: MemberStackProps) {
    super(scope, id, props);

    const createRole = new CfnParameter(this, "CreateRemediationRole", {
      type: "String",
      allowedValues: ["true", "false"],
      default: "true",
      description:
        "Create the account's remediation role here. IAM is global: true in exactly one region per account " +
        "(the StackSet's first region), false in the others.",
    });
    const roleCondition = new CfnCondition(this, "RemediationRoleHere", {
      expression: Fn.conditionEquals(createRole.valueAsString, "true"),
    });

    // Same region as this stack instance: the central stack runs in each governed region.
    const centralBus = events.EventBus.fromEventBusArn(
      this,
      "CentralIntakeBus",
      `arn:${Aws.PARTITION}:events:${Aws.REGION}:${props.centralAccount}:event-bus/${props.name}-intake`,
    );
    // The EventBus target grants it events:PutEvents on the central bus, and nothing else.
    const forwardRole = new iam.Role(this, "ForwardRole", {
      description: "Lets EventBridge forward judged CloudTrail events to the remediator's central bus",
      assumedBy: new iam.ServicePrincipal("events.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Aws.ACCOUNT_ID } },
      }),
    });
    new JudgedEventRules(this, "Forwarding", {
      namePrefix: `${props.name}-forward`,
      forwardTo: { bus: centralBus, role: forwardRole },
    });
    // Self-protection: switching the forwarding off (this rule included) is reported centrally.
    new events.Rule(this, "ForwardingProtection", {
      ruleName: `${props.name}-forward-protect`,
      description: "Forwards changes to the S3 Files remediator's forwarding rules to the central bus",
      eventPattern: memberForwardingChangePattern(`${props.name}-forward`),
      targets: [new targets.EventBus(centralBus, { role: forwardRole })],
    });

    // Both central roles of every region are trusted, so listing an account for the sweep later
    // needs no redeployment of the member StackSet; the central roles' own policies decide.
    const trusted = props.centralRegions.flatMap((region) => [
      centralRemediateRoleArn(props.name, props.centralAccount, region),
      centralReconcileRoleArn(props.name, props.centralAccount, region),
    ]);
    const [firstTrusted] = trusted;
    if (!firstTrusted) throw new Error("MemberStack needs at least one central region");
    const remediationRole = new iam.Role(this, "RemediationRole", {
      roleName: props.memberRoleName,
      description:
        "Assumed by the central S3 Files remediator to read and revert unsafe changes in this account",
      assumedBy: new iam.PrincipalWithConditions(new iam.ArnPrincipal(firstTrusted), {
        StringEquals: { "aws:PrincipalOrgID": props.organizationId },
      }),
      inlinePolicies: {
        remediate: new iam.PolicyDocument({
          // Every region of this account: one role serves the central stack of each governed region.
          statements: adapterStatements({ account: Aws.ACCOUNT_ID, region: "*" }),
        }),
      },
    });
    for (const arn of trusted.slice(1)) {
      remediationRole.assumeRolePolicy?.addStatements(
        new iam.PolicyStatement({
          actions: ["sts:AssumeRole"],
          principals: [new iam.ArnPrincipal(arn)],
          conditions: { StringEquals: { "aws:PrincipalOrgID": props.organizationId } },
        }),
      );
    }
    (remediationRole.node.defaultChild as iam.CfnRole).cfnOptions.condition = roleCondition;

    const wildcard = (service: string, resource: string, account = "<AWS::AccountId>") =>
      `Resource::arn:<AWS::Partition>:${service}:*:${account}:${resource}`;
    NagSuppressions.addResourceSuppressions(remediationRole, [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "The role serves the central remediator of every governed region of this account and acts on the " +
          "resource named by each event: each wildcard is one resource type in this account only, the write " +
          "actions are listed one by one, and only the central remediate roles can assume it.",
        appliesTo: [
          wildcard("ec2", "security-group/*"),
          wildcard("ec2", "network-interface/*"),
          wildcard("s3files", "file-system/*"),
          wildcard("s3files", "file-system/*/access-point/*"),
          wildcard("elasticfilesystem", "file-system/*"),
          wildcard("elasticfilesystem", "access-point/*"),
        ],
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Managed prefix lists may be AWS-managed (owner `aws`) or shared from another account; reading their " +
          "entries is needed to judge a rule that references one, and the action is read-only.",
        appliesTo: [wildcard("ec2", "prefix-list/*", "*")],
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "EC2 Describe calls (DescribeSecurityGroupRules, DescribeTags, DescribeVpcs, " +
          "DescribeNetworkInterfaceAttribute) support no resource-level permissions; they are read-only.",
        appliesTo: ["Resource::*"],
      },
      BUCKET_WILDCARD_SUPPRESSION,
    ]);

    new CfnOutput(this, "RemediationRoleArn", {
      condition: roleCondition,
      value: remediationRole.roleArn,
    });
  }
}
