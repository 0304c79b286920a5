import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateSecretCommand,
  SecretsManagerClient,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import {
  type BatchUpdateFindingsCommandInput,
  GetFindingsCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBridgeNotifier } from "../../shared/adapters/notify-eventbridge.ts";
import { SecurityHubNotifier } from "../../shared/adapters/notify-securityhub.ts";
import { SlackNotifier } from "../../shared/adapters/notify-slack.ts";
import { SnsNotifier } from "../../shared/adapters/notify-sns.ts";
import { notifyAll } from "../../shared/runtime/notify-all.ts";
import type { Clock } from "../../shared/runtime/ports.ts";
import { auditRecord, SG_ARN } from "../helpers/audit-records.ts";
import { type Moto, startMoto } from "../helpers/moto.ts";

const ACCOUNT = "123456789012"; // moto's default account
const clock: Clock = { now: () => new Date("2026-11-22T12:00:00.000Z") };
let moto: Moto;
let sqs: SQSClient;
let queueCount = 0;

async function queue(): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `inbox-${++queueCount}` }));
  const url = QueueUrl ?? "";
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  return { url, arn: Attributes?.QueueArn ?? "" };
}

async function receive(url: string, expected = 1): Promise<Message[]> {
  const messages: Message[] = [];
  for (let attempt = 0; attempt < 20 && messages.length < expected; attempt++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    messages.push(...Messages);
    if (messages.length < expected) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return messages;
}

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient(moto.clientConfig);
});

afterAll(async () => {
  sqs?.destroy();
  await moto?.stop();
});

describe("SnsNotifier", () => {
  it("delivers a message for people to an SQS subscription: who, what, where from, rule, action, diff, undo", async () => {
    const sns = new SNSClient(moto.clientConfig);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "remediator-alerts" }));
    const inbox = await queue();
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: inbox.arn }));
    const notifier = new SnsNotifier(sns, { topicArn: TopicArn ?? "" });

    await notifier.notify(auditRecord());

    const [message, ...rest] = await receive(inbox.url);
    expect(rest).toEqual([]);
    const envelope = JSON.parse(message?.Body ?? "{}") as {
      Subject: string;
      Message: string;
      MessageAttributes: Record<string, { Value: string }>;
    };
    expect(envelope.Subject).toBe(
      "[CRITICAL] Reverted: AuthorizeSecurityGroupIngress on sg-0a1b2c3d4e5f60718 by DevOps/alice",
    );
    expect(envelope.Subject.length).toBeLessThanOrEqual(99);
    expect(envelope.Message).toContain(
      "Who:               arn:aws:sts::111122223333:assumed-role/DevOps/alice",
    );
    expect(envelope.Message).toContain("Source IP:         203.0.113.7");
    expect(envelope.Message).toContain("User agent:        aws-cli/2.22.1");
    expect(envelope.Message).toContain("[critical] sg-ingress-internet-sensitive-port:");
    expect(envelope.Message).toContain("ran: ec2:RevokeSecurityGroupIngress");
    expect(envelope.Message).toContain('- rules[ruleId=sgr-0aaa1111]: {"ruleId":"sgr-0aaa1111"');
    expect(envelope.Message).toContain(
      "Console:           https://console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-0a1b2c3d4e5f60718",
    );
    expect(envelope.Message).toContain("\nWhy these rules exist\n  sg-ingress-internet-sensitive-port (");
    expect(envelope.Message).toContain(
      "\nWhat to do now\n  If the change is intended, exempt sg-0a1b2c3d4e5f60718",
    );
    expect(envelope.Message).toContain(
      `aws ec2 authorize-security-group-ingress --region eu-west-1 --group-id sg-0a1b2c3d4e5f60718 --ip-permissions '[{"IpProtocol":"tcp","FromPort":2049,"ToPort":2049,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'`,
    );
    expect(envelope.MessageAttributes.trigger?.Value).toBe("event");
    expect(envelope.MessageAttributes.verdict?.Value).toBe("violation");
    expect(envelope.MessageAttributes.severity?.Value).toBe("critical");
    sns.destroy();
  });
});

