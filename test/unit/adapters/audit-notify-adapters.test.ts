/** The audit and notification adapters with their SDK calls answered by aws-sdk-client-mock. */
import {
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { BatchImportFindingsCommand, SecurityHubClient } from "@aws-sdk/client-securityhub";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DynamoDbAuditLedger,
  daysNewestFirst,
  isRetryableDynamoDbError,
  markerKey,
  recordKey,
  truncateUtf8,
} from "../../../shared/adapters/audit-dynamodb.ts";
import { decisionDetail, EventBridgeNotifier } from "../../../shared/adapters/notify-eventbridge.ts";
import { findingId, SecurityHubNotifier } from "../../../shared/adapters/notify-securityhub.ts";
import { SlackNotifier, webhookUrlFromSecret } from "../../../shared/adapters/notify-slack.ts";
import { SnsNotifier } from "../../../shared/adapters/notify-sns.ts";
import { RemediatorError } from "../../../shared/core/errors.ts";
import { auditRecord } from "../../helpers/audit-records.ts";

const clock = { now: () => new Date("2026-11-22T12:00:00.000Z") };
const local = { region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } };

describe("audit ledger keys and limits", () => {
  it("keys a record by its UTC day and decision time, and a marker by its eventId", () => {
    expect(recordKey(new Date("2026-11-20T23:59:59.999+00:00"), "e-1")).toEqual({
      pk: "DAY#2026-11-20",
      sk: "2026-11-20T23:59:59.999Z#e-1",
    });
    expect(markerKey("e-1")).toEqual({ pk: "EVENT#e-1", sk: "EVENT#e-1" });
    expect(markerKey("x".repeat(600)).pk).toMatch(/^EVENT#sha256:[0-9a-f]{64}$/);
  });

  it("lists the days of a range newest first, until excluded", () => {
    expect(daysNewestFirst(new Date("2026-11-18T12:00:00Z"), new Date("2026-11-21T00:00:00Z"))).toEqual([
      "2026-11-20",
      "2026-11-19",
      "2026-11-18",
    ]);
    expect(daysNewestFirst(new Date("2026-11-18T12:00:00Z"), new Date("2026-11-18T12:00:00Z"))).toEqual([]);
  });

  it("truncates to the byte budget without splitting a character, and only when needed", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 400 }),
        fc.integer({ min: 80, max: 600 }),
        (text, budget) => {
          const cut = truncateUtf8(text, budget);
          expect(Buffer.byteLength(cut.text)).toBeLessThanOrEqual(
            Math.max(budget, Buffer.byteLength(text) <= budget ? 0 : budget),
          );
          expect(cut.truncated).toBe(Buffer.byteLength(text) > budget);
          expect(cut.text).not.toContain("\uFFFD");
          if (!cut.truncated) expect(cut.text).toBe(text);
        },
      ),
    );
  });
});

describe("audit ledger errors", () => {
  it("surfaces throttling as a retryable RemediatorError", async () => {
    const ddb = new DynamoDBClient({ ...local, maxAttempts: 1 });
    // The ledger wraps the client in a document client: mock that class.
    const mock = mockClient(DynamoDBDocumentClient);
    mock
      .on(TransactWriteCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: "slow down", $metadata: {} }));
    const ledger = new DynamoDbAuditLedger(ddb, { tableName: "audit", clock });

    const attempt = ledger.record(auditRecord());

    await expect(attempt).rejects.toBeInstanceOf(RemediatorError);
    await expect(attempt).rejects.toMatchObject({ retryable: true });
    mock.restore();
  });

  it("tells a conflicting transaction (retry) from a duplicate (done)", async () => {
    const ddb = new DynamoDBClient(local);
    const mock = mockClient(DynamoDBDocumentClient);
    const cancelled = (codes: string[]) =>
      new TransactionCanceledException({
        message: "cancelled",
        $metadata: {},
        CancellationReasons: codes.map((Code) => ({ Code })),
      });
    const ledger = new DynamoDbAuditLedger(ddb, { tableName: "audit", clock });

    mock
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(["None", "TransactionConflict"]))
      .rejectsOnce(cancelled(["None", "ConditionalCheckFailed"]));
    await expect(ledger.record(auditRecord())).rejects.toMatchObject({ retryable: true });
    await expect(ledger.record(auditRecord())).resolves.toBe("duplicate");
    mock.restore();
  });

  it("classifies 5xx and timeouts as retryable, validation as not", () => {
    expect(isRetryableDynamoDbError({ name: "InternalServerError" })).toBe(true);
    expect(isRetryableDynamoDbError({ name: "X", $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isRetryableDynamoDbError({ name: "TimeoutError" })).toBe(true);
    expect(
      isRetryableDynamoDbError({ name: "ValidationException", $metadata: { httpStatusCode: 400 } }),
    ).toBe(false);
    expect(isRetryableDynamoDbError("boom")).toBe(false);
  });
});

