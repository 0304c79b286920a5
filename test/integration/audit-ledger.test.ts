import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoDbAuditLedger, type StoredAuditRecord } from "../../shared/adapters/audit-dynamodb.ts";
import { RemediatorError } from "../../shared/core/errors.ts";
import type { Clock } from "../../shared/runtime/ports.ts";
import { ALICE, auditRecord, SG_ARN } from "../helpers/audit-records.ts";
import { type Moto, startMoto } from "../helpers/moto.ts";

const clock: Clock = { now: () => new Date("2026-11-22T12:00:00.000Z") };
let moto: Moto;
let client: DynamoDBClient;
let table: string;
let tableCount = 0;

async function createTable(name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
}

async function collect(iterable: AsyncIterable<StoredAuditRecord>): Promise<StoredAuditRecord[]> {
  const out: StoredAuditRecord[] = [];
  for await (const record of iterable) out.push(record);
  return out;
}

beforeAll(async () => {
  moto = await startMoto();
  client = new DynamoDBClient(moto.clientConfig);
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  table = `audit-${++tableCount}`;
  await createTable(table);
});

describe("DynamoDbAuditLedger.record", () => {
  it("writes one record and reads every field back", async () => {
    const ledger = new DynamoDbAuditLedger(client, { tableName: table, clock });
    const entry = auditRecord();

    const result = await ledger.record(entry);

    expect(result).toBe("written");
    const stored = await ledger.get(entry.eventId);
    expect(stored).toEqual({ ...entry, recordedAt: "2026-11-22T12:00:00.000Z", truncated: [] });
  });

  it("keeps the rules a compliant decision passed and whether the resource was gone", async () => {
    const ledger = new DynamoDbAuditLedger(client, { tableName: table, clock });
    const entry = auditRecord({
      verdict: "compliant",
      outcome: "already-compliant",
      rules: [],
      findings: [],
      passedRules: ["sg-ingress-internet-sensitive-port"],
      resourceGone: true,
    });

    await ledger.record(entry);

    const stored = await ledger.get(entry.eventId);
    expect(stored?.passedRules).toEqual(["sg-ingress-internet-sensitive-port"]);
    expect(stored?.resourceGone).toBe(true);
  });

  it("stores the record under its day and decision time, with a marker for its eventId", async () => {
    const ledger = new DynamoDbAuditLedger(client, { tableName: table, clock });

    await ledger.record(auditRecord());

    const { Items = [] } = await client.send(new ScanCommand({ TableName: table }));
    const keys = Items.map((item) => `${item.pk?.S} | ${item.sk?.S}`).sort();
    expect(keys).toEqual([
      "DAY#2026-11-20 | 2026-11-20T10:00:01.250Z#4b8e1c3a-2f6d-4e7a-9b1c-0d2e3f4a5b6c",
      "EVENT#4b8e1c3a-2f6d-4e7a-9b1c-0d2e3f4a5b6c | EVENT#4b8e1c3a-2f6d-4e7a-9b1c-0d2e3f4a5b6c",
    ]);
    const record = Items.find((item) => item.pk?.S?.startsWith("DAY#"));
    expect(record?.before?.S).toContain('"ruleId":"sgr-0aaa1111"');
    expect(record?.rules?.L).toEqual([{ S: "sg-ingress-internet-sensitive-port" }]);
    expect(record?.error).toBeUndefined();
  });

  it("answers duplicate, and keeps the first record, when the same eventId is decided again later", async () => {
    const ledger = new DynamoDbAuditLedger(client, { tableName: table, clock });
    await ledger.record(auditRecord());

    const again = await ledger.record(
      auditRecord({
        decidedAt: "2026-11-21T08:00:00.000Z",
        verdict: "compliant",
        outcome: "already-compliant",
      }),
    );
    const sameInstant = await ledger.record(auditRecord());

    expect(again).toBe("duplicate");
    expect(sameInstant).toBe("duplicate");
    const { Items = [] } = await client.send(new ScanCommand({ TableName: table }));
    expect(Items).toHaveLength(2);
    expect((await ledger.get(auditRecord().eventId))?.outcome).toBe("remediated");
  });

  it("records the same eventId only once when deliveries race", async () => {
    const ledger = new DynamoDbAuditLedger(client, { tableName: table, clock });
    const attempts = Array.from({ length: 5 }, (_, i) =>
      ledger
        .record(auditRecord({ decidedAt: `2026-11-20T10:00:0${i}.000Z` }))
        .catch((error: RemediatorError) => {
          // A conflicting transaction is retryable; a retry then finds the marker.
          expect(error.retryable).toBe(true);
          return ledger.record(auditRecord({ decidedAt: `2026-11-20T10:00:0${i}.000Z` }));
        }),
    );

    const results = await Promise.all(attempts);

    expect(results.filter((r) => r === "written")).toHaveLength(1);
    const { Items = [] } = await client.send(new ScanCommand({ TableName: table }));
    expect(Items).toHaveLength(2);
  });

  it("truncates a huge before state with a marker instead of failing the 400 KB item limit", async () => {
    const ledger = new DynamoDbAuditLedger(client, { tableName: table, clock });
    const rules = Array.from({ length: 6000 }, (_, i) => ({
      SecurityGroupRuleId: `sgr-${String(i).padStart(17, "0")}`,
      IpProtocol: "tcp",
      FromPort: 2049,
      ToPort: 2049,
      CidrIpv4: `10.${i % 250}.0.0/16`,
      Description: "é".repeat(40),
    }));
    const entry = auditRecord({ before: { rules }, after: { rules }, userAgent: "x".repeat(10_000) });

    const result = await ledger.record(entry);

    expect(result).toBe("written");
    const stored = await ledger.get(entry.eventId);
    expect(stored?.truncated).toEqual(["userAgent", "before", "after"]);
    expect(stored?.before).toMatchObject({
      truncated: true,
      originalBytes: Buffer.byteLength(JSON.stringify({ rules })),
    });
    expect((stored?.before as { text?: string } | undefined)?.text).toMatch(
      /…\[truncated by s3files-remediator: \d+ bytes in all\]$/,
    );
    expect(stored?.userAgent?.length).toBeLessThan(2100);
    expect(stored?.plan).toEqual(entry.plan);
  });

  it("refuses a record without an eventId, and says it is not worth retrying", async () => {
    const ledger = new DynamoDbAuditLedger(client, { tableName: table, clock });

    const attempt = ledger.record(auditRecord({ eventId: "" }));

    await expect(attempt).rejects.toMatchObject({ retryable: false });
  });

  it("reports a missing table as a non-retryable error", async () => {
    const ledger = new DynamoDbAuditLedger(client, { tableName: "no-such-table", clock });

    const attempt = ledger.record(auditRecord());

    await expect(attempt).rejects.toBeInstanceOf(RemediatorError);
    await expect(attempt).rejects.toMatchObject({ retryable: false });
  });

  it("reports an unreachable endpoint as retryable", async () => {
    const offline = new DynamoDBClient({
      ...moto.clientConfig,
      endpoint: "http://127.0.0.1:9",
      maxAttempts: 1,
    });
    const ledger = new DynamoDbAuditLedger(offline, { tableName: table, clock });

    const attempt = ledger.record(auditRecord());

    await expect(attempt).rejects.toMatchObject({ retryable: true });
    offline.destroy();
  });
});

