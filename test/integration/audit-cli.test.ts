/**
 * `remediator audit` end to end against moto: real processes with the SDK's standard endpoint
 * variables, and in-process runs for the filters and the usage errors.
 */
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { csvField } from "../../cli/commands/audit.ts";
import type { CliIo } from "../../cli/io.ts";
import { runCli } from "../../cli/run-cli.ts";
import { DynamoDbAuditLedger } from "../../shared/adapters/audit-dynamodb.ts";
import { ALICE, auditRecord } from "../helpers/audit-records.ts";
import { type Moto, startMoto } from "../helpers/moto.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TABLE = "remediator-audit";
const NOW = new Date("2026-11-22T12:00:00.000Z");
const BOB = "arn:aws:sts::111122223333:assumed-role/Platform/bob";
const FS_ARN = "arn:aws:elasticfilesystem:eu-west-1:111122223333:file-system/fs-0123456789abcdef0";
let moto: Moto;

const SEED = [
  auditRecord({ eventId: "old", decidedAt: "2026-11-10T09:00:00.000Z" }),
  auditRecord({
    eventId: "exempt",
    decidedAt: "2026-11-19T08:00:00.000Z",
    actor: BOB,
    resource: FS_ARN,
    eventName: "PutFileSystemPolicy",
    rules: ["fs-policy-public-access"],
    verdict: "exempted",
    outcome: "notified",
    plan: [],
    userAgent: '=HYPERLINK("http://evil.example","click"), "quoted"',
    reason: "exempted until 2026-12-31 by the data team:\nmigration window",
  }),
  auditRecord({
    eventId: "fixed",
    decidedAt: "2026-11-20T10:00:00.000Z",
    verdict: "compliant",
    outcome: "already-compliant",
    rules: [],
    findings: [],
    plan: [],
  }),
  auditRecord({ eventId: "newest", decidedAt: "2026-11-22T11:59:00.000Z" }),
];

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", "audit", ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        AWS_REGION: "eu-west-1",
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint,
        AUDIT_TABLE_NAME: TABLE,
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs the command in this process, with the endpoint set the way the SDK reads it. */
async function runInProcess(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString("utf8"));
        done();
      },
    });
  const io: CliIo = {
    stdout: sink((text) => {
      stdout += text;
    }),
    stderr: sink((text) => {
      stderr += text;
    }),
    stdin: process.stdin,
    env: { AWS_REGION: "eu-west-1", AUDIT_TABLE_NAME: TABLE, ...env },
    now: () => NOW,
  };
  const status = await runCli(["audit", ...args], io);
  return { status, stdout, stderr };
}

