/**
 * A conditional write whose answer was lost (the write happened; the retry finds its own item) is
 * resolved by reading back, never guessed: the ledger's marker and the claim carry the writer's
 * random token. Also: each record's outbox is written in the same transaction as the record, and
 * every notification carries the decision id.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { DynamoDbAuditLedger, markerKey, outboxKey } from "../../../shared/adapters/audit-dynamodb.ts";
import { DynamoDbStateStore } from "../../../shared/adapters/dynamodb-state.ts";
import { decisionDetail } from "../../../shared/adapters/notify-eventbridge.ts";
import { slackMessage } from "../../../shared/adapters/notify-slack.ts";
import { SnsNotifier } from "../../../shared/adapters/notify-sns.ts";
import { describeDecision } from "../../../shared/runtime/notification-text.ts";
import { auditRecord } from "../../helpers/audit-records.ts";

const clock = { now: () => new Date("2026-11-29T12:00:00.000Z") };
const local = { region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } };
const retry = { maxAttempts: 3, baseDelayMs: 0, sleep: async () => {} };
const mock = mockClient(DynamoDBDocumentClient);

afterEach(() => mock.reset());

type Items = { Put?: { TableName?: string; Item?: Record<string, unknown> } }[];
const dropped = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET", $metadata: {} });
const cancelled = () =>
  new TransactionCanceledException({
    message: "cancelled",
    $metadata: {},
    CancellationReasons: [{ Code: "ConditionalCheckFailed" }, { Code: "ConditionalCheckFailed" }],
  });

describe("the ledger's transaction", () => {
  function ledger() {
    return new DynamoDbAuditLedger(new DynamoDBClient(local), {
      tableName: "audit",
      clock,
      retry,
      outboxTableName: "state",
    });
  }

  it("writes the record, its marker and its outbox at once", async () => {
    mock.on(TransactWriteCommand).resolves({});
    const record = auditRecord();

    expect(await ledger().record(record, ["sns", "eventbridge"])).toBe("written");

    const items = mock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems as Items;
    expect(items.map((i) => i.Put?.TableName)).toEqual(["audit", "audit", "state"]);
    expect(items[2]?.Put?.Item).toMatchObject({ ...outboxKey(record.eventId), owed: ["sns", "eventbridge"] });
  });

  it("reads back its own marker after a lost answer: written, not duplicate", async () => {
    let token: unknown;
    mock
      .on(TransactWriteCommand)
      .callsFakeOnce((input: { TransactItems: Items }) => {
        token = input.TransactItems[1]?.Put?.Item?.writeToken;
        throw dropped();
      })
      .rejects(cancelled());
    mock.on(GetCommand).callsFake(() => ({ Item: { ...markerKey("e"), writeToken: token } }));

    expect(await ledger().record(auditRecord())).toBe("written");
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it("another attempt's marker is a duplicate", async () => {
    mock.on(TransactWriteCommand).rejects(cancelled());
    mock.on(GetCommand).resolves({ Item: { ...markerKey("e"), writeToken: "someone-else" } });

    expect(await ledger().record(auditRecord())).toBe("duplicate");
  });
});

describe("the claim", () => {
  function store() {
    return new DynamoDbStateStore(DynamoDBDocumentClient.from(new DynamoDBClient(local)), {
      tableName: "state",
      retry,
      dedupeTtlDays: 1,
    });
  }
  const conditionFailed = () => new ConditionalCheckFailedException({ message: "failed", $metadata: {} });

  it("reads back its own claim after a lost answer, and takes it as taken over", async () => {
    let owner: unknown;
    mock
      .on(PutCommand)
      .callsFakeOnce((input: { Item: Record<string, unknown> }) => {
        owner = input.Item.owner;
        throw dropped();
      })
      .rejects(conditionFailed());
    mock.on(GetCommand).callsFake(() => ({ Item: { status: "in-progress", owner } }));

    expect(await store().claimEvent("e", clock.now())).toBe("reclaimed");
  });

  it("someone else's claim is in progress; a completed one is done", async () => {
    mock.on(PutCommand).rejects(conditionFailed());
    mock
      .on(GetCommand)
      .resolvesOnce({ Item: { status: "in-progress", owner: "x" } })
      .resolves({ Item: { status: "done" } });

    expect(await store().claimEvent("e", clock.now())).toBe("in-progress");
    expect(await store().claimEvent("e", clock.now())).toBe("done");
  });

  it("replacing an earlier attempt's claim is reclaimed; releasing marks it released, only if still ours", async () => {
    mock
      .on(PutCommand)
      .resolvesOnce({ Attributes: { status: "released" } })
      .resolves({});
    const state = store();

    expect(await state.claimEvent("e", clock.now())).toBe("reclaimed");
    await state.releaseEvent("e");

    const release = mock.commandCalls(PutCommand)[1]?.args[0].input;
    expect(release?.Item).toMatchObject({ status: "released" });
    expect(release?.ConditionExpression).toBe("#status = :inProgress AND #owner = :owner");
  });
});

describe("the decision id", () => {
  it("is in every channel: SNS attribute and body, EventBridge detail, Slack text", async () => {
    const record = auditRecord();
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: "m" });

    await new SnsNotifier(new SNSClient(local), { topicArn: "arn:aws:sns:eu-west-1:123456789012:t" }).notify(
      record,
    );

    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.MessageAttributes?.decisionId?.StringValue).toBe(record.eventId);
    expect(input?.Message).toContain(`Decision id: ${record.eventId}`);
    expect(decisionDetail(record).decisionId).toBe(record.eventId);
    expect(slackMessage(describeDecision(record), record.eventId).text).toContain(
      `[decision ${record.eventId}]`,
    );
    sns.restore();
  });
});
