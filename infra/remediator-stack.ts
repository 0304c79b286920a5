/**
 * The remediator in one account (or the central account of an organization): CloudTrail events
 * on the default bus (and, in organization mode, on an intake bus that only the organization can
 * write to) → intake queue → `remediate`; `reconcile` on a schedule; audit and state tables; an
 * Object Lock archive; the alert topic and the decision bus; alarms; self-protection.
 */
import { Aws, CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { NagSuppressions } from "cdk-nag";
import type { Construct } from "constructs";
import { AUDIT_ARCHIVE_PREFIX } from "../shared/adapters/audit-s3-archive.ts";
import { denyPolicyName } from "../shared/core/iam/deny-policy.ts";
import { IAM_SOURCE } from "../shared/core/intake/iam.ts";
import { bundleDirectory, DEFAULT_FUNCTIONS_DIR } from "./bundles.ts";
import { adapterStatements, BUCKET_WILDCARD_SUPPRESSION } from "./constructs/adapter-permissions.ts";
import { GuardrailAlarms, type RoutedRule } from "./constructs/alarms.ts";
import { AuditStore } from "./constructs/audit-store.ts";
import { JudgedEventRules } from "./constructs/event-routing.ts";
import { GuardrailKey } from "./constructs/guardrail-key.ts";
import { IdentityLayer, identityStatements, suppressIdentityWildcards } from "./constructs/identity-layer.ts";
import { IntakeQueue } from "./constructs/intake-queue.ts";
import { Notifications } from "./constructs/notifications.ts";
import { RemediatorFunction } from "./constructs/remediator-function.ts";
import { RuleTargets } from "./constructs/rule-targets.ts";
import { alertMessage, memberForwardingChangePattern, SelfProtection } from "./constructs/self-protection.ts";
import { slackSecretStatements, slackSecretWildcards } from "./constructs/slack-secret.ts";
import { RECONCILE_TIMEOUT_MINUTES, type Settings } from "./settings.ts";

export interface RemediatorStackProps extends StackProps {
  readonly settings: Settings;
  /** Directory holding `remediate/index.mjs` and `reconcile/index.mjs`; `dist/functions` by default. */
  readonly functionsDir?: string;
}

/** Memory of both functions: the figure the cost estimate in docs/deploy.md is computed from. */
export const FUNCTION_MEMORY_MB = 512;
export const REMEDIATE_TIMEOUT = Duration.seconds(60);
export const RECONCILE_TIMEOUT = Duration.minutes(RECONCILE_TIMEOUT_MINUTES);
/** Receives before a message goes to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
export const QUEUE_BATCH_SIZE = 10;

export class RemediatorStack extends Stack {
  readonly settings: Settings;

  constructor(scope: Construct, id: string, props: RemediatorStackProps) {
    super(scope, id, props);
    const s = props.settings;
    this.settings = s;
    const functionsDir = props.functionsDir ?? DEFAULT_FUNCTIONS_DIR;
    const org = s.organization;

    const key = new GuardrailKey(this, "Key", {
      name: s.name,
      alias: `alias/${s.name}`,
      description: "Encrypts the S3 Files remediator's intake queues, tables and audit archive",
    }).key;
    // The alerting path has its own key: disabling the guardrail key (a change the guardrail reports)
    // must not also silence the topic, the alarms and the undelivered-events queue that report it.
    const alertKey = new GuardrailKey(this, "AlertKey", {
      name: s.name,
      alias: `alias/${s.name}-alerts`,
      description: "Encrypts the S3 Files remediator's alert topic and undelivered-events queue",
      forAlarms: true,
    }).key;
    const store = new AuditStore(this, "AuditStore", {
      key,
      archiveRetentionDays: s.archiveRetentionDays,
      archiveLockMode: s.archiveLockMode,
    });
    const notifications = new Notifications(this, "Notifications", {
      name: s.name,
      key: alertKey,
      email: s.notificationEmail,
    });
    const intake = new IntakeQueue(this, "Intake", {
      name: s.name,
      key,
      consumerTimeout: REMEDIATE_TIMEOUT,
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
    const delivery = new RuleTargets(this, "Delivery", { name: s.name, key: alertKey });
    delivery.allowDeliveryTo(intake.queue);
    delivery.allowPublishTo(notifications.topic);
    const alert = () => delivery.topic(notifications.topic, alertMessage());

    // Own roles: changes they make are recorded and never acted on (loop guard). In organization
    // mode the member role in every account is one of them.
    const roleArn = (fn: string) =>
      `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${s.name}-${fn}-${Aws.REGION}`;
    const selfRoleArns = [roleArn("remediate"), roleArn("reconcile")];
    if (org) selfRoleArns.push(`arn:${Aws.PARTITION}:iam::*:role/${org.memberRoleName}`);

    const environment: Record<string, string> = {
      AUDIT_TABLE_NAME: store.auditTable.tableName,
      STATE_TABLE_NAME: store.stateTable.tableName,
      NOTIFY_TOPIC_ARN: notifications.topic.topicArn,
      EVENT_BUS_NAME: notifications.decisionBus.eventBusName,
      REMEDIATION_MODE: s.mode,
      SELF_ROLE_ARNS: selfRoleArns.join(","),
      REMEDIATOR_CONFIG: s.configDocument,
      SECURITY_HUB_ENABLED: String(s.securityHub),
      // Each new audit record is also written once as JSON to the Object Lock archive.
      AUDIT_ARCHIVE_BUCKET: store.archiveBucket.bucketName,
      AUDIT_ARCHIVE_KMS_KEY_ARN: key.keyArn,
    };
    // The identity layer: the deny policy enforce attaches, and the one region that sweeps IAM.
    environment.IAM_DENY_POLICY_NAME = denyPolicyName(s.name);
    environment.IAM_RECONCILE_REGION = s.identity.iamRegion;
    if (s.slackSecretArn) environment.SLACK_WEBHOOK_SECRET_ARN = s.slackSecretArn;
    if (s.exemptTagKey) environment.EXEMPT_TAG_KEY = s.exemptTagKey;
    if (org) environment.MEMBER_ROLE_NAME = org.memberRoleName;
    const sweptMembers = org?.reconcileMemberAccounts ?? [];

    const remediate = new RemediatorFunction(this, "Remediate", {
      functionName: `${s.name}-remediate`,
      description: "Judges each CloudTrail change against the live state and reverts what is unsafe",
      assetDirectory: bundleDirectory(functionsDir, "remediate"),
      memorySize: FUNCTION_MEMORY_MB,
      timeout: REMEDIATE_TIMEOUT,
      reservedConcurrency: s.reserveConcurrency ? s.remediateConcurrency : undefined,
      logRetentionDays: s.logRetentionDays,
      environment,
    });
    const reconcile = new RemediatorFunction(this, "Reconcile", {
      functionName: `${s.name}-reconcile`,
      description: "Sweeps every file system and guarded security group on a schedule",
      assetDirectory: bundleDirectory(functionsDir, "reconcile"),
      memorySize: FUNCTION_MEMORY_MB,
      timeout: RECONCILE_TIMEOUT,
      // One sweep at a time when reservation is on; otherwise the schedule is at least the timeout
      // (checked in the settings), so sweeps cannot overlap either.
      reservedConcurrency: s.reserveConcurrency ? 1 : undefined,
      logRetentionDays: s.logRetentionDays,
      // Organization mode: the member accounts the sweep covers after the central one.
      environment:
        sweptMembers.length > 0
          ? { ...environment, MEMBER_ACCOUNT_IDS: sweptMembers.join(",") }
          : environment,
    });

    for (const fn of [remediate, reconcile]) {
      for (const statement of adapterStatements({ account: Aws.ACCOUNT_ID, region: Aws.REGION })) {
        fn.role.addToPrincipalPolicy(statement);
      }
      for (const statement of this.runtimeStatements(s, { key, alertKey, store, notifications })) {
        fn.role.addToPrincipalPolicy(statement);
      }
      for (const statement of identityStatements({
        account: Aws.ACCOUNT_ID,
        denyPolicyArn: `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:policy/${denyPolicyName(s.name)}`,
      })) {
        fn.role.addToPrincipalPolicy(statement);
      }
      suppressIdentityWildcards(fn.role);
      suppressAdapterWildcards(fn.role);
      if (s.slackSecretArn) {
        NagSuppressions.addResourceSuppressions(
          fn.role,
          [
            {
              id: "AwsSolutions-IAM5",
              reason:
                "The Slack secret may be named by a partial ARN (its random suffix unknown), and the key that " +
                "encrypts it is the secret owner's: kms:Decrypt is limited to Secrets Manager in the secret's " +
                "region and to this secret's ARN in the encryption context.",
              appliesTo: slackSecretWildcards(s.slackSecretArn),
            },
          ],
          true,
        );
      }
      NagSuppressions.addResourceSuppressions(
        fn.role,
        [
          {
            id: "AwsSolutions-IAM5",
            reason:
              "Audit records are archived as new objects named by date and eventId, unknown in advance; the " +
              "grant is PutObject only, on the archive bucket's audit/ prefix.",
            appliesTo: [
              { regex: "/^Resource::<[A-Za-z0-9]*ArchiveBucket[A-Za-z0-9]*\\.Arn>\\/audit\\/\\*$/" },
            ],
          },
        ],
        true,
      );
    }
    // `remediate` acts in the account of each event; `reconcile` only when it sweeps member accounts.
    const assumers = sweptMembers.length > 0 ? [remediate, reconcile] : [remediate];
    for (const fn of org ? assumers : []) {
      if (!org) continue;
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: "AssumeMemberRemediationRole",
          actions: ["sts:AssumeRole"],
          // Any member account, but only the remediation role, and only inside the organization.
          resources: [`arn:${Aws.PARTITION}:iam::*:role/${org.memberRoleName}`],
          conditions: { StringEquals: { "aws:ResourceOrgID": org.organizationId } },
        }),
      );
      NagSuppressions.addResourceSuppressions(
        fn.role,
        [
          {
            id: "AwsSolutions-IAM5",
            reason:
              "The member account is the event's account (or one the sweep lists), any account of the " +
              "organization: the role name is " +
              "fixed and aws:ResourceOrgID limits the grant to roles inside the organization.",
            appliesTo: [`Resource::arn:<AWS::Partition>:iam::*:role/${org.memberRoleName}`],
          },
        ],
        true,
      );
    }

    remediate.function.addEventSource(
      new SqsEventSource(intake.queue, {
        batchSize: QUEUE_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        // The burst bound: at most this many invocations at once, whatever the backlog (and never
        // more than a reservation, when there is one, so nothing is throttled). Each invocation takes
        // its batch one record at a time (see `createRemediateHandler`), so this is also the number
        // of events in flight: a flood of events waits in the queue instead of draining the
        // account's EC2 and S3 Files API token buckets that the customer's own tooling shares.
        maxConcurrency: s.remediateConcurrency,
      }),
    );

    new events.Rule(this, "ReconcileSchedule", {
      ruleName: `${s.name}-reconcile-schedule`,
      description: "Runs the S3 Files remediator's reconcile sweep",
      schedule: events.Schedule.rate(Duration.minutes(s.reconcileEveryMinutes)),
      targets: [delivery.function(reconcile.function, 2)],
    });
    // A failed sweep is not retried by Lambda: the next scheduled run sweeps again, and the alarm tells.
    reconcile.function.configureAsyncInvoke({ retryAttempts: 0 });

    const local = new JudgedEventRules(this, "Routing", {
      namePrefix: `${s.name}-intake`,
      target: () => delivery.queue(intake.queue),
    });
    const routed: RoutedRule[] = local.ruleNames.map((ruleName) => ({ ruleName }));
    const eventBusNames = [notifications.decisionBus.eventBusName];
    if (org) {
      const intakeBusName = `${s.name}-intake`;
      // Receives the judged CloudTrail events forwarded by the organization's member accounts. No
      // `Description`: CloudFormation rejects it on event buses in the GovCloud regions.
      const intakeBus = new events.EventBus(this, "OrganizationIntakeBus", { eventBusName: intakeBusName });
      intakeBus.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: "OrganizationMembersOnly",
          principals: [new iam.AnyPrincipal()],
          actions: ["events:PutEvents"],
          resources: [intakeBus.eventBusArn],
          conditions: { StringEquals: { "aws:PrincipalOrgID": org.organizationId } },
        }),
      );
      const forwarded = new JudgedEventRules(this, "OrganizationRouting", {
        namePrefix: `${s.name}-org-intake`,
        eventBus: intakeBus,
        target: () => delivery.queue(intake.queue),
        // Members send IAM events from the IAM event region to the identity layer's own bus.
        without: [IAM_SOURCE],
      });
      routed.push(...forwarded.ruleNames.map((ruleName) => ({ ruleName, eventBusName: intakeBusName })));
      // A member account switching its forwarding off is told at once, like a change here.
      new events.Rule(this, "MemberForwardingProtection", {
        ruleName: `${s.name}-protect-members`,
        description: "Alerts when a member account changes the S3 Files remediator's forwarding rules",
        eventBus: intakeBus,
        eventPattern: memberForwardingChangePattern(`${s.name}-forward`),
        targets: [alert()],
      });
      routed.push({ ruleName: `${s.name}-protect-members`, eventBusName: intakeBusName });
      eventBusNames.push(intakeBusName);
      new CfnOutput(this, "OrganizationIntakeBusArn", { value: intakeBus.eventBusArn });
    }

    const identity = new IdentityLayer(this, "IdentityLayer", {
      name: s.name,
      iamRegion: s.identity.iamRegion,
      iamEventRegion: s.identity.iamEventRegion,
      queueTarget: () => delivery.queue(intake.queue),
      alertTarget: alert,
      organizationId: org?.organizationId,
      ownRoleNames: org ? [org.memberRoleName] : [],
      ownRolePrefixes: [`${s.name}-remediate-`, `${s.name}-reconcile-`],
    });
    // The default bus sees IAM events only in the IAM event region: there, and only when that region
    // judges IAM, they go straight to the queue (otherwise they are forwarded to the region that does).
    local.enableOnlyWhere(IAM_SOURCE, identity.judgesHere);
    const iamBusName = identity.bus.eventBusName;
    routed.push(...identity.ruleNames.map((ruleName) => ({ ruleName, eventBusName: iamBusName })));
    eventBusNames.push(iamBusName);

    new GuardrailAlarms(this, "Alarms", {
      name: s.name,
      topic: notifications.topic,
      queue: intake.queue,
      deadLetterQueue: intake.deadLetterQueue,
      undeliveredEvents: delivery.deadLetterQueue,
      organization: org !== undefined,
      remediate: remediate.function,
      reconcile: reconcile.function,
      routingRules: routed,
      maxQueueAge: Duration.minutes(15),
    });

    new SelfProtection(this, "SelfProtection", {
      name: s.name,
      target: alert(),
      resources: {
        ruleNames: [...routed.map((r) => r.ruleName), `${s.name}-reconcile-schedule`],
        eventBusNames,
        functionNames: [remediate.function.functionName, reconcile.function.functionName],
        functionArns: [remediate.function.functionArn, reconcile.function.functionArn],
        queueUrls: [
          intake.queue.queueUrl,
          intake.deadLetterQueue.queueUrl,
          delivery.deadLetterQueue.queueUrl,
        ],
        queueArns: [intake.queue.queueArn],
        tableNames: [store.auditTable.tableName, store.stateTable.tableName],
        tableArns: [store.auditTable.tableArn, store.stateTable.tableArn],
        keyIds: [key.keyId, key.keyArn, alertKey.keyId, alertKey.keyArn],
        bucketNames: [store.archiveBucket.bucketName, store.accessLogBucket.bucketName],
        topicArn: notifications.topic.topicArn,
      },
    });

    new CfnOutput(this, "AlertTopicArn", { value: notifications.topic.topicArn });
    new CfnOutput(this, "DecisionBusName", { value: notifications.decisionBus.eventBusName });
    new CfnOutput(this, "AuditTableName", { value: store.auditTable.tableName });
    new CfnOutput(this, "StateTableName", { value: store.stateTable.tableName });
    new CfnOutput(this, "ArchiveBucketName", { value: store.archiveBucket.bucketName });
    new CfnOutput(this, "IntakeQueueUrl", { value: intake.queue.queueUrl });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: intake.deadLetterQueue.queueUrl });
    new CfnOutput(this, "RemediateRoleArn", { value: remediate.role.roleArn });
  }

  /** What both functions call besides the resources they judge: the stack's own resources. */
  private runtimeStatements(
    s: Settings,
    r: {
      key: GuardrailKey["key"];
      alertKey: GuardrailKey["key"];
      store: AuditStore;
      notifications: Notifications;
    },
  ): iam.PolicyStatement[] {
    const statements = [
      new iam.PolicyStatement({
        sid: "AuditLedgerAppendAndRead",
        // A record and its eventId marker are written in one TransactWriteItems, which IAM
        // authorises as PutItem per item. No UpdateItem or DeleteItem: a record is never changed.
        actions: ["dynamodb:PutItem", "dynamodb:GetItem"],
        resources: [r.store.auditTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: "StateTableReadWrite",
        // Last known good policies, mount-target group sets, guards, dedupe claims and intents, the
        // notification outbox (written in the ledger's transaction), the reconcile cursor. Nothing
        // is ever deleted: a claim is released, and an outbox settled, by overwriting it.
        actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
        resources: [r.store.stateTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: "AuditArchiveWriteOnce",
        // New objects under audit/ only (written with If-None-Match: *). No read, no delete, no
        // retention or legal-hold changes: Object Lock's default retention applies on its own.
        actions: ["s3:PutObject"],
        resources: [r.store.archiveBucket.arnForObjects(`${AUDIT_ARCHIVE_PREFIX}*`)],
      }),
      new iam.PolicyStatement({
        sid: "NotifyPeople",
        actions: ["sns:Publish"],
        resources: [r.notifications.topic.topicArn],
      }),
      new iam.PolicyStatement({
        sid: "PublishDecisions",
        actions: ["events:PutEvents"],
        resources: [r.notifications.decisionBus.eventBusArn],
      }),
      new iam.PolicyStatement({
        sid: "UseTheGuardrailKeyThroughItsServices",
        actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
        resources: [r.key.keyArn],
        conditions: {
          StringEquals: {
            "kms:ViaService": ["sqs", "dynamodb", "s3"].map((svc) => `${svc}.${Aws.REGION}.amazonaws.com`),
          },
        },
      }),
      new iam.PolicyStatement({
        sid: "PublishToTheEncryptedAlertTopic",
        // SNS encrypts each published message with a data key of the topic's key.
        actions: ["kms:Decrypt", "kms:GenerateDataKey"],
        resources: [r.alertKey.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `sns.${Aws.REGION}.amazonaws.com` } },
      }),
    ];
    if (s.slackSecretArn) statements.push(...slackSecretStatements(s.slackSecretArn));
    if (s.securityHub) {
      statements.push(
        new iam.PolicyStatement({
          sid: "ImportFindingsAsOwnProduct",
          actions: ["securityhub:BatchImportFindings"],
          resources: [
            `arn:${Aws.PARTITION}:securityhub:${Aws.REGION}:${Aws.ACCOUNT_ID}:product/${Aws.ACCOUNT_ID}/default`,
          ],
        }),
        // One finding per resource and rule is kept up to date: it is looked up first, and its
        // workflow (RESOLVED, SUPPRESSED, NEW) is moved by BatchUpdateFindings after creation.
        new iam.PolicyStatement({
          sid: "TrackOwnFindings",
          actions: ["securityhub:GetFindings", "securityhub:BatchUpdateFindings"],
          resources: [`arn:${Aws.PARTITION}:securityhub:${Aws.REGION}:${Aws.ACCOUNT_ID}:hub/default`],
        }),
      );
    }
    return statements;
  }
}

/** The adapter grants use account- and region-scoped wildcards: justify each one, by exact text. */
function suppressAdapterWildcards(role: iam.IRole): void {
  const scoped = (service: string, resource: string, account = "<AWS::AccountId>") =>
    `Resource::arn:<AWS::Partition>:${service}:<AWS::Region>:${account}:${resource}`;
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "The guardrail judges and reverts any security group, file system, access point and mount target of " +
          "this account and region, whose ids are only known when the event arrives; each wildcard is limited " +
          "to one resource type in this account and region, and the write actions are listed one by one.",
        appliesTo: [
          scoped("ec2", "security-group/*"),
          scoped("ec2", "network-interface/*"),
          scoped("s3files", "file-system/*"),
          scoped("s3files", "file-system/*/access-point/*"),
          scoped("elasticfilesystem", "file-system/*"),
          scoped("elasticfilesystem", "access-point/*"),
        ],
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Managed prefix lists referenced by a security group may be AWS-managed (owner `aws`) or shared from " +
          "another account; reading their entries is needed to judge them, and the action is read-only.",
        appliesTo: [scoped("ec2", "prefix-list/*", "*")],
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
    ],
    true,
  );
}