/** A small RFC 4180 reader, to prove the output parses back to the same values. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += c;
  }
  return rows;
}

const ids = (stdout: string) =>
  stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { eventId: string }).eventId);

beforeAll(async () => {
  moto = await startMoto();
  const client = new DynamoDBClient(moto.clientConfig);
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
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
  const ledger = new DynamoDbAuditLedger(client, { tableName: TABLE, clock: { now: () => NOW } });
  for (const record of SEED) await ledger.record(record);
  client.destroy();
  vi.stubEnv("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint);
  vi.stubEnv("AWS_ACCESS_KEY_ID", "testing");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "testing");
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await moto?.stop();
});

describe("remediator audit, as a process", () => {
  it("prints JSON lines newest first, with the summary on stderr", async () => {
    const result = await run([
      "--since",
      "2026-10-23T12:00:00Z",
      "--until",
      "2026-11-22T12:00:00Z",
      "--format",
      "json",
    ]);

    expect(result.stderr).toContain(
      "4 record(s) decided from 2026-10-23T12:00:00.000Z to 2026-11-22T12:00:00.000Z: 2 violation, 1 compliant, 0 ignored, 1 exempted, 0 invalid, 0 failed; outcomes: 2 remediated, 1 already-compliant, 1 notified",
    );
    expect(result.status).toBe(0);
    expect(ids(result.stdout)).toEqual(["newest", "fixed", "exempt", "old"]);
    const newest = JSON.parse(result.stdout.split("\n")[0] ?? "{}") as Record<string, unknown>;
    expect(newest).toMatchObject({ actor: ALICE, sourceIp: "203.0.113.7", outcome: "remediated" });
    expect(newest.before).toEqual(auditRecord().before);
  });

  it("reaches the emulator through the generic AWS_ENDPOINT_URL too", async () => {
    const result = await run(["--since", "2026-11-22", "--until", "2026-11-22", "--format", "json"], {
      AWS_ENDPOINT_URL_DYNAMODB: "",
      AWS_ENDPOINT_URL: moto.endpoint,
    });

    expect(result.stderr).toContain("1 record(s)");
    expect(ids(result.stdout)).toEqual(["newest"]);
  });

  it("writes CSV that quotes commas, quotes and line breaks, and defuses spreadsheet formulas", async () => {
    const result = await run(["--since", "2026-11-19", "--until", "2026-11-19", "--format", "csv"]);

    expect(result.status).toBe(0);
    const [header, ...rows] = parseCsv(result.stdout);
    expect(header?.slice(0, 6)).toEqual([
      "decidedAt",
      "recordedAt",
      "eventTime",
      "eventId",
      "account",
      "region",
    ]);
    expect(rows).toHaveLength(1);
    const row = Object.fromEntries((header ?? []).map((name, i) => [name, rows[0]?.[i]]));
    expect(row.userAgent).toBe(`'=HYPERLINK("http://evil.example","click"), "quoted"`);
    expect(row.reason).toBe("exempted until 2026-12-31 by the data team:\nmigration window");
    expect(row.rules).toBe("fs-policy-public-access");
    expect(row.verdict).toBe("exempted");
    expect(row.severity).toBe("critical");
    expect(row.recordedAt).toBe(NOW.toISOString());
    expect(JSON.parse(row.before ?? "")).toEqual(auditRecord().before);
    expect(JSON.parse(row.after ?? "")).toEqual(auditRecord().after);
  });

  it("prints a table for people: summary line first, then one row per record", async () => {
    const result = await run([
      "--since",
      "2026-11-15",
      "--until",
      "2026-11-22T12:00:00Z",
      "--verdict",
      "violation",
    ]);

    expect(result.status).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^1 record\(s\) decided from .*: 1 violation, 0 compliant/);
    expect(lines[2]).toMatch(
      /^DECIDED AT \(UTC\)\s+VERDICT\s+OUTCOME\s+RULES\s+RESOURCE\s+ACTOR\s+EVENT\s+WHY$/,
    );
    expect(lines[4]).toMatch(
      /^2026-11-22 11:59:00 violation remediated\s+sg-ingress-internet-sensitive-port\s+sg-0a1b2c3d4e5f60718\s+DevOps\/alice\s+AuthorizeSecurityGroupIngress\s+1 finding/,
    );
  });
});

describe("remediator audit filters", () => {
  const everything = ["--since", "2026-11-01", "--format", "json"];

  it("filters by rule, actor, resource, verdict and outcome", async () => {
    const byRule = await runInProcess([...everything, "--rule", "sg-ingress-internet-sensitive-port"]);
    const byActor = await runInProcess([...everything, "--actor", "Platform/bob"]);
    const byResource = await runInProcess([...everything, "--resource", "fs-0123456789abcdef0"]);
    const byVerdict = await runInProcess([...everything, "--verdict", "compliant,exempted"]);
    const byOutcome = await runInProcess([...everything, "--outcome", "remediated"]);

    expect(ids(byRule.stdout)).toEqual(["newest", "old"]);
    expect(ids(byActor.stdout)).toEqual(["exempt"]);
    expect(ids(byResource.stdout)).toEqual(["exempt"]);
    expect(ids(byVerdict.stdout)).toEqual(["fixed", "exempt"]);
    expect(ids(byOutcome.stdout)).toEqual(["newest", "old"]);
  });

  it("reads the default seven days back from now, and stops at --limit", async () => {
    const week = await runInProcess(["--format", "json"]);
    const limited = await runInProcess(["--format", "json", "--limit", "2"]);

    expect(ids(week.stdout)).toEqual(["newest", "fixed", "exempt"]);
    expect(ids(limited.stdout)).toEqual(["newest", "fixed"]);
  });

  it("takes the table name from --table over AUDIT_TABLE_NAME", async () => {
    const result = await runInProcess(["--table", TABLE, "--format", "json"], { AUDIT_TABLE_NAME: "wrong" });

    expect(result.status).toBe(0);
    expect(ids(result.stdout)).toHaveLength(3);
  });

  it.each([
    [[], { AUDIT_TABLE_NAME: undefined }, "no audit table"],
    [
      ["--verdict", "bad"],
      {},
      '--verdict takes violation, compliant, ignored, exempted, invalid, failed; got "bad"',
    ],
    [["--since", "2026-11-21", "--until", "2026-11-20"], {}, "must be before --until"],
    [["--since", "yesterday"], {}, "is neither a duration"],
    [["--format", "xml"], {}, "--format must be table, json or csv"],
    [["--limit", "0"], {}, "--limit must be a positive integer"],
  ])("rejects %j with exit 2", async (args, env, message) => {
    const result = await runInProcess(args, env);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("says so when the rule id is unknown", async () => {
    const result = await runInProcess(["--rule", "sg-ingress-internet"]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown rule id "sg-ingress-internet"');
  });

  it("says so when the table holds nothing the ledger writes", async () => {
    const client = new DynamoDBClient(moto.clientConfig);
    await client.send(
      new CreateTableCommand({
        TableName: "state-like",
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
    await client.send(
      new PutItemCommand({ TableName: "state-like", Item: { pk: { S: "event#x" }, sk: { S: "claim" } } }),
    );
    client.destroy();

    const result = await runInProcess(["--table", "state-like", "--format", "json"]);

    expect(result.status).toBe(0);
    expect(result.stderr).toContain('table "state-like" does not look like an audit ledger');
  });

  it("says so when the table is not a ledger", async () => {
    const client = new DynamoDBClient(moto.clientConfig);
    await client.send(
      new CreateTableCommand({
        TableName: "not-a-ledger",
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    client.destroy();

    const result = await runInProcess(["--table", "not-a-ledger", "--format", "json"]);

    expect(result.status).toBe(3);
    expect(result.stderr).toContain('table "not-a-ledger" is not an audit ledger: its key is id:HASH');
  });

  it("exits 3 with the reason when the ledger cannot be read", async () => {
    const result = await runInProcess(["--table", "no-such-table"]);

    expect(result.status).toBe(3);
    expect(result.stderr).toContain(
      'remediator audit: cannot read the ledger table "no-such-table": table "no-such-table" does not exist in this region',
    );
  });
});

describe("csvField", () => {
  it.each([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["=1+1", "'=1+1"],
    ["-2", "'-2"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ['=A1,"x"', `"'=A1,""x"""`],
  ])("writes %j as %j", (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});
