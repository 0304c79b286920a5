/**
 * A run of the remediate function under faults, shared by the fault-injection test and its heavy
 * version (`npm run bench`): real handlers against `moto_server` behind the {@link FaultProxy},
 * fed by a simulated SQS standard queue (shuffled receives, duplicate deliveries, visibility
 * timeouts, a dead-letter queue after `maxReceiveCount`), on several simulated containers that may
 * be killed mid-invocation and are then replaced by fresh ones (new clients, new runtime).
 * Time is virtual: the runtime's clock (claim leases) and the queue's (visibility) move together.
 */
import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateVpcCommand, DescribeSecurityGroupRulesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateFileSystemCommand,
  DescribeFileSystemPolicyCommand,
  EFSClient,
  PutFileSystemPolicyCommand,
} from "@aws-sdk/client-efs";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { S3FilesClient } from "@aws-sdk/client-s3files";
import { GetFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { findingId } from "../../shared/adapters/notify-securityhub.ts";
import { parseConfig } from "../../shared/core/config.ts";
import { intakeRecord } from "../../shared/core/intake/intake.ts";
import { evaluateIntake } from "../../shared/core/judge.ts";
import { RULE_IDS } from "../../shared/core/rules/index.ts";
import { type AwsClients, buildRuntime } from "../../shared/runtime/compose.ts";
import { DEFAULT_NOTIFY_VERDICTS } from "../../shared/runtime/notification-text.ts";
import { createRemediateHandler } from "../../shared/runtime/remediate-handler.ts";
import { loadSettings } from "../../shared/runtime/settings.ts";
import { FaultProxy, type Lane, seededRandom } from "./fault-proxy.ts";
import type { Moto } from "./moto.ts";
import {
  ACCOUNT,
  auditRecordsIn,
  authorizeIngressEvent,
  createInfra,
  createNfsGroup,
  efsPolicyEvent,
  type Infra,
  lambdaContext,
  publicEfsPolicy,
  runtimeEnv,
  SELF_ROLE_ARN,
} from "./runtime-env.ts";

type Handler = (event: unknown, context: unknown) => Promise<SQSBatchResponse | undefined>;

export interface FaultRunOptions {
  readonly events: number;
  /** Share of AWS requests that fail. */
  readonly faultRate: number;
  /** Share of writes after which the container is killed. */
  readonly killRate: number;
  /** Share of receives that deliver a message already in flight elsewhere (SQS at-least-once). */
  readonly duplicateRate: number;
  readonly containers: number;
  readonly seed: number;
  readonly maxReceiveCount?: number;
}

/** What one planted event is, and so what its record must say. */
type Kind = "unsafe-sg" | "safe-sg" | "public-policy" | "unreadable";

interface Planted {
  readonly kind: Kind;
  readonly eventId: string;
  readonly body: string;
  readonly groupId?: string;
  readonly fileSystemId?: string;
}

export interface FaultRunReport {
  readonly options: FaultRunOptions;
  readonly events: number;
  readonly deadLettered: number;
  readonly faults: FaultProxy["counts"];
  readonly invocations: number;
  readonly killedInvocations: number;
  readonly duplicateDeliveries: number;
  /** Broken invariants, one line each (empty when all hold). */
  readonly violations: readonly string[];
  /** Notifying records, and the copies receivers got beyond the first, per channel. */
  readonly notifying: number;
  readonly extraCopies: { readonly sns: number; readonly eventbridge: number };
  readonly outcomes: Readonly<Record<string, number>>;
}

interface SimMessage {
  readonly id: string;
  readonly body: string;
  receiveCount: number;
  visibleAt: number;
}

/** An SQS standard queue, simulated: shuffled receives, duplicates, visibility timeouts, a DLQ. */
class SimQueue {
  readonly messages = new Map<string, SimMessage>();
  /** The message id of each body sent (an unreadable body is recorded under `sqs:<messageId>`). */
  readonly idOfBody = new Map<string, string>();
  readonly deadLetters: SimMessage[] = [];
  duplicates = 0;

  constructor(
    private readonly random: () => number,
    private readonly visibilityMs: number,
    private readonly maxReceiveCount: number,
    private readonly duplicateRate: number,
  ) {}

  send(body: string): void {
    const id = randomUUID();
    this.idOfBody.set(body, id);
    this.messages.set(id, { id, body, receiveCount: 0, visibleAt: 0 });
  }

  receive(now: number, max: number, inFlightElsewhere: readonly SimMessage[]): SimMessage[] {
    const visible = [...this.messages.values()].filter((m) => m.visibleAt <= now);
    // Standard queues do not keep order.
    for (let i = visible.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [visible[i], visible[j]] = [visible[j] as SimMessage, visible[i] as SimMessage];
    }
    const batch: SimMessage[] = [];
    for (const message of visible) {
      if (batch.length >= max) break;
      if (message.receiveCount >= this.maxReceiveCount) {
        this.messages.delete(message.id);
        this.deadLetters.push(message);
        continue;
      }
      message.receiveCount++;
      message.visibleAt = now + this.visibilityMs;
      batch.push(message);
    }
    // At-least-once: now and then a copy of a message another container holds.
    const copy = inFlightElsewhere[Math.floor(this.random() * inFlightElsewhere.length)];
    if (copy && this.random() < this.duplicateRate && !batch.includes(copy)) {
      this.duplicates++;
      batch.push(copy);
    }
    return batch;
  }

  delete(id: string): void {
    this.messages.delete(id);
  }

  get pending(): number {
    return this.messages.size;
  }
}

const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

function laneClients(endpoint: string, region: string): AwsClients {
  const config = { endpoint, region, credentials, maxAttempts: 1 };
  return {
    ec2: new EC2Client(config),
    efs: new EFSClient(config),
    s3files: new S3FilesClient(config),
    dynamodb: new DynamoDBClient(config),
    sns: new SNSClient(config),
    events: new EventBridgeClient(config),
    securityHub: new SecurityHubClient(config),
    secrets: undefined,
  };
}

function destroyClients(clients: AwsClients): void {
  for (const client of [
    clients.ec2,
    clients.efs,
    clients.s3files,
    clients.dynamodb,
    clients.sns,
    clients.events,
  ])
    client.destroy();
  clients.securityHub?.destroy();
}

/** The receivers: an SQS queue subscribed to the topic, and one a bus rule targets. */
export interface Inboxes {
  readonly sns: string;
  readonly eventbridge: string;
}

export async function createInboxes(
  moto: Moto,
  infra: Infra,
  sqs: SQSClient,
  suffix: string,
): Promise<Inboxes> {
  const queue = async (name: string) => {
    const { QueueUrl = "" } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    return { url: QueueUrl, arn: Attributes?.QueueArn ?? "" };
  };
  const snsInbox = await queue(`fault-sns-inbox-${suffix}`);
  await new SNSClient(moto.clientConfig).send(
    new SubscribeCommand({ TopicArn: infra.topicArn, Protocol: "sqs", Endpoint: snsInbox.arn }),
  );
  const busInbox = await queue(`fault-bus-inbox-${suffix}`);
  const events = new EventBridgeClient(moto.clientConfig);
  await events.send(
    new PutRuleCommand({
      Name: "decisions-to-inbox",
      EventBusName: infra.busName,
      EventPattern: JSON.stringify({ source: ["s3files-remediator"] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: "decisions-to-inbox",
      EventBusName: infra.busName,
      Targets: [{ Id: "inbox", Arn: busInbox.arn }],
    }),
  );
  return { sns: snsInbox.url, eventbridge: busInbox.url };
}

/** Every decision id a receiver got, with how many copies. */
async function drainInbox(sqs: SQSClient, url: string, idOf: (body: string) => string | undefined) {
  const copies = new Map<string, number>();
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
    );
    if (Messages.length === 0) {
      empty++;
      continue;
    }
    for (const message of Messages) {
      const id = idOf(message.Body ?? "");
      if (id) copies.set(id, (copies.get(id) ?? 0) + 1);
    }
  }
  return copies;
}

async function plant(moto: Moto, count: number, random: () => number, tag: string): Promise<Planted[]> {
  const ec2 = new EC2Client(moto.clientConfig);
  const efs = new EFSClient(moto.clientConfig);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.50.0.0/16" }));
  const vpcId = vpc.Vpc?.VpcId ?? "";
  const one = async (i: number, draw: number): Promise<Planted> => {
    const eventId = `${tag}-${i}-${randomUUID()}`;
    if (draw < 0.05) {
      return { kind: "unreadable", eventId: "", body: `{not json ${eventId}` };
    }
    if (draw < 0.15) {
      const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: eventId }));
      const fileSystemId = fs.FileSystemId ?? "";
      const policy = publicEfsPolicy(moto.clientConfig.region, fileSystemId);
      await efs.send(new PutFileSystemPolicyCommand({ FileSystemId: fileSystemId, Policy: policy }));
      const event = efsPolicyEvent(fileSystemId, policy, { eventId });
      return { kind: "public-policy", eventId, body: JSON.stringify(event), fileSystemId };
    }
    const unsafe = draw < 0.75;
    const cidrs = unsafe ? ["0.0.0.0/0", "10.50.0.0/16"] : ["10.50.0.0/16"];
    const { groupId, rules } = await createNfsGroup(ec2, vpcId, `${tag}-${i}`, cidrs);
    const event = authorizeIngressEvent(groupId, 2049, rules, { eventId });
    return { kind: unsafe ? "unsafe-sg" : "safe-sg", eventId, body: JSON.stringify(event), groupId };
  };
  const draws = Array.from({ length: count }, () => random());
  const planted: Planted[] = [];
  for (let start = 0; start < count; start += 8) {
    planted.push(...(await Promise.all(draws.slice(start, start + 8).map((d, k) => one(start + k, d)))));
  }
  ec2.destroy();
  efs.destroy();
  return planted;
}

