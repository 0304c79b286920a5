/**
 * The composition root shared by both Lambda functions, the demo and the benchmarks: builds every
 * adapter from the settings and the SDK clients, which are created here and nowhere else.
 *
 * Clients get no `endpoint` and no region from code: the SDK resolves `AWS_REGION`,
 * `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` itself (that is how the tests and the demo
 * point them at the emulator). Every client makes one attempt per call: the runtime's retry policy
 * (`retry.ts`) is the one retry layer for reads, actions, the state table, the ledger, the archive
 * and the notifiers, so two layers never multiply and the SDK's per-client retry quota never
 * silently turns retries off late in a warm container.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { EFSClient } from "@aws-sdk/client-efs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { IAMClient } from "@aws-sdk/client-iam";
import type { S3Client } from "@aws-sdk/client-s3";
import { S3FilesClient } from "@aws-sdk/client-s3files";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SecurityHubClient } from "@aws-sdk/client-securityhub";
import { SNSClient } from "@aws-sdk/client-sns";
import type { STSClient } from "@aws-sdk/client-sts";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoDbAuditLedger } from "../adapters/audit-dynamodb.ts";
import { DynamoDbStateStore } from "../adapters/dynamodb-state.ts";
import { Ec2SecurityGroupAdapter } from "../adapters/ec2-security-groups.ts";
import { EfsFileSystemAdapter } from "../adapters/efs-file-systems.ts";
import { EventBridgeNotifier } from "../adapters/notify-eventbridge.ts";
import { SnsNotifier } from "../adapters/notify-sns.ts";
import { S3FilesFileSystemAdapter } from "../adapters/s3files-file-systems.ts";
import { type AccountResources, AccountRouter } from "./accounts.ts";
import { ArchivingAuditLedger } from "./archiving-ledger.ts";
import { PlanExecutor } from "./executor.ts";
import { identityResources } from "./iam-compose.ts";
import type { IdentityResources } from "./iam-ports.ts";
import { lazyNotifier, once } from "./lazy.ts";
import { lazyBuckets } from "./lazy-buckets.ts";
import type { BucketApi } from "./live-ports.ts";
import { MemberCredentials, type TemporaryCredentials } from "./member-credentials.ts";
import { FINDING_TRACKER_VERDICTS } from "./notification-text.ts";
import { type PipelineObserver, RemediationPipeline } from "./pipeline.ts";
import { type AuditLedger, type Clock, type Notifier, systemClock } from "./ports.ts";
import { Reconciler } from "./reconcile.ts";
import { type RetryPolicy, ThrottleGate } from "./retry.ts";
import { memberRoleArn, type Settings } from "./settings.ts";

export interface AwsClients {
  readonly ec2: EC2Client;
  readonly efs: EFSClient;
  readonly s3files: S3FilesClient;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly events: EventBridgeClient;
  /**
   * Clients of the optional features (Security Hub, Slack, the audit archive). They are created on
   * first use, from a separate chunk, and only when the feature is on; tests may inject their own.
   */
  readonly securityHub?: SecurityHubClient | undefined;
  readonly secrets?: SecretsManagerClient | undefined;
  readonly s3?: S3Client | undefined;
  /**
   * Organization mode only: assumes the member role of each member account. Created on the first
   * member-account event, from a separate chunk (single-account deployments never load STS);
   * tests may inject their own.
   */
  readonly sts?: STSClient | undefined;
  /** The identity layer: created on the first IAM change, from a separate chunk; tests may inject one. */
  readonly iam?: IAMClient | undefined;
}

/** Member accounts whose clients stay cached per container (least recently used dropped beyond). */
const MAX_MEMBER_ACCOUNTS = 100;

/** One attempt per SDK call: `retry.ts` retries (see the module comment). */
const ONE_ATTEMPT = { maxAttempts: 1 } as const;

/**
 * The clients that read and act in one member account, signed with its member role. Created on
 * the first event of the account and cached; same one-attempt rule as the function's own.
 */
function memberResourceClients(credentials: () => Promise<TemporaryCredentials>) {
  return {
    ec2: new EC2Client({ ...ONE_ATTEMPT, credentials }),
    efs: new EFSClient({ ...ONE_ATTEMPT, credentials }),
    s3files: new S3FilesClient({ ...ONE_ATTEMPT, credentials }),
  };
}

/**
 * The buckets behind S3 Files file systems, through an S3 client built on first use (with
 * `credentials` for a member account): the S3 SDK and the adapter are a lazy chunk.
 */
function bucketAdapter(
  retry: RetryPolicy,
  client: S3Client | undefined,
  credentials?: () => Promise<TemporaryCredentials>,
): BucketApi {
  return lazyBuckets(async () => {
    const [{ S3BucketAdapter }, { S3Client }] = await Promise.all([
      import("../adapters/s3-buckets.ts"),
      import("@aws-sdk/client-s3"),
    ]);
    // Its own throttle gate, like every other service's (see resourceAdapters).
    return new S3BucketAdapter(
      client ?? new S3Client({ ...ONE_ATTEMPT, ...(credentials ? { credentials } : {}) }),
      {
        ...retry,
        gate: new ThrottleGate(),
      },
    );
  });
}