describe("EventBridgeNotifier", () => {
  it("fails when PutEvents refuses the entry, although the call itself succeeded", async () => {
    const events = new EventBridgeClient(local);
    mockClient(events)
      .on(PutEventsCommand)
      .resolves({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "try later" }],
      });
    const notifier = new EventBridgeNotifier(events, { eventBusName: "bus" });

    await expect(notifier.notify(auditRecord())).rejects.toThrow(
      "EventBridge refused the decision event for 4b8e1c3a-2f6d-4e7a-9b1c-0d2e3f4a5b6c: InternalFailure try later",
    );
  });

  it("sends source, detail-type, bus, resource ARN and decision time", async () => {
    const events = new EventBridgeClient(local);
    const mock = mockClient(events)
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: "1" }] });
    const notifier = new EventBridgeNotifier(events, {
      eventBusName: "arn:aws:events:eu-west-1:1:event-bus/sec",
    });

    await notifier.notify(auditRecord({ resource: "sg-1" }));

    const entry = mock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      EventBusName: "arn:aws:events:eu-west-1:1:event-bus/sec",
      Source: "s3files-remediator",
      DetailType: "Remediation Decision",
      Resources: [],
      Time: new Date("2026-11-20T10:00:01.250Z"),
    });
  });

  it("leaves a huge before/after out of the event (the audit record keeps them)", () => {
    const huge = { blob: "x".repeat(300_000) };

    const detail = decisionDetail(auditRecord({ before: huge, after: huge }));

    expect(detail).toMatchObject({ before: null, after: null, stateOmitted: true, verdict: "violation" });
  });
});

describe("SecurityHubNotifier", () => {
  it("fails when Security Hub refuses a finding", async () => {
    const hub = new SecurityHubClient(local);
    mockClient(hub)
      .on(BatchImportFindingsCommand)
      .resolves({
        FailedCount: 1,
        SuccessCount: 0,
        FailedFindings: [{ Id: "x", ErrorCode: "InvalidInput", ErrorMessage: "bad" }],
      });
    const notifier = new SecurityHubNotifier(hub, { account: "111122223333", region: "eu-west-1", clock });

    await expect(notifier.notify(auditRecord())).rejects.toThrow("Security Hub refused 1 finding(s)");
  });

  it("sends one finding per rule, none when no rule fired, in the region's partition", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub).on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 2 });
    const notifier = new SecurityHubNotifier(hub, { account: "111122223333", region: "cn-north-1", clock });
    const twoRules = auditRecord({
      rules: ["rule-a", "rule-b"],
      findings: [
        { rule: "rule-a", severity: "high", message: "a" },
        { rule: "rule-b", severity: "low", message: "b" },
      ],
      outcome: "failed",
      verdict: "failed",
    });

    await notifier.notify(twoRules);
    await notifier.notify(auditRecord({ rules: [], findings: [], verdict: "failed" }));

    const calls = mock.commandCalls(BatchImportFindingsCommand);
    expect(calls).toHaveLength(1);
    const findings = calls[0]?.args[0].input.Findings ?? [];
    expect(findings.map((f) => [f.Id, f.Severity?.Label, f.Workflow?.Status, f.Compliance?.Status])).toEqual([
      [findingId(twoRules.eventId, "rule-a"), "HIGH", "NEW", "FAILED"],
      [findingId(twoRules.eventId, "rule-b"), "LOW", "NEW", "FAILED"],
    ]);
    expect(findings[0]?.ProductArn).toBe(
      "arn:aws-cn:securityhub:cn-north-1:111122223333:product/111122223333/default",
    );
    expect(findings[0]?.Action?.AwsApiCallAction?.RemoteIpDetails?.IpAddressV4).toBe("203.0.113.7");
    expect(findings[0]?.UpdatedAt).toBe("2026-11-22T12:00:00.000Z");
  });

  it("names a bucket as an AwsS3Bucket resource", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub).on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
    const notifier = new SecurityHubNotifier(hub, { account: "111122223333", region: "eu-west-1", clock });

    await notifier.notify(auditRecord({ resource: "arn:aws:s3:::fs-data-bucket" }));

    const resources =
      mock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0]?.Resources;
    expect(resources?.[0]).toMatchObject({ Type: "AwsS3Bucket", Id: "arn:aws:s3:::fs-data-bucket" });
  });
});