interface Container {
  lane: Lane;
  clients: AwsClients;
  handler: Handler;
}

/**
 * Plants `options.events` events, runs them through the queue until it is empty, then checks every
 * invariant against what moto holds. Never throws on a broken invariant: the report lists them.
 */
export async function runUnderFaults(moto: Moto, options: FaultRunOptions): Promise<FaultRunReport> {
  // Fresh tables per run: moto copies a whole table on every transaction.
  const infra = await createInfra(moto, `faults-${options.seed}-${randomUUID().slice(0, 6)}`);
  const sqs = new SQSClient(moto.clientConfig);
  const inboxes = await createInboxes(moto, infra, sqs, `${options.seed}-${randomUUID().slice(0, 6)}`);
  sqs.destroy();
  const random = seededRandom(options.seed);
  const tag = `f${options.seed}`;
  const t0 = Date.now();
  const planted = await plant(moto, options.events, random, tag);
  if (process.env.FAULT_RUN_TRACE) console.error(`planted in ${Date.now() - t0} ms`);
  const proxy = new FaultProxy(moto.endpoint, {
    rate: options.faultRate,
    killRate: options.killRate,
    random,
  });
  let now = Date.parse("2026-11-29T12:00:00Z") + options.seed * 86_400_000;
  const clock = { now: () => new Date(now) };
  const region = moto.clientConfig.region;
  const settings = loadSettings(
    runtimeEnv(moto, infra, { RETRY_MAX_ATTEMPTS: "6", SECURITY_HUB_ENABLED: "true" }),
  );
  const quiet = {
    logger: new Logger({ logLevel: "SILENT" }),
    metrics: new Metrics({ namespace: "test", serviceName: "test" }),
  };
  const container = async (): Promise<Container> => {
    const lane = await proxy.lane();
    const clients = laneClients(lane.endpoint, region);
    const { pipeline } = buildRuntime(settings, clients, { clock, sleep: async () => {} });
    return {
      lane,
      clients,
      handler: createRemediateHandler(pipeline, quiet.logger, quiet.metrics) as unknown as Handler,
    };
  };
  const queue = new SimQueue(random, 60_000, options.maxReceiveCount ?? 10, options.duplicateRate);
  for (const event of planted) queue.send(event.body);
  const containers: Container[] = [];
  for (let i = 0; i < options.containers; i++) containers.push(await container());
  let invocations = 0;
  let killed = 0;
  for (let round = 0; queue.pending > 0 && round < 400; round++) {
    const taken: SimMessage[][] = [];
    for (const _ of containers) {
      taken.push(queue.receive(now, 1 + Math.floor(random() * 10), taken.flat()));
    }
    const results = await Promise.all(
      containers.map(async (c, index) => {
        const batch = taken[index] ?? [];
        if (batch.length === 0) return undefined;
        invocations++;
        const event = {
          Records: batch.map((m) => ({
            messageId: m.id,
            receiptHandle: m.id,
            body: m.body,
            attributes: { ApproximateReceiveCount: String(m.receiveCount) },
            messageAttributes: {},
            md5OfBody: "",
            eventSource: "aws:sqs",
            eventSourceARN: `arn:aws:sqs:${region}:${ACCOUNT}:remediator-events`,
            awsRegion: region,
          })),
        };
        try {
          return await c.handler(event, lambdaContext());
        } catch {
          return { batchItemFailures: batch.map((m) => ({ itemIdentifier: m.id })) };
        }
      }),
    );
    for (const [index, c] of containers.entries()) {
      const batch = taken[index] ?? [];
      if (c.lane.dead) {
        // Killed: nothing is acknowledged; the messages come back after the visibility timeout.
        if (batch.length > 0) killed++;
        destroyClients(c.clients);
        containers[index] = await container();
        continue;
      }
      const failed = new Set((results[index]?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      for (const message of batch) if (!failed.has(message.id)) queue.delete(message.id);
    }
    now += 30_000;
    if (process.env.FAULT_RUN_TRACE)
      console.error(`round ${round}: ${queue.pending} pending, ${Date.now() - t0} ms`);
  }
  for (const c of containers) destroyClients(c.clients);
  await proxy.close();
  return judgeRun(moto, infra, inboxes, options, planted, queue, {
    faults: proxy.counts,
    invocations,
    killed,
  });
}

async function judgeRun(
  moto: Moto,
  infra: Infra,
  inboxes: Inboxes,
  options: FaultRunOptions,
  planted: readonly Planted[],
  queue: SimQueue,
  counts: { faults: FaultProxy["counts"]; invocations: number; killed: number },
): Promise<FaultRunReport> {
  const violations: string[] = [];
  const dead = new Set(queue.deadLetters.map((m) => m.body));
  const records = await auditRecordsIn(moto, infra.auditTable);
  const byEvent = new Map<string, typeof records>();
  for (const record of records) byEvent.set(record.eventId, [...(byEvent.get(record.eventId) ?? []), record]);
  const sqs = new SQSClient(moto.clientConfig);
  const snsCopies = await drainInbox(sqs, inboxes.sns, (body) => {
    const attributes = (JSON.parse(body) as { MessageAttributes?: Record<string, { Value?: string }> })
      .MessageAttributes;
    return attributes?.decisionId?.Value;
  });
  const busCopies = await drainInbox(
    sqs,
    inboxes.eventbridge,
    (body) => (JSON.parse(body) as { detail?: { decisionId?: string } }).detail?.decisionId,
  );
  sqs.destroy();
  const hub = new SecurityHubClient(moto.clientConfig);
  const findingIds = new Set<string>();
  let token: string | undefined;
  do {
    const page = await hub.send(new GetFindingsCommand({ MaxResults: 100, NextToken: token }));
    for (const finding of page.Findings ?? []) if (finding.Id) findingIds.add(finding.Id);
    token = page.NextToken;
  } while (token);
  hub.destroy();
  const ec2 = new EC2Client(moto.clientConfig);
  const efs = new EFSClient(moto.clientConfig);
  const config = parseConfig({ selfRoleArns: [SELF_ROLE_ARN] }, RULE_IDS);
  const outcomes: Record<string, number> = {};
  let notifying = 0;
  for (const event of planted) {
    const deadLettered = dead.has(event.body);
    const mine =
      byEvent.get(event.kind === "unreadable" ? `sqs:${queue.idOfBody.get(event.body)}` : event.eventId) ??
      [];
    const label = `${event.kind} ${event.eventId || event.body}`;
    if (mine.length > 1) violations.push(`${label}: ${mine.length} records`);
    if (mine.length === 0 && !deadLettered) violations.push(`${label}: no record and not dead-lettered`);
    const [record] = mine;
    if (record) {
      const key = `${record.verdict}/${record.outcome}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      if (DEFAULT_NOTIFY_VERDICTS.includes(record.verdict)) {
        notifying++;
        if (!snsCopies.has(record.eventId) && !deadLettered) violations.push(`${label}: no SNS notification`);
        if (!busCopies.has(record.eventId) && !deadLettered)
          violations.push(`${label}: no EventBridge notification`);
        for (const rule of record.rules) {
          if (!findingIds.has(findingId(record.eventId, rule)) && !deadLettered)
            violations.push(`${label}: no Security Hub finding for ${rule}`);
        }
      }
    }
    if (event.kind === "unsafe-sg" || event.kind === "public-policy") {
      if (record && record.outcome !== "remediated")
        violations.push(
          `${label}: recorded ${record.verdict}/${record.outcome}, not remediated (${record.reason})`,
        );
    }
    if (event.kind === "unsafe-sg" || event.kind === "safe-sg") {
      const answer = await ec2.send(
        new DescribeSecurityGroupRulesCommand({
          Filters: [{ Name: "group-id", Values: [event.groupId ?? ""] }],
        }),
      );
      const ingress = (answer.SecurityGroupRules ?? []).filter((r) => !r.IsEgress).map((r) => r.CidrIpv4);
      if (ingress.includes("0.0.0.0/0") && !deadLettered)
        violations.push(`${label}: the world rule is still there`);
      if (!ingress.includes("10.50.0.0/16")) violations.push(`${label}: the safe rule was touched`);
      if (event.kind === "safe-sg" && record && record.verdict !== "compliant")
        violations.push(`${label}: a safe change recorded ${record.verdict}`);
    }
    if (event.kind === "public-policy" && !deadLettered) {
      const live = await efs.send(new DescribeFileSystemPolicyCommand({ FileSystemId: event.fileSystemId }));
      const judged = evaluateIntake(
        intakeRecord(efsPolicyEvent(event.fileSystemId ?? "", live.Policy ?? "{}"), { selfRoleArns: [] }),
        { config, now: new Date() },
      );
      // Notify-only findings (EFS without TLS enforcement) stay; nothing an enforced rule would change may.
      if (judged.verdict === "invalid" || judged.plan.length > 0)
        violations.push(
          `${label}: live policy judged ${judged.verdict}, ${judged.plan.length} step(s) still planned`,
        );
    }
  }
  ec2.destroy();
  efs.destroy();
  const extra = (copies: Map<string, number>) => [...copies.values()].reduce((sum, n) => sum + n - 1, 0);
  return {
    options,
    events: planted.length,
    deadLettered: queue.deadLetters.length,
    faults: counts.faults,
    invocations: counts.invocations,
    killedInvocations: counts.killed,
    duplicateDeliveries: queue.duplicates,
    violations,
    notifying,
    extraCopies: { sns: extra(snsCopies), eventbridge: extra(busCopies) },
    outcomes,
  };
}