/**
 * The adapters of one account. Each service's calls share one {@link ThrottleGate}: AWS throttles
 * per account and region (EC2's token bucket is shared by every caller in the account), so one
 * throttled answer slows this container's next calls to that service, not just the one retried.
 */
function resourceAdapters(
  clients: Pick<AwsClients, "ec2" | "efs" | "s3files">,
  retry: RetryPolicy,
  identity: IdentityResources,
  buckets: BucketApi,
): AccountResources & { efs: EfsFileSystemAdapter; s3files: S3FilesFileSystemAdapter } {
  const gated = (): RetryPolicy => ({ ...retry, gate: new ThrottleGate() });
  const ec2 = new Ec2SecurityGroupAdapter(clients.ec2, gated());
  const efs = new EfsFileSystemAdapter(clients.efs, gated());
  const s3files = new S3FilesFileSystemAdapter(clients.s3files, gated());
  return {
    ec2,
    efs,
    s3files,
    fileSystems: { efs, s3files },
    identity,
    buckets,
    executor: new PlanExecutor(
      ec2.operations,
      efs.operations,
      s3files.operations,
      identity.api.operations,
      buckets.operations,
    ),
  };
}

/** The identity layer of an account (IAM is global: one per account, whatever the region). */
function identityOf(
  settings: Settings,
  retry: RetryPolicy,
  access: { client?: IAMClient | undefined; credentials?: () => Promise<TemporaryCredentials> },
): IdentityResources {
  return identityResources({
    partition: settings.partition,
    denyPolicyName: settings.iamDenyPolicyName,
    retry,
    ...access,
  });
}

/**
 * The SDK clients, built once per Lambda container. The settings no longer pick any of them (the
 * optional ones are created on first use); the parameter stays so callers need not change.
 */
export function createClients(_settings: Settings): AwsClients {
  return {
    ec2: new EC2Client(ONE_ATTEMPT),
    efs: new EFSClient(ONE_ATTEMPT),
    s3files: new S3FilesClient(ONE_ATTEMPT),
    dynamodb: new DynamoDBClient(ONE_ATTEMPT),
    sns: new SNSClient(ONE_ATTEMPT),
    events: new EventBridgeClient(ONE_ATTEMPT),
  };
}

export interface RuntimeOptions {
  readonly clock?: Clock;
  readonly observer?: PipelineObserver;
  /** Injected by tests so back-off does not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Replaces the ledger or the notifiers (tests, benchmarks). */
  readonly ledger?: AuditLedger;
  readonly notifiers?: readonly Notifier[];
}

export interface Runtime {
  readonly pipeline: RemediationPipeline;
  readonly reconciler: Reconciler;
}

/** `arn:aws:sns:REGION:ACCOUNT:name` → region and account, for Security Hub's product ARN. */
function topicHome(topicArn: string): { region: string; account: string } {
  const [, , , region = "", account = ""] = topicArn.split(":");
  return { region, account };
}

/** Organization mode: member-account events are read and acted on with the member role. */
function memberAccounts(
  settings: Settings,
  clients: AwsClients,
  home: AccountResources,
  retry: RetryPolicy,
  clock: Clock,
): AccountRouter {
  const roleName = settings.memberRoleName ?? "";
  const assumer = once(async () => {
    const [{ StsRoleAssumer }, { STSClient }] = await Promise.all([
      import("../adapters/sts-assume-role.ts"),
      import("@aws-sdk/client-sts"),
    ]);
    // One attempt: MemberCredentials retries AssumeRole with the runtime's policy.
    return new StsRoleAssumer(clients.sts ?? new STSClient(ONE_ATTEMPT));
  });
  const credentials = new MemberCredentials({
    assumeRole: async (roleArn, sessionName) => (await assumer()).assume(roleArn, sessionName),
    roleArn: (account) => memberRoleArn(settings, roleName, account),
    clock,
    retry,
  });
  return new AccountRouter({
    homeAccount: settings.homeAccount,
    home,
    credentials,
    build: (_account, provider) =>
      resourceAdapters(
        memberResourceClients(provider),
        retry,
        identityOf(settings, retry, { credentials: provider }),
        bucketAdapter(retry, undefined, provider),
      ),
    maxAccounts: MAX_MEMBER_ACCOUNTS,
  });
}

