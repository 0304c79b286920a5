/**
 * The organization member template, for CloudFormation StackSets (no assets, no bootstrap):
 * - in every governed region, rules that forward the judged CloudTrail events to the central
 *   intake bus of the same region;
 * - once per account (in the region named by parameter `RemediationRoleRegion`, by default the first
 *   central region: IAM is global, so only one stack instance may create it), the remediation role
 *   that only the central `remediate` roles (and the `reconcile` roles, which sweep the member
 *   accounts listed to them) can assume, and only from inside the organization.
 *
 * A CloudFormation `Rules` assertion stops a stack instance in a region without a central stack
 * before it creates anything: its forwarding rules would have no bus to deliver to.
 */
import {
  Aws,
  CfnCondition,
  CfnOutput,
  CfnParameter,
  CfnRule,
  Duration,
  Fn,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { NagSuppressions } from "cdk-nag";
import type { Construct } from "constructs";
import { IAM_SOURCE } from "../shared/core/intake/iam.ts";
import { adapterStatements, BUCKET_WILDCARD_SUPPRESSION } from "./constructs/adapter-permissions.ts";
import { JudgedEventRules } from "./constructs/event-routing.ts";
import {
  createDenyPolicy,
  denyPolicyArn,
  identityStatements,
  suppressIdentityWildcards,
} from "./constructs/identity-layer.ts";
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

    new CfnRule(this, "CentralStackInThisRegion", {
      assertions: [
        {
          assert: Fn.conditionContains([...props.centralRegions], Aws.REGION),
          assertDescription:
            `This region has no central S3 Files remediator stack (central regions: ${props.centralRegions.join(", ")}): ` +
            "deploy the central stack here first and add the region to centralRegions, or leave this region out " +
            "of the StackSet.",
        },
      ],
    });

    const [homeRegion] = props.centralRegions;
    if (!homeRegion) throw new Error("MemberStack needs at least one central region");
    const roleRegion = new CfnParameter(this, "RemediationRoleRegion", {
      type: "String",
      default: homeRegion,
      allowedValues: [...props.centralRegions],
      description:
        "The one region whose stack instance creates the account's remediation role (IAM is global: a " +
        "second instance creating it would fail with 'already exists'). Keep the default in every region.",
    });
    const roleCondition = new CfnCondition(this, "RemediationRoleHere", {
      expression: Fn.conditionEquals(roleRegion.valueAsString, Aws.REGION),
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
    // Events the central bus could not take (after EventBridge's 24 hours of retries) wait here.
    // SQS-managed encryption: a KMS key per member account and region would cost more than it adds.
    const undelivered = new sqs.Queue(this, "UndeliveredEvents", {
      queueName: `${props.name}-forward-undelivered`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(undelivered, [
      {
        id: "AwsSolutions-SQS3",
        reason:
          "This queue is itself the dead-letter queue of the forwarding rules' targets (DeadLetterConfig); it " +
          "holds the events the central bus did not accept after EventBridge's retries.",
      },
    ]);
    const forward = () =>
      new targets.EventBus(centralBus, { role: forwardRole, deadLetterQueue: undelivered });
    new JudgedEventRules(this, "Forwarding", {
      namePrefix: `${props.name}-forward`,
      target: forward,
      // IAM events arrive only in the IAM event region: the member IAM forwarding template sends them.
      without: [IAM_SOURCE],
    });
    // Self-protection: switching the forwarding off is reported centrally. Two rules that watch each
    // other as well as the forwarding rules: the one being disabled (or stripped of its target)
    // cannot report itself, the other one does.
    for (const suffix of ["a", "b"]) {
      new events.Rule(this, `ForwardingProtection-${suffix}`, {
        ruleName: `${props.name}-forward-protect-${suffix}`,
        description: "Forwards changes to the S3 Files remediator's forwarding rules to the central bus",
        eventPattern: memberForwardingChangePattern(`${props.name}-forward`),
        targets: [forward()],
      });
    }

    // Trust the central account, narrowed to its remediator roles by `aws:PrincipalArn`, not the
    // roles themselves as principals: IAM resolves a role principal when the trust policy is saved,
    // so naming a role that does not exist (yet, or any more) fails the member role's creation, and
    // a central role deleted and created again would be a different principal for every member.
    // Both central roles of every region are trusted, so listing an account for the sweep later
    // needs no redeployment of the member StackSet; the central roles' own policies decide.
    const trusted = props.centralRegions.flatMap((region) => [
      centralRemediateRoleArn(props.name, props.centralAccount, region),
      centralReconcileRoleArn(props.name, props.centralAccount, region),
    ]);
    const remediationRole = new iam.Role(this, "RemediationRole", {
      roleName: props.memberRoleName,
      description:
        "Assumed by the central S3 Files remediator to read and revert unsafe changes in this account",
      assumedBy: new iam.PrincipalWithConditions(new iam.AccountPrincipal(props.centralAccount), {
        ArnEquals: { "aws:PrincipalArn": trusted },
        StringEquals: { "aws:PrincipalOrgID": props.organizationId },
      }),
      inlinePolicies: {
        remediate: new iam.PolicyDocument({
          // Every region of this account: one role serves the central stack of each governed region.
          statements: [
            ...adapterStatements({ account: Aws.ACCOUNT_ID, region: "*" }),
            // The identity layer of this account: IAM is global, like this role.
            ...identityStatements({
              account: Aws.ACCOUNT_ID,
              denyPolicyArn: denyPolicyArn(props.name, Aws.ACCOUNT_ID),
            }),
          ],
        }),
      },
    });
    (remediationRole.node.defaultChild as iam.CfnRole).cfnOptions.condition = roleCondition;
    // The guardrail's deny policy of this account: global too, created with the role.
    createDenyPolicy(this, "DenyRootPolicy", props.name, roleCondition);
    suppressIdentityWildcards(remediationRole);

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
          "DescribeNetworkInterfaceAttribute) support no resource-level permissions, and listings of file " +
          "systems and access points name no resource (resource type optional in the IAM reference); all read-only.",
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