describe("DynamoDbAuditLedger.query", () => {
  const decisions = [
    auditRecord({ eventId: "e1", decidedAt: "2026-11-18T23:59:59.999Z" }),
    auditRecord({
      eventId: "e2",
      decidedAt: "2026-11-19T00:00:00.000Z",
      verdict: "compliant",
      outcome: "already-compliant",
      rules: [],
      findings: [],
      plan: [],
    }),
    auditRecord({
      eventId: "e3",
      decidedAt: "2026-11-20T07:30:00.000Z",
      actor: "arn:aws:sts::111122223333:assumed-role/Platform/bob",
      resource: "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-0123456789abcdef0",
      rules: ["fs-policy-public-access"],
      verdict: "exempted",
      outcome: "notified",
    }),
    auditRecord({
      eventId: "e4",
      decidedAt: "2026-11-20T07:30:00.000Z",
      verdict: "failed",
      outcome: "failed",
    }),
    auditRecord({ eventId: "e5", decidedAt: "2026-11-22T11:00:00.000Z" }),
  ];

  async function seeded(): Promise<DynamoDbAuditLedger> {
    const ledger = new DynamoDbAuditLedger(client, { tableName: table, clock });
    for (const decision of decisions) expect(await ledger.record(decision)).toBe("written");
    return ledger;
  }

  it("returns every record of the range newest first, across day partitions and pages", async () => {
    const ledger = await seeded();

    const records = await collect(
      ledger.query({
        since: new Date("2026-11-15T00:00:00Z"),
        until: new Date("2026-11-23T00:00:00Z"),
        pageSize: 1,
      }),
    );

    expect(records.map((r) => r.eventId)).toEqual(["e5", "e4", "e3", "e2", "e1"]);
  });

  it("includes since and excludes until", async () => {
    const ledger = await seeded();

    const records = await collect(
      ledger.query({
        since: new Date("2026-11-19T00:00:00.000Z"),
        until: new Date("2026-11-22T11:00:00.000Z"),
      }),
    );

    expect(records.map((r) => r.eventId)).toEqual(["e4", "e3", "e2"]);
  });

  it("filters by verdict, rule, actor and resource", async () => {
    const ledger = await seeded();
    const range = { since: new Date("2026-11-01T00:00:00Z"), until: new Date("2026-11-23T00:00:00Z") };

    const byVerdict = await collect(ledger.query({ ...range, verdicts: ["exempted", "failed"] }));
    const byRule = await collect(ledger.query({ ...range, rule: "sg-ingress-internet-sensitive-port" }));
    const byActor = await collect(ledger.query({ ...range, actor: "Platform/bob" }));
    const byResource = await collect(ledger.query({ ...range, resource: "sg-0a1b2c3d4e5f60718" }));
    const combined = await collect(
      ledger.query({ ...range, actor: "alice", verdicts: ["violation"], outcomes: ["remediated"] }),
    );

    expect(byVerdict.map((r) => r.eventId).sort()).toEqual(["e3", "e4"]);
    expect(byRule.map((r) => r.eventId)).toEqual(["e5", "e4", "e1"]);
    expect(byActor.map((r) => r.eventId)).toEqual(["e3"]);
    expect(byResource.every((r) => r.resource === SG_ARN)).toBe(true);
    expect(byResource.map((r) => r.eventId)).toEqual(["e5", "e4", "e2", "e1"]);
    expect(combined.map((r) => r.eventId)).toEqual(["e5", "e1"]);
    expect(combined.every((r) => r.actor === ALICE)).toBe(true);
  });

  it("returns nothing for an empty or inverted range", async () => {
    const ledger = await seeded();

    const inverted = await collect(
      ledger.query({ since: new Date("2026-11-22T00:00:00Z"), until: new Date("2026-11-01T00:00:00Z") }),
    );

    expect(inverted).toEqual([]);
  });
});