export function buildRuntime(settings: Settings, clients: AwsClients, options: RuntimeOptions = {}): Runtime {
  const clock = options.clock ?? systemClock;
  const retry: RetryPolicy = { ...settings.retry, ...(options.sleep ? { sleep: options.sleep } : {}) };
  const documents = DynamoDBDocumentClient.from(clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  // The function's own account; in organization mode, member accounts get their own set.
  const own = resourceAdapters(
    clients,
    retry,
    identityOf(settings, retry, { client: clients.iam }),
    bucketAdapter(retry, clients.s3),
  );
  const { ec2, efs, s3files } = own;
  // Both tables are in one account and region: one DynamoDB bucket, one gate.
  const dynamoRetry: RetryPolicy = { ...retry, gate: new ThrottleGate() };
  const state = new DynamoDbStateStore(documents, {
    tableName: settings.stateTableName,
    retry: dynamoRetry,
    dedupeTtlDays: settings.dedupeTtlDays,
  });
  const home = topicHome(settings.notifyTopicArn);
  const notifiers: Notifier[] = [
    new EventBridgeNotifier(clients.events, {
      eventBusName: settings.eventBusName,
      exemptTagKey: settings.exemptTagKey,
    }),
    new SnsNotifier(clients.sns, { topicArn: settings.notifyTopicArn, exemptTagKey: settings.exemptTagKey }),
  ];
  // Optional channels: imported on their first notification, so when off their SDK clients (the
  // Security Hub one alone is ~120 KB) are never parsed at cold start.
  const slackSecret = settings.slackWebhookSecretArn;
  if (slackSecret) {
    notifiers.push(
      lazyNotifier("slack", async () => {
        const [{ SlackNotifier, secretRegion }, { SecretsManagerClient }] = await Promise.all([
          import("../adapters/notify-slack.ts"),
          import("@aws-sdk/client-secrets-manager"),
        ]);
        // A secret is read in its own region (an ARN names it), not necessarily the function's.
        const secrets =
          clients.secrets ?? new SecretsManagerClient({ ...ONE_ATTEMPT, region: secretRegion(slackSecret) });
        return new SlackNotifier(secrets, { secretId: slackSecret, exemptTagKey: settings.exemptTagKey });
      }),
    );
  }
  if (settings.securityHubEnabled) {
    notifiers.push(
      lazyNotifier("securityhub", async () => {
        const [{ SecurityHubNotifier }, { SecurityHubClient }] = await Promise.all([
          import("../adapters/notify-securityhub.ts"),
          import("@aws-sdk/client-securityhub"),
        ]);
        return new SecurityHubNotifier(clients.securityHub ?? new SecurityHubClient(ONE_ATTEMPT), {
          ...home,
          clock,
          exemptTagKey: settings.exemptTagKey,
        });
      }),
    );
  }
  // The outbox lives in the state table, written in the same transaction as the record.
  const dynamoLedger = new DynamoDbAuditLedger(documents, {
    tableName: settings.auditTableName,
    clock,
    retry: dynamoRetry,
    outboxTableName: settings.stateTableName,
    outboxTtlDays: settings.dedupeTtlDays,
  });
  const archiveBucket = settings.auditArchiveBucket;
  // The archive copy follows the DynamoDB record (the source of truth) and never costs it.
  const ledger: AuditLedger = archiveBucket
    ? new ArchivingAuditLedger({
        primary: dynamoLedger,
        archive: once(async () => {
          const [{ S3AuditArchive }, { S3Client }] = await Promise.all([
            import("../adapters/audit-s3-archive.ts"),
            import("@aws-sdk/client-s3"),
          ]);
          return new S3AuditArchive(clients.s3 ?? new S3Client(ONE_ATTEMPT), {
            bucket: archiveBucket,
            kmsKeyArn: settings.auditArchiveKmsKeyArn,
            retry,
          });
        }),
        archiveFailed: (record, error) => options.observer?.archiveFailed?.(record, error),
      })
    : dynamoLedger;
  const pipeline = new RemediationPipeline({
    mode: settings.mode,
    config: settings.config,
    exemptTagKey: settings.exemptTagKey,
    ec2,
    fileSystems: own.fileSystems,
    buckets: own.buckets,
    state,
    executor: own.executor,
    ...(own.identity ? { identity: own.identity } : {}),
    ...(settings.memberRoleName ? { accounts: memberAccounts(settings, clients, own, retry, clock) } : {}),
    ...(settings.homeAccount ? { homeAccount: settings.homeAccount } : {}),
    ledger: options.ledger ?? ledger,
    notifiers: options.notifiers ?? notifiers,
    // Security Hub also hears compliant decisions, which resolve the findings it holds.
    notifyOptions: { verdictsByNotifier: { securityhub: FINDING_TRACKER_VERDICTS } },
    clock,
    retry,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const reconciler = new Reconciler({
    pipeline,
    fileSystems: [s3files, efs],
    state,
    clock,
    maxFileSystems: settings.reconcileMaxFileSystems,
    region: home.region || undefined,
    memberAccounts: settings.memberAccountIds,
    mode: settings.mode,
    ...(settings.iamReconcile ? { identityMaxPrincipals: settings.reconcileMaxFileSystems * 10 } : {}),
  });
  return { pipeline, reconciler };
}
