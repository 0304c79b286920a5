/**
 * The CLI end to end, as a user runs it: a real process, real files, real stdin and exit statuses.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturePath } from "../helpers/fixtures.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SELF_ROLE = "arn:aws:iam::111122223333:role/s3files-remediator-remediate";

function remediator(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    cwd: ROOT,
    input,
    encoding: "utf8",
    env: { ...process.env, REMEDIATOR_CONFIG: "", SELF_ROLE_ARNS: "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function jsonLines(stdout: string): Record<string, any>[] {
  return stdout
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "remediator-cli-"));
  const records = [
    "ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json",
    "ec2-AuthorizeSecurityGroupIngress-panther-console-errorCode-UnauthorizedOperation.json",
    "synthetic-ec2-AuthorizeSecurityGroupIngress-by-remediator-role.json",
  ].map((name) => JSON.parse(readFileSync(fixturePath(name), "utf8")));
  mkdirSync(join(dir, "trail", "2026", "11"), { recursive: true });
  writeFileSync(
    join(dir, "trail", "2026", "11", "log1.json.gz"),
    gzipSync(JSON.stringify({ Records: records })),
  );
  cpSync(
    fixturePath("synthetic-ec2-ModifySecurityGroupRules-world-ssh.json"),
    join(dir, "trail", "2026", "single.json"),
  );
  writeFileSync(join(dir, "trail", "notes.txt"), "not a log");
  writeFileSync(join(dir, "broken.json"), '{"Records": [ {"eventID": ');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("remediator evaluate", () => {
  it("judges a directory of gzip and plain logs recursively: one JSON line per record", () => {
    const { status, stdout, stderr } = remediator([
      "evaluate",
      "--format",
      "json",
      "--self-role",
      SELF_ROLE,
      join(dir, "trail"),
    ]);
    expect(status).toBe(0);
    const lines = jsonLines(stdout);
    expect(lines.map((l) => l.verdict)).toEqual(["violation", "ignored", "ignored", "violation"]);
    expect(Object.keys(lines[0] ?? {})).toEqual([
      "eventID",
      "eventTime",
      "eventName",
      "eventSource",
      "account",
      "region",
      "sourceIPAddress",
      "actor",
      "resource",
      "verdict",
      "findings",
      "plan",
      "reason",
    ]);
    expect(lines[2]?.reason).toMatch(/loop guard/);
    expect(lines[3]?.plan[0].params.SecurityGroupRuleIds).toEqual(["sgr-0bbb00000000000b1"]);
    expect(stderr).toMatch(/skipped 1 file/);
  });

  it("--fail-on violation exits 1 for pipelines", () => {
    const { status } = remediator([
      "evaluate",
      "--fail-on",
      "violation",
      fixturePath("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json"),
    ]);
    expect(status).toBe(1);
    const clean = remediator([
      "evaluate",
      "--fail-on",
      "violation",
      fixturePath("ec2-CreateSecurityGroup-panther-terraform.json"),
    ]);
    expect(clean.status).toBe(0);
  });

  it("reads stdin with -", () => {
    const record = readFileSync(
      fixturePath("ec2-AuthorizeSecurityGroupIngress-stratus-legacy-flat-params.json"),
      "utf8",
    );
    const { status, stdout } = remediator(["evaluate", "--format", "json", "-"], record);
    expect(status).toBe(0);
    expect(jsonLines(stdout)).toMatchObject([
      { verdict: "violation", eventID: "9fd68588-ecbf-4528-a345-199fa6bb0821" },
    ]);
  });

  it("non-JSON and missing inputs each yield one invalid line, the rest is still judged, exit 3", () => {
    const { status, stdout } = remediator([
      "evaluate",
      "--format",
      "json",
      join(dir, "broken.json"),
      join(dir, "missing.json"),
      fixturePath("ec2-CreateSecurityGroup-panther-terraform.json"),
    ]);
    expect(status).toBe(3);
    const lines = jsonLines(stdout);
    expect(lines.map((l) => l.verdict)).toEqual(["invalid", "invalid", "compliant"]);
    expect(lines.find((l) => String(l.resource).endsWith("missing.json"))?.reason).toMatch(/cannot read/);
    expect(lines.find((l) => String(l.resource).endsWith("broken.json"))?.reason).toMatch(/not JSON/);
  });

  it("the same output whatever the number of worker threads", () => {
    const paths = [join(dir, "trail"), fixturePath("")];
    const one = remediator(["evaluate", "--format", "json", "--workers", "1", ...paths]);
    const two = remediator(["evaluate", "--format", "json", "--workers", "2", ...paths]);
    expect(two.status).toBe(0);
    expect(jsonLines(two.stdout).length).toBeGreaterThan(15);
    expect(two.stdout).toBe(one.stdout);
  });

  it("table format: one row per record, then a summary line with counts", () => {
    const { status, stdout } = remediator(["evaluate", "--self-role", SELF_ROLE, join(dir, "trail")]);
    expect(status).toBe(0);
    const summary = stdout.trimEnd().split("\n").at(-1);
    expect(summary).toBe("4 record(s): 2 violation, 0 compliant, 2 ignored, 0 invalid");
    expect(stdout).toContain("plan: ec2:RevokeSecurityGroupIngress");
  });

  it.each([
    [["evaluate"], /no PATH given/],
    [["evaluate", "--format", "xml", "x"], /--format must be table or json/],
    [["evaluate", "--bogus", "x"], /Unknown option/],
    [["evaluate", "--fail-on", "compliant", "x"], /--fail-on takes/],
    [["frobnicate"], /unknown command/],
  ])("usage error %j exits 2", (args, message) => {
    const { status, stderr, stdout } = remediator(args);
    expect(status).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe("");
  });

  it("an invalid configuration file exits 2 naming the key", () => {
    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ sensitivePort: [22] }));
    const { status, stderr } = remediator(["evaluate", "--config", config, join(dir, "trail")]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/sensitivePort/);
  });
});

describe("remediator rules", () => {
  it("lists every rule with its rationale", () => {
    const { status, stdout } = remediator(["rules", "--format", "json"]);
    expect(status).toBe(0);
    const catalogue = JSON.parse(stdout) as { id: string; rationale: string }[];
    expect(catalogue.map((r) => r.id)).toContain("sg-ingress-internet-sensitive-port");
    expect(catalogue.every((r) => r.rationale.length > 0)).toBe(true);
  });
});
