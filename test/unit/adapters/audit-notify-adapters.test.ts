/** The audit and notification adapters with their SDK calls answered by aws-sdk-client-mock. */

import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import {
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
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
import { RejectedByChannelError } from "../../../shared/runtime/notifier-errors.ts";
import { pipelineObserver } from "../../../shared/runtime/observability.ts";
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
        // No U+FFFD in the input: the point is that a cut never makes one.
        fc.string({ unit: "grapheme", maxLength: 400 }).filter((text) => !text.includes("\uFFFD")),
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
  const HOME = "111122223333";
  const PRODUCT = `arn:aws:securityhub:eu-west-1:${HOME}:product/${HOME}/default`;
  const RULE = "sg-ingress-internet-sensitive-port";
  const notifierWith = (hub: SecurityHubClient) =>
    new SecurityHubNotifier(hub, { account: HOME, region: "eu-west-1", clock });
  const idOf = (record = auditRecord()) =>
    findingId(record.account ?? HOME, record.region ?? "eu-west-1", RULE, record.resource ?? "");
  /** A finding as Security Hub would return it (synthetic: GetFindings echoes what was imported). */
  const stored = (overrides: Partial<AwsSecurityFinding> = {}): AwsSecurityFinding =>
    ({
      Id: idOf(),
      ProductArn: PRODUCT,
      CreatedAt: "2026-11-01T08:00:00.000Z",
      FirstObservedAt: "2026-11-01T07:59:00Z",
      Workflow: { Status: "NEW" as const },
      Compliance: { Status: "FAILED" as const },
      RecordState: "ACTIVE" as const,
      ...overrides,
    }) as AwsSecurityFinding;
  const notifyMode = auditRecord({ outcome: "notified", mode: "notify", after: null, requestIds: [] });

  it("raises one finding per resource and rule, whatever the event: its id names account, region, rule and resource", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub).on(GetFindingsCommand).resolves({ Findings: [] });
    mock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });

    await notifierWith(hub).notify(notifyMode);
    await notifierWith(hub).notify({ ...notifyMode, eventId: "another-event" });

    const ids = mock.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings?.[0]?.Id);
    expect(ids).toEqual([
      `s3files-remediator/111122223333/eu-west-1/${RULE}/${notifyMode.resource}`,
      `s3files-remediator/111122223333/eu-west-1/${RULE}/${notifyMode.resource}`,
    ]);
    const finding = mock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0];
    expect(finding).toMatchObject({
      ProductArn: PRODUCT,
      AwsAccountId: HOME,
      GeneratorId: RULE,
      Title: "Security group admits the internet to a sensitive port: sg-0a1b2c3d4e5f60718",
      Severity: { Label: "CRITICAL", Original: "critical" },
      FindingProviderFields: { Severity: { Label: "CRITICAL", Original: "critical" } },
      Compliance: { Status: "FAILED" },
      RecordState: "ACTIVE",
      Workflow: { Status: "NEW" },
      SourceUrl:
        "https://console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-0a1b2c3d4e5f60718",
      Remediation: {
        Recommendation: { Url: "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html" },
      },
    });
    expect(finding?.Remediation?.Recommendation?.Text).toContain("still unsafe");
    // The lookup asks Security Hub for exactly this product's finding ids.
    expect(mock.commandCalls(GetFindingsCommand)[0]?.args[0].input.Filters).toEqual({
      Id: [{ Value: idOf(), Comparison: "EQUALS" }],
      ProductArn: [{ Value: PRODUCT, Comparison: "EQUALS" }],
    });
  });

  it("resolves the finding when a later decision judges the resource compliant (a person fixed it)", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub)
      .on(GetFindingsCommand)
      .resolves({ Findings: [stored()] });
    mock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
    mock.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const fixed = auditRecord({
      eventName: "RevokeSecurityGroupIngress",
      verdict: "compliant",
      outcome: "no-action",
      rules: [],
      findings: [],
      plan: [],
      requestIds: [],
      passedRules: [RULE],
      reason: "no rule found a violation.",
    });

    await notifierWith(hub).notify(fixed);

    const finding = mock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0];
    expect(finding).toMatchObject({
      Id: idOf(),
      Compliance: { Status: "PASSED" },
      RecordState: "ACTIVE",
      Severity: { Label: "INFORMATIONAL", Original: "high" },
      CreatedAt: "2026-11-01T08:00:00.000Z",
      FirstObservedAt: "2026-11-01T07:59:00Z",
      UpdatedAt: "2026-11-22T12:00:00.000Z",
    });
    // BatchImportFindings cannot change the workflow of an existing finding: BatchUpdateFindings does.
    expect(finding?.Workflow).toBeUndefined();
    expect(mock.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input).toMatchObject({
      FindingIdentifiers: [{ Id: idOf(), ProductArn: PRODUCT }],
      Workflow: { Status: "RESOLVED" },
      Note: { UpdatedBy: "s3files-remediator" },
    });
  });

  it("creates no finding for a compliant resource that never had one, and leaves a resolved one alone", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub);
    mock
      .on(GetFindingsCommand)
      .resolvesOnce({ Findings: [] })
      .resolves({
        Findings: [stored({ Workflow: { Status: "RESOLVED" }, Compliance: { Status: "PASSED" } })],
      });
    const compliant = auditRecord({
      verdict: "compliant",
      outcome: "no-action",
      rules: [],
      findings: [],
      passedRules: [RULE],
    });

    await notifierWith(hub).notify(compliant);
    await notifierWith(hub).notify(compliant);
    await notifierWith(hub).notify(
      auditRecord({ verdict: "compliant", outcome: "no-action", rules: [], findings: [] }),
    );

    expect(mock.commandCalls(GetFindingsCommand)).toHaveLength(2);
    expect(mock.commandCalls(BatchImportFindingsCommand)).toHaveLength(0);
  });

  it("archives the finding when the resource is deleted", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub)
      .on(GetFindingsCommand)
      .resolves({ Findings: [stored()] });
    mock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
    mock.on(BatchUpdateFindingsCommand).resolves({ UnprocessedFindings: [] });

    await notifierWith(hub).notify(
      auditRecord({
        verdict: "compliant",
        outcome: "already-compliant",
        rules: [],
        findings: [],
        passedRules: [RULE],
        resourceGone: true,
      }),
    );

    expect(mock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0]).toMatchObject({
      RecordState: "ARCHIVED",
      Compliance: { Status: "PASSED" },
    });
    expect(mock.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input.Workflow).toEqual({
      Status: "RESOLVED",
    });
  });

  it("suppresses an exempted finding with the exemption's owner and expiry in the note", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub);
    mock
      .on(GetFindingsCommand)
      .resolvesOnce({ Findings: [] })
      .resolves({ Findings: [stored()] });
    mock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
    mock.on(BatchUpdateFindingsCommand).resolves({ UnprocessedFindings: [] });
    const exempted = auditRecord({
      verdict: "exempted",
      outcome: "notified",
      after: null,
      requestIds: [],
      plan: [],
      reason: "exempted until 2026-12-31 (owner team-storage): migration window.",
    });

    await notifierWith(hub).notify(exempted); // first seen: created suppressed
    await notifierWith(hub).notify(exempted); // already open as NEW: suppressed by update

    const created = mock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0];
    expect(created?.Workflow).toEqual({ Status: "SUPPRESSED" });
    expect(created?.Note?.Text).toBe(
      "Exempted: exempted until 2026-12-31 (owner team-storage): migration window.",
    );
    expect(created?.Compliance).toEqual({ Status: "FAILED" });
    expect(mock.commandCalls(BatchUpdateFindingsCommand)[0]?.args[0].input).toMatchObject({
      Workflow: { Status: "SUPPRESSED" },
      Note: { Text: expect.stringContaining("owner team-storage"), UpdatedBy: "s3files-remediator" },
    });
  });

  it("reopens a finding it suppressed once the exemption is over, but never one a person suppressed", async () => {
    const hub = new SecurityHubClient(local);
    const mine = stored({
      Workflow: { Status: "SUPPRESSED" },
      Note: { Text: "x", UpdatedBy: "s3files-remediator", UpdatedAt: "2026-11-02T00:00:00Z" },
    });
    const theirs = stored({
      Workflow: { Status: "SUPPRESSED" },
      Note: {
        Text: "accepted risk",
        UpdatedBy: "arn:aws:iam::1:user/bob",
        UpdatedAt: "2026-11-02T00:00:00Z",
      },
    });
    const mock = mockClient(hub);
    mock
      .on(GetFindingsCommand)
      .resolvesOnce({ Findings: [mine] })
      .resolves({ Findings: [theirs] });
    mock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
    mock.on(BatchUpdateFindingsCommand).resolves({ UnprocessedFindings: [] });

    await notifierWith(hub).notify(notifyMode);
    await notifierWith(hub).notify(notifyMode);

    const updates = mock.commandCalls(BatchUpdateFindingsCommand);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.args[0].input.Workflow).toEqual({ Status: "NEW" });
  });

  it("imports a member account's finding as the central account's, naming the member's resource", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub).on(GetFindingsCommand).resolves({ Findings: [] });
    mock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
    const member = auditRecord({
      ...notifyMode,
      account: "444455556666",
      resource: "arn:aws:ec2:eu-west-1:444455556666:security-group/sg-0a1b2c3d4e5f60718",
    });

    await notifierWith(hub).notify(member);

    const finding = mock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0];
    // BatchImportFindings with the default product: the caller must be the finding's AwsAccountId.
    expect(finding?.AwsAccountId).toBe(HOME);
    expect(finding?.ProductArn).toBe(PRODUCT);
    expect(finding?.Resources?.[0]?.Id).toBe(member.resource);
    expect(finding?.ProductFields?.["s3files-remediator/resourceAccount"]).toBe("444455556666");
    expect(finding?.Id).toContain("/444455556666/");
  });

  it("fails with the refused findings when Security Hub refuses one, and counts them as a metric", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub).on(GetFindingsCommand).resolves({ Findings: [] });
    mock.on(BatchImportFindingsCommand).resolves({
      FailedCount: 1,
      SuccessCount: 0,
      FailedFindings: [{ Id: idOf(), ErrorCode: "AccessDeniedException", ErrorMessage: "wrong account" }],
    });
    const metrics: [string, number][] = [];
    const observer = pipelineObserver(
      { error: () => undefined } as unknown as Logger,
      {
        addMetric: (name: string, _unit: unknown, value: number) => metrics.push([name, value]),
      } as unknown as Metrics,
    );

    const error = await notifierWith(hub)
      .notify(notifyMode)
      .catch((e: unknown) => e);
    observer.notifyFailed?.("securityhub", notifyMode, error);

    expect(error).toBeInstanceOf(RejectedByChannelError);
    expect(String(error)).toContain("Security Hub refused 1 finding update(s)");
    expect(String(error)).toContain("AccessDeniedException wrong account");
    expect(metrics).toEqual([
      ["notify_failed", 1],
      ["securityhub_rejected", 1],
    ]);
  });

  it("puts each finding in its region's partition", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub).on(GetFindingsCommand).resolves({ Findings: [] });
    mock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
    const notifier = new SecurityHubNotifier(hub, { account: HOME, region: "cn-north-1", clock });

    await notifier.notify(auditRecord({ ...notifyMode, region: "cn-north-1" }));

    const finding = mock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input.Findings?.[0];
    expect(finding?.ProductArn).toBe(`arn:aws-cn:securityhub:cn-north-1:${HOME}:product/${HOME}/default`);
    expect(finding?.Resources?.[0]?.Partition).toBe("aws-cn");
  });

  it("names a bucket as an AwsS3Bucket resource", async () => {
    const hub = new SecurityHubClient(local);
    const mock = mockClient(hub).on(GetFindingsCommand).resolves({ Findings: [] });
    mock.on(BatchImportFindingsCommand).resolves({ FailedCount: 0, SuccessCount: 1 });
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