describe("SnsNotifier", () => {
  it("deduplicates on a FIFO topic by the eventId", async () => {
    const sns = new SNSClient(local);
    const mock = mockClient(sns).on(PublishCommand).resolves({ MessageId: "m" });
    const notifier = new SnsNotifier(sns, { topicArn: "arn:aws:sns:eu-west-1:111122223333:alerts.fifo" });

    await notifier.notify(auditRecord());

    const input = mock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(input?.MessageGroupId).toBe(auditRecord().resource);
    expect(input?.MessageAttributes?.rules).toEqual({
      DataType: "String.Array",
      StringValue: '["sg-ingress-internet-sensitive-port"]',
    });
  });
});

describe("SlackNotifier", () => {
  it("reads the URL from a plain or JSON secret and refuses plain http to a remote host", () => {
    expect(webhookUrlFromSecret(" https://hooks.slack.com/services/T/B/X ")).toBe(
      "https://hooks.slack.com/services/T/B/X",
    );
    expect(webhookUrlFromSecret('{"webhookUrl":"https://hooks.slack.com/services/T/B/Y"}')).toBe(
      "https://hooks.slack.com/services/T/B/Y",
    );
    expect(() => webhookUrlFromSecret("http://hooks.slack.com/services/T/B/X")).toThrow("must be https");
    expect(() => webhookUrlFromSecret('{"token":"x"}')).toThrow('without a "webhookUrl"');
  });

  it("posts through the injected fetch, and reads the secret again after a failed read", async () => {
    const secrets = new SecretsManagerClient(local);
    const mock = mockClient(secrets);
    mock
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error("throttled"))
      .resolves({ SecretString: "https://hooks.slack.com/services/T/B/Z" });
    const posted: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      posted.push(String(input));
      return new Response("ok", { status: 200 });
    };
    const notifier = new SlackNotifier(secrets, { secretId: "slack", fetch: fakeFetch });

    await expect(notifier.notify(auditRecord())).rejects.toThrow("throttled");
    await notifier.notify(auditRecord());
    await notifier.notify(auditRecord());

    expect(posted).toEqual([
      "https://hooks.slack.com/services/T/B/Z",
      "https://hooks.slack.com/services/T/B/Z",
    ]);
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it("escapes Slack's control characters in caller-supplied text", async () => {
    const secrets = new SecretsManagerClient(local);
    mockClient(secrets)
      .on(GetSecretValueCommand)
      .resolves({ SecretString: "https://hooks.slack.com/services/T/B/Z" });
    let body = "";
    const fakeFetch: typeof fetch = async (_input, init) => {
      body = String(init?.body);
      return new Response("ok", { status: 200 });
    };
    const notifier = new SlackNotifier(secrets, { secretId: "slack", fetch: fakeFetch });

    await notifier.notify(auditRecord({ userAgent: "<!channel> & <https://evil.example|click>" }));

    expect(body).toContain("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;");
    expect(body).not.toContain("<!channel>");
  });
});