describe("EventBridgeNotifier", () => {
  it("puts a structured decision event on the bus that a rule routes to SQS", async () => {
    const events = new EventBridgeClient(moto.clientConfig);
    await events.send(new CreateEventBusCommand({ Name: "security-decisions" }));
    const inbox = await queue();
    await events.send(
      new PutRuleCommand({
        Name: "violations-to-sqs",
        EventBusName: "security-decisions",
        EventPattern: JSON.stringify({
          source: ["s3files-remediator"],
          "detail-type": ["Remediation Decision"],
          detail: { verdict: ["violation"] },
        }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: "violations-to-sqs",
        EventBusName: "security-decisions",
        Targets: [{ Id: "inbox", Arn: inbox.arn }],
      }),
    );
    const notifier = new EventBridgeNotifier(events, { eventBusName: "security-decisions" });

    await notifier.notify(auditRecord());
    await notifier.notify(
      auditRecord({ eventId: "compliant-1", verdict: "compliant", outcome: "no-action" }),
    );

    const messages = await receive(inbox.url);
    expect(messages).toHaveLength(1);
    const event = JSON.parse(messages[0]?.Body ?? "{}") as {
      source: string;
      "detail-type": string;
      resources: string[];
      detail: Record<string, unknown>;
    };
    expect(event.source).toBe("s3files-remediator");
    expect(event["detail-type"]).toBe("Remediation Decision");
    expect(event.resources).toEqual([SG_ARN]);
    expect(event.detail).toMatchObject({
      eventId: "4b8e1c3a-2f6d-4e7a-9b1c-0d2e3f4a5b6c",
      verdict: "violation",
      outcome: "remediated",
      severity: "critical",
      rules: ["sg-ingress-internet-sensitive-port"],
      actor: "arn:aws:sts::111122223333:assumed-role/DevOps/alice",
      sourceIp: "203.0.113.7",
      requestIds: ["a1b2c3d4-5678-90ab-cdef-111111111111"],
      stateOmitted: false,
      // What people read by SNS and Slack, as fields.
      trigger: "event",
      subject: "[CRITICAL] Reverted: AuthorizeSecurityGroupIngress on sg-0a1b2c3d4e5f60718 by DevOps/alice",
      consoleUrl:
        "https://console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-0a1b2c3d4e5f60718",
      ruleDetails: [
        expect.objectContaining({
          id: "sg-ingress-internet-sensitive-port",
          docsUrl: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
        }),
      ],
      changes: [expect.stringMatching(/^- rules\[ruleId=sgr-0aaa1111\]/)],
      nextSteps: [expect.stringContaining("remediator:exempt")],
      undo: [
        expect.objectContaining({
          command: expect.stringContaining("aws ec2 authorize-security-group-ingress"),
          call: expect.objectContaining({ api: "ec2:AuthorizeSecurityGroupIngress" }),
        }),
      ],
    });
    events.destroy();
  });
});

/**
 * moto speaks BatchImportFindings and GetFindings but not BatchUpdateFindings (it answers 404): that
 * one call is answered here, and what was asked is kept for the test to check.
 */
function withWorkflowUpdates(hub: SecurityHubClient): BatchUpdateFindingsCommandInput[] {
  const asked: BatchUpdateFindingsCommandInput[] = [];
  hub.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "BatchUpdateFindingsCommand") return next(args);
      const input = args.input as BatchUpdateFindingsCommandInput;
      asked.push(input);
      return {
        output: { $metadata: {}, ProcessedFindings: input.FindingIdentifiers, UnprocessedFindings: [] },
        response: {},
      } as unknown as Awaited<ReturnType<typeof next>>;
    },
    { step: "initialize", name: "answerBatchUpdateFindings" },
  );
  return asked;
}

