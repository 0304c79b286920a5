/**
 * The commands the README and docs/ show run as shown, so the docs cannot drift. Every line of a
 * fenced block marked `sh` is run (blocks marked `bash` or unmarked need an AWS account, or are
 * output, and are not). A line ending in `# exits N` must exit N, every other line 0. The ledger
 * commands run against a local emulator holding a ledger (named in AUDIT_TABLE_NAME, as the docs'
 * preceding `bash` block sets it from the stack's outputs); an example that matches no record fails.
 * `npm ci` and `npm test` are not run from inside the tests: CI runs exactly those, and this test
 * checks that it does.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAll } from "../../esbuild.config.ts";
import { DynamoDbAuditLedger } from "../../shared/adapters/audit-dynamodb.ts";
import { auditRecord } from "../helpers/audit-records.ts";
import { type Moto, startMoto } from "../helpers/moto.ts";
import { syntheticLedger } from "../helpers/synthetic-ledger.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TABLE = "s3files-remediator-audit";
/** What CI runs itself (`.ci/run`), never from inside `npm test`. */
const RUN_BY_CI = new Set(["npm ci", "npm test"]);

interface Command {
  readonly text: string;
  readonly expected: number;
  readonly line: number;
}
interface Block {
  readonly file: string;
  readonly line: number;
  readonly commands: readonly Command[];
}

/** The `sh` blocks of one Markdown file, each as its commands (continued lines joined). */
function shBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```sh") continue;
    const start = i + 1;
    const commands: Command[] = [];
    let pending = "";
    let pendingLine = 0;
    for (i = start; i < lines.length && lines[i]?.trim() !== "```"; i++) {
      const line = lines[i] ?? "";
      if (pending === "") pendingLine = i + 1;
      if (line.endsWith("\\")) {
        pending += `${line.slice(0, -1)} `;
        continue;
      }
      const text = `${pending}${line}`.trim();
      pending = "";
      if (text === "" || text.startsWith("#")) continue;
      const exits = /#\s*exits (\d+)/.exec(text);
      commands.push({ text, expected: exits ? Number(exits[1]) : 0, line: pendingLine });
    }
    blocks.push({ file, line: start, commands });
  }
  return blocks;
}

const withoutComment = (text: string) => text.replace(/\s+#.*$/, "").trim();

const MARKDOWN = ["README.md", ...readdirSync(join(ROOT, "docs")).map((name) => `docs/${name}`)].filter((f) =>
  f.endsWith(".md"),
);
const BLOCKS = MARKDOWN.flatMap((file) => shBlocks(file, readFileSync(join(ROOT, file), "utf8")));

let moto: Moto;
let workspace: string;

beforeAll(async () => {
  // `npx remediator` runs the bundle: build it as the docs say (`npm run build`).
  await buildAll(join(ROOT, "dist"));
  // A workspace that sees the project (symlinks) but keeps the files the commands write.
  workspace = mkdtempSync(join(tmpdir(), "remediator-docs-"));
  for (const entry of readdirSync(ROOT)) {
    if (entry !== ".git") symlinkSync(join(ROOT, entry), join(workspace, entry));
  }
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
  const now = Date.now();
  const ledger = new DynamoDbAuditLedger(client, { tableName: TABLE, clock: { now: () => new Date() } });
  const records = [
    ...syntheticLedger(40, new Date("2026-11-01T00:00:00Z"), new Date("2026-11-30T00:00:00Z")),
    ...syntheticLedger(40, new Date(now - 6 * 86_400_000), new Date(now - 60_000), 11).map((r) => ({
      ...r,
      eventId: `recent-${r.eventId}`,
    })),
    auditRecord({ eventId: "recent-sg", decidedAt: new Date(now - 3_600_000).toISOString() }),
  ];
  for (const record of records) await ledger.record(record);
  client.destroy();
}, 180_000);

afterAll(async () => {
  await moto?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe("commands shown in the README and docs/", () => {
  it("finds sh blocks in the README and every docs page that shows commands", () => {
    expect(BLOCKS.map((b) => b.file)).toEqual(
      expect.arrayContaining(["README.md", "docs/cli.md", "docs/alerts-and-audit.md"]),
    );
  });

  it("CI runs the commands the README leaves to it", () => {
    const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");
    const left = BLOCKS.flatMap((b) => b.commands).filter((c) => RUN_BY_CI.has(withoutComment(c.text)));
    expect(left.map((c) => withoutComment(c.text)).sort()).toEqual(["npm ci", "npm test"]);
    for (const command of RUN_BY_CI) expect(ci).toMatch(new RegExp(`^${command}\\b`, "m"));
  });

  it.each(BLOCKS.map((block) => [`${block.file}:${block.line}`, block] as const))(
    "%s runs as shown",
    (_where, block) => {
      const script = block.commands
        .filter((c) => !RUN_BY_CI.has(withoutComment(c.text)))
        .map(
          (c) =>
            `${c.text}\nstatus=$?\nif [ "$status" -ne ${c.expected} ]; then echo "${block.file}:${c.line} exited $status, expected ${c.expected}" >&2; exit 99; fi`,
        )
        .join("\n");
      const result = spawnSync("bash", ["-c", script], {
        cwd: workspace,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "/tmp",
          AWS_ACCESS_KEY_ID: "testing",
          AWS_SECRET_ACCESS_KEY: "testing",
          AWS_REGION: "eu-west-1",
          AWS_ENDPOINT_URL: moto.endpoint,
          // What the `bash` block before the ledger commands sets from the stack's outputs.
          AUDIT_TABLE_NAME: TABLE,
          npm_config_update_notifier: "false",
        },
      });
      expect(result.status, `${result.stderr}\n${result.stdout.slice(-2000)}`).toBe(0);
      // An example that can never match anything is a wrong example.
      expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/(^|\s)0 (record|decision)\(s\)/m);
    },
    240_000,
  );
});
