/**
 * The CLI end to end for file-system policies, access points and mount targets: `evaluate --format
 * json` on S3 Files and EFS records, and `explain-policy`, as a user runs them (real processes).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath } from "../helpers/fixtures.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function remediator(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    cwd: ROOT,
    input,
    encoding: "utf8",
    env: { ...process.env, REMEDIATOR_CONFIG: "", SELF_ROLE_ARNS: "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "remediator-policy-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CASES: [string, string, string[]][] = [
  ["synthetic-s3files-PutFileSystemPolicy-public-mount.json", "violation", ["s3files:PutFileSystemPolicy"]],
  ["synthetic-s3files-PutFileSystemPolicy-vpc-wildcard.json", "violation", ["s3files:PutFileSystemPolicy"]],
  ["synthetic-s3files-PutFileSystemPolicy-org-limited.json", "compliant", []],
  ["synthetic-s3files-PutFileSystemPolicy-deny-takes-back.json", "compliant", []],
  [
    "synthetic-s3files-PutFileSystemPolicy-root-and-cross-account.json",
    "violation",
    ["s3files:PutFileSystemPolicy"],
  ],
  ["synthetic-s3files-PutFileSystemPolicy-truncated.json", "invalid", []],
  ["synthetic-s3files-PutFileSystemPolicy-AccessDenied.json", "ignored", []],
  ["synthetic-s3files-DeleteFileSystemPolicy.json", "violation", ["s3files:PutFileSystemPolicy"]],
  ["synthetic-s3files-CreateAccessPoint-root-uid.json", "violation", []],
  ["synthetic-s3files-UpdateMountTarget.json", "compliant", []],
  [
    "synthetic-efs-PutFileSystemPolicy-public-root-no-tls.json",
    "violation",
    ["elasticfilesystem:PutFileSystemPolicy"],
  ],
  ["synthetic-efs-PutFileSystemPolicy-console-recommended.json", "compliant", []],
  ["synthetic-efs-PutFileSystemPolicy-partner-ip.json", "compliant", []],
  ["synthetic-efs-PutFileSystemPolicy-oversized.json", "invalid", []],
  ["synthetic-efs-DeleteFileSystemPolicy.json", "violation", ["elasticfilesystem:PutFileSystemPolicy"]],
  ["synthetic-efs-CreateAccessPoint-no-posix-user.json", "violation", []],
  ["synthetic-efs-ModifyMountTargetSecurityGroups.json", "compliant", []],
];

describe("remediator evaluate --format json on S3 Files and EFS records", () => {
  it("gives the verdict and plan of each case, one JSON line per record", () => {
    // Prepare
    const records = CASES.map(([name]) => JSON.parse(readFileSync(fixturePath(name), "utf8")));
    const log = join(dir, "trail.json");
    writeFileSync(log, JSON.stringify({ Records: records }));
    // Act
    const { status, stdout } = remediator(["evaluate", "--format", "json", log]);
    // Assess
    expect(status).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => [l.verdict, l.plan.map((p: { api: string }) => p.api)])).toEqual(
      CASES.map(([, verdict, apis]) => [verdict, apis]),
    );
    const truncated = lines[5];
    expect(truncated).toMatchObject({ verdict: "invalid", plan: [], findings: [] });
    expect(truncated.reason).toMatch(/not valid JSON \(malformed or truncated\)/);
  });
});

describe("remediator explain-policy", () => {
  const record = JSON.parse(
    readFileSync(fixturePath("synthetic-s3files-PutFileSystemPolicy-public-mount.json"), "utf8"),
  );
  const policyFile = join(dir, "policy.json");
  writeFileSync(policyFile, record.requestParameters.policy);

  it("text: who can mount, write and be root, and the statements that decide it", () => {
    const { status, stdout } = remediator(["explain-policy", policyFile]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/File-system policy of fs-abcd123456789ef0 \(S3 Files\) in account 111122223333/);
    expect(stdout).toMatch(
      /PUBLIC\s+anyone outside the trusted accounts, for example an anonymous client \(mounted without IAM\)\n\s+allowed by statement "EveryoneCanMount"; when statement "EveryoneCanMount": always/,
    );
    expect(stdout).toMatch(/s3files:ClientRootAccess\n {2}nobody, through this policy/);
    expect(stdout).toMatch(
      /Verdict: UNSAFE\n {2}- public access: s3files:ClientMount, s3files:ClientWrite \(statement "EveryoneCanMount"\)/,
    );
  });

  it("json from stdin, with trusted accounts from the configuration", () => {
    const config = join(dir, "config.json");
    writeFileSync(config, JSON.stringify({ trustedAccounts: ["444455556666"] }));
    const { status, stdout } = remediator(
      ["explain-policy", "--format", "json", "--config", config, "-"],
      record.requestParameters.policy,
    );
    expect(status).toBe(0);
    const explanation = JSON.parse(stdout);
    expect(explanation.safe).toBe(false);
    expect(explanation.scope.trustedAccounts).toEqual(["444455556666"]);
    expect(explanation.actions.map((a: { action: string }) => a.action)).toEqual([
      "s3files:ClientMount",
      "s3files:ClientWrite",
      "s3files:ClientRootAccess",
    ]);
  });

  it("a truncated policy: a plain message and exit status 3", () => {
    const broken = join(dir, "broken.json");
    writeFileSync(broken, record.requestParameters.policy.slice(0, 40));
    const { status, stderr } = remediator(["explain-policy", broken]);
    expect(status).toBe(3);
    expect(stderr).toMatch(/not valid JSON \(malformed or truncated\)/);
  });

  it("--fail-on unsafe exits 1 on an UNSAFE verdict, for pipelines", () => {
    const unsafe = remediator(["explain-policy", "--fail-on", "unsafe", policyFile]);
    expect(unsafe.status).toBe(1);
    expect(unsafe.stdout).toMatch(/Verdict: UNSAFE/);
    const safe = JSON.parse(
      readFileSync(fixturePath("synthetic-s3files-PutFileSystemPolicy-org-limited.json"), "utf8"),
    ).requestParameters.policy as string;
    expect(remediator(["explain-policy", "--fail-on", "unsafe", "-"], safe).status).toBe(0);
  });

  it.each([
    [["--file-system-id", "fs-0000000000000000f"], "--file-system-id fs-0000000000000000f disagrees"],
    [["--region", "us-east-1"], "--region us-east-1 disagrees"],
    [["--account", "999999999999"], "--account 999999999999 disagrees"],
    [["--service", "efs"], "--service efs disagrees"],
  ])("refuses %j when the policy's Resource names another file system (exit 2)", (flags, message) => {
    const { status, stderr, stdout } = remediator(["explain-policy", ...flags, policyFile]);
    expect(status).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe("");
  });

  it("usage errors exit 2", () => {
    expect(remediator(["explain-policy", "--service", "s3", policyFile]).status).toBe(2);
    expect(remediator(["explain-policy"]).status).toBe(2);
  });
});