describe("SecurityHubNotifier", () => {
  const RULE = "sg-ingress-internet-sensitive-port";
  const later = { now: () => new Date("2026-11-23T08:00:00.000Z") };

  it("keeps one finding per resource and rule: opened by a violation, resolved in place by a compliant judgement", async () => {
    const hub = new SecurityHubClient(moto.clientConfig);
    const workflow = withWorkflowUpdates(hub);
    const resource = `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group/sg-0resolve`;
    const violation = auditRecord({
      account: ACCOUNT,
      resource,
      outcome: "notified",
      mode: "notify",
      requestIds: [],
    });
    const again = { ...violation, eventId: "second-event-same-rule" };
    const fixed = auditRecord({
      eventId: "person-fixed-it",
      account: ACCOUNT,
      resource,
      verdict: "compliant",
      outcome: "no-action",
      rules: [],
      findings: [],
      plan: [],
      requestIds: [],
      passedRules: [RULE],
    });

    await new SecurityHubNotifier(hub, { account: ACCOUNT, region: "eu-west-1", clock }).notify(violation);
    await new SecurityHubNotifier(hub, { account: ACCOUNT, region: "eu-west-1", clock }).notify(again);
    const opened = (await hub.send(new GetFindingsCommand({}))).Findings?.filter(
      (f) => f.Resources?.[0]?.Id === resource,
    );
    await new SecurityHubNotifier(hub, { account: ACCOUNT, region: "eu-west-1", clock: later }).notify(fixed);
    const closed = (await hub.send(new GetFindingsCommand({}))).Findings?.filter(
      (f) => f.Resources?.[0]?.Id === resource,
    );

    const id = `s3files-remediator/${ACCOUNT}/eu-west-1/${RULE}/${resource}`;
    expect(opened).toHaveLength(1);
    expect(opened?.[0]).toMatchObject({
      Id: id,
      ProductArn: `arn:aws:securityhub:eu-west-1:${ACCOUNT}:product/${ACCOUNT}/default`,
      AwsAccountId: ACCOUNT,
      Compliance: { Status: "FAILED" },
      Workflow: { Status: "NEW" },
      RecordState: "ACTIVE",
      Severity: { Label: "CRITICAL" },
      SourceUrl: "https://console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-0resolve",
      Remediation: {
        Recommendation: { Url: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html" },
      },
    });
    expect(closed).toHaveLength(1);
    expect(closed?.[0]).toMatchObject({
      Id: id,
      Compliance: { Status: "PASSED" },
      RecordState: "ACTIVE",
      Severity: { Label: "INFORMATIONAL", Original: "critical" },
      UpdatedAt: "2026-11-23T08:00:00.000Z",
      CreatedAt: opened?.[0]?.CreatedAt,
    });
    // The workflow of an existing finding moves through BatchUpdateFindings, as AWS requires.
    expect(workflow).toEqual([
      expect.objectContaining({
        FindingIdentifiers: [
          { Id: id, ProductArn: `arn:aws:securityhub:eu-west-1:${ACCOUNT}:product/${ACCOUNT}/default` },
        ],
        Workflow: { Status: "RESOLVED" },
      }),
    ]);
    hub.destroy();
  });

  it("creates an exempted finding SUPPRESSED, with the exemption in its note, at the rule's severity", async () => {
    const hub = new SecurityHubClient(moto.clientConfig);
    withWorkflowUpdates(hub);
    const resource = `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group/sg-0exempt`;
    const notifier = new SecurityHubNotifier(hub, { account: ACCOUNT, region: "eu-west-1", clock });

    await notifier.notify(
      auditRecord({
        account: ACCOUNT,
        resource,
        verdict: "exempted",
        outcome: "notified",
        plan: [],
        requestIds: [],
        reason: "exempted until 2026-12-31 (owner team-storage): migration window.",
      }),
    );

    const { Findings = [] } = await hub.send(new GetFindingsCommand({}));
    const finding = Findings.find((f) => f.Resources?.[0]?.Id === resource);
    expect(finding).toMatchObject({
      Severity: { Label: "CRITICAL" },
      Compliance: { Status: "FAILED" },
      Workflow: { Status: "SUPPRESSED" },
      Note: { Text: expect.stringContaining("owner team-storage"), UpdatedBy: "s3files-remediator" },
    });
    hub.destroy();
  });
});

describe("SlackNotifier", () => {
  let server: Server;
  let posts: { body: Record<string, unknown>; contentType: string | undefined }[] = [];
  let status = 200;
  let webhookUrl = "";

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      request.on("end", () => {
        posts.push({
          body: JSON.parse(body) as Record<string, unknown>,
          contentType: request.headers["content-type"],
        });
        response
          .writeHead(status, { "content-type": "text/plain" })
          .end(status === 200 ? "ok" : "no_service");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("reads the webhook URL from Secrets Manager once and posts a Block Kit message per decision", async () => {
    posts = [];
    status = 200;
    const secrets = new SecretsManagerClient(moto.clientConfig);
    const { ARN } = await secrets.send(
      new CreateSecretCommand({ Name: "slack-webhook-1", SecretString: JSON.stringify({ webhookUrl }) }),
    );
    let secretReads = 0;
    secrets.middlewareStack.add(
      (next) => async (args) => {
        secretReads++;
        return next(args);
      },
      { step: "initialize" },
    );
    const notifier = new SlackNotifier(secrets, { secretId: ARN ?? "" });

    await notifier.notify(auditRecord());
    await notifier.notify(auditRecord({ eventId: "second" }));

    expect(secretReads).toBe(1);
    expect(posts).toHaveLength(2);
    expect(posts[0]?.contentType).toBe("application/json");
    const message = posts[0]?.body as { text: string; blocks: { type: string; text: { text: string } }[] };
    expect(message.text).toContain("Reverted: AuthorizeSecurityGroupIngress on sg-0a1b2c3d4e5f60718");
    const text = message.blocks.map((block) => block.text.text).join("\n");
    expect(text).toContain("*Source IP:* 203.0.113.7");
    expect(text).toContain("- rules[ruleId=sgr-0aaa1111]");
    expect(text).toContain("aws ec2 authorize-security-group-ingress");
    expect(text).toContain(
      "*Console:* <https://console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-0a1b2c3d4e5f60718|open the resource>",
    );
    expect(text).toContain("*Why these rules exist*");
    expect(text).toContain("*What to do now*");
    secrets.destroy();
  });

  it("fails loudly on a refused post and reads the secret again after the webhook is revoked", async () => {
    posts = [];
    const secrets = new SecretsManagerClient(moto.clientConfig);
    await secrets.send(new CreateSecretCommand({ Name: "slack-webhook-2", SecretString: webhookUrl }));
    const notifier = new SlackNotifier(secrets, { secretId: "slack-webhook-2" });
    status = 410;

    await expect(notifier.notify(auditRecord())).rejects.toThrow(
      "Slack webhook answered HTTP 410: no_service",
    );
    await secrets.send(
      new UpdateSecretCommand({ SecretId: "slack-webhook-2", SecretString: `${webhookUrl}?rotated=1` }),
    );
    status = 200;
    await notifier.notify(auditRecord());

    expect(posts).toHaveLength(2);
    secrets.destroy();
  });
});

describe("notifyAll with the real channels", () => {
  it("delivers to every healthy channel and returns, not throws, the failure of a broken one", async () => {
    const sns = new SNSClient(moto.clientConfig);
    const events = new EventBridgeClient(moto.clientConfig);
    const hub = new SecurityHubClient(moto.clientConfig);
    withWorkflowUpdates(hub);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "fanout-alerts" }));
    const inbox = await queue();
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: inbox.arn }));
    const notifiers = [
      new SnsNotifier(sns, { topicArn: TopicArn ?? "" }),
      new EventBridgeNotifier(events, { eventBusName: "default" }),
      new SecurityHubNotifier(hub, { account: ACCOUNT, region: "eu-west-1", clock }),
      new SnsNotifier(sns, { topicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:no-such-topic` }),
    ];

    const result = await notifyAll(notifiers, auditRecord({ eventId: "fanout-1", account: ACCOUNT }));

    expect([...result.sent].sort()).toEqual(["eventbridge", "securityhub", "sns"]);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]?.notifier).toBe("sns");
    expect(await receive(inbox.url)).toHaveLength(1);
    sns.destroy();
    events.destroy();
    hub.destroy();
  });
});
