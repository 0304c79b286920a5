/**
 * The CLI end to end for the bucket layer, as a user runs it (real processes): `evaluate --format
 * json` judges the S3 bucket records offline, and `explain-policy --kind bucket` explains a bucket
 * policy.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath } from "../helpers/fixtures.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const OWNER = "111122223333";
const ROLE = `arn:aws:iam::${OWNER}:role/s3files-sync`;

function remediator(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    cwd: ROOT,
    input,
    encoding: "utf8",
    env: { ...process.env, REMEDIATOR_CONFIG: "", SELF_ROLE_ARNS: "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "remediator-bucket-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policyOf(record: string): string {
  const path = join(dir, `${record}.policy.json`);
  const parsed = JSON.parse(readFileSync(fixturePath(record), "utf8"));
  writeFileSync(path, JSON.stringify(parsed.requestParameters.bucketPolicy));
  return path;
}

describe("remediator evaluate: bucket records", () => {
  it("judges every bucket record offline, one JSON line each, with the plan it would run", () => {
    const records: [string, string, string[]][] = [
      ["synthetic-s3-PutBucketPolicy-public-read.json", "violation", ["s3:PutBucketPolicy"]],
      ["synthetic-s3-PutBucketPolicy-vpc-limited.json", "compliant", []],
      ["synthetic-s3-PutBucketPolicy-truncated.json", "invalid", []],
      ["synthetic-s3-DeleteBucketPolicy.json", "compliant", []],
      ["synthetic-s3-PutBucketVersioning-suspended.json", "violation", ["s3:PutBucketVersioning"]],
      [
        "synthetic-s3-PutBucketPublicAccessBlock-policy-unblocked.json",
        "violation",
        ["s3:PutPublicAccessBlock"],
      ],
      ["synthetic-s3-DeleteBucketPublicAccessBlock.json", "violation", ["s3:PutPublicAccessBlock"]],
      ["synthetic-s3-PutBucketAcl-all-users-read.json", "violation", ["s3:PutPublicAccessBlock"]],
      ["s3-PutBucketAcl-panther-analysis-canned-private.json", "compliant", []],
    ];
    const run = remediator(["evaluate", "--format", "json", ...records.map(([file]) => fixturePath(file))]);
    expect(run.status).toBe(0);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    for (const [file, verdict, apis] of records) {
      const eventId = JSON.parse(readFileSync(fixturePath(file), "utf8")).eventID;
      const line = lines.find((l) => l.eventID === eventId);
      expect(line?.verdict, file).toBe(verdict);
      expect(
        line?.plan.map((s: { api: string }) => s.api),
        file,
      ).toEqual(apis);
    }
  });
});

describe("remediator explain-policy --kind bucket", () => {
  it("a public policy: the statement, the request that shows it, and the proved narrowing", () => {
    const run = remediator([
      "explain-policy",
      "--kind",
      "bucket",
      "--account",
      OWNER,
      policyOf("synthetic-s3-PutBucketPolicy-public-read.json"),
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('PUBLIC     statement "PublicRead": allows s3:GetObject');
    expect(run.stdout).toContain(
      `Narrowing: statement "PublicRead": Principal narrowed to account(s) ${OWNER}.`,
    );
    expect(run.stdout).toContain("Verdict: UNSAFE");
  });

  it("a Deny that blocks the file system's role, in JSON; --fail-on unsafe exits 1", () => {
    const run = remediator([
      "explain-policy",
      "--kind",
      "bucket",
      "--account",
      OWNER,
      "--role",
      ROLE,
      "--format",
      "json",
      "--fail-on",
      "unsafe",
      policyOf("synthetic-s3-PutBucketPolicy-vpce-deny.json"),
    ]);
    expect(run.status).toBe(1);
    const explanation = JSON.parse(run.stdout);
    expect(explanation).toMatchObject({ bucket: "fs-data-bucket", verdict: "not-public", unsafe: true });
    expect(explanation.denials).toEqual([
      expect.objectContaining({
        principal: ROLE,
        statement: 'statement "OnlyThroughOurEndpoint"',
        status: "denies",
      }),
    ]);
  });

  it("a policy limited to one VPC is not public, with the proof; safe exits 0 even with --fail-on", () => {
    const run = remediator([
      "explain-policy",
      "--kind",
      "bucket",
      "--account",
      OWNER,
      "--fail-on",
      "unsafe",
      policyOf("synthetic-s3-PutBucketPolicy-vpc-limited.json"),
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Not public: ");
    expect(run.stdout).toContain("Verdict: safe");
  });

  it("without the owner's account, or with a bucket the policy does not name, it says what to give", () => {
    const path = policyOf("synthetic-s3-PutBucketPolicy-public-read.json");
    const noAccount = remediator(["explain-policy", "--kind", "bucket", path]);
    expect(noAccount.status).toBe(2);
    expect(noAccount.stderr).toContain("give --account");
    const otherBucket = remediator([
      "explain-policy",
      "--kind",
      "bucket",
      "--account",
      OWNER,
      "--bucket",
      "other",
      path,
    ]);
    expect(otherBucket.status).toBe(2);
    expect(otherBucket.stderr).toContain("disagrees with the policy's Resource");
    expect(remediator(["explain-policy", "--kind", "queue", path]).stderr).toContain(
      "--kind must be file-system, identity or bucket",
    );
  });
});
