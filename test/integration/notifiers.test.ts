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
import { GetFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
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
    expect(envelope.Message).toContain(
      '- rules[SecurityGroupRuleId=sgr-0aaa1111]: {"SecurityGroupRuleId":"sgr-0aaa1111"',
    );
    expect(envelope.Message).toContain(
      `aws ec2 authorize-security-group-ingress --group-id sg-0a1b2c3d4e5f60718 --ip-permissions '[{"IpProtocol":"tcp","FromPort":2049,"ToPort":2049,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]'`,
    );
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
    });
    events.destroy();
  });
});

describe("SecurityHubNotifier", () => {
  it("imports an ASFF finding, RESOLVED when remediated, and updates it (not duplicates it) on a re-send", async () => {
    const hub = new SecurityHubClient(moto.clientConfig);
    const notifier = new SecurityHubNotifier(hub, { account: ACCOUNT, region: "eu-west-1", clock });

    await notifier.notify(auditRecord({ account: ACCOUNT, outcome: "notified", mode: "notify" }));
    await notifier.notify(auditRecord({ account: ACCOUNT }));

    const { Findings = [] } = await hub.send(new GetFindingsCommand({}));
    expect(Findings).toHaveLength(1);
    expect(Findings[0]).toMatchObject({
      SchemaVersion: "2018-10-08",
      Id: "s3files-remediator/4b8e1c3a-2f6d-4e7a-9b1c-0d2e3f4a5b6c/sg-ingress-internet-sensitive-port",
      ProductArn: `arn:aws:securityhub:eu-west-1:${ACCOUNT}:product/${ACCOUNT}/default`,
      GeneratorId: "sg-ingress-internet-sensitive-port",
      AwsAccountId: ACCOUNT,
      Types: ["Software and Configuration Checks/AWS Security Best Practices/Network Reachability"],
      Severity: { Label: "INFORMATIONAL", Original: "critical" },
      Resources: [{ Type: "AwsEc2SecurityGroup", Id: SG_ARN, Partition: "aws", Region: "eu-west-1" }],
      Compliance: { Status: "PASSED" },
      Workflow: { Status: "RESOLVED" },
    });
    hub.destroy();
  });

  it("leaves an unremediated violation NEW and FAILED at the rule's severity", async () => {
    const hub = new SecurityHubClient(moto.clientConfig);
    const notifier = new SecurityHubNotifier(hub, { account: ACCOUNT, region: "eu-west-1", clock });

    await notifier.notify(
      auditRecord({ eventId: "exempt-1", account: ACCOUNT, verdict: "exempted", outcome: "notified" }),
    );

    const { Findings = [] } = await hub.send(new GetFindingsCommand({}));
    const finding = Findings.find((f) => f.Id?.includes("exempt-1"));
    expect(finding).toMatchObject({
      Severity: { Label: "CRITICAL" },
      Compliance: { Status: "FAILED" },
      Workflow: { Status: "NEW" },
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
    expect(text).toContain("- rules[SecurityGroupRuleId=sgr-0aaa1111]");
    expect(text).toContain("aws ec2 authorize-security-group-ingress");
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
