/**
 * The CLI for the identity layer, as a user runs it (real processes): `evaluate` judges IAM records
 * offline and says what the live check would look at; `explain-policy --kind identity` says whether an
 * identity policy gives root on file systems.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath } from "../helpers/fixtures.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function remediator(args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, REMEDIATOR_CONFIG: "", SELF_ROLE_ARNS: "" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "remediator-identity-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, statements: Record<string, unknown>[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ Version: "2012-10-17", Statement: statements }));
  return path;
}

describe("remediator evaluate on IAM records", () => {
  it("judges each record offline: violations, compliant with what the live check reads, invalid, ignored", () => {
    const names = [
      "iam-AttachUserPolicy-panther-AdministratorAccess.json",
      "iam-AttachUserPolicy-panther-ReadOnlyAccess.json",
      "synthetic-iam-PutRolePolicy-truncated.json",
      "synthetic-iam-CreateRole.json",
    ];
    const run = remediator(["evaluate", "--format", "json", ...names.map(fixturePath)]);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.verdict)).toEqual(["violation", "compliant", "invalid", "ignored"]);
    expect(lines[0].findings[0].rule).toBe("iam-principal-root-on-file-systems");
    expect(lines[1].reason).toContain("would read the effective identity policies of user new-user");
    expect(run.status).toBe(0);
  }, 60_000);
});

describe("remediator explain-policy --kind identity", () => {
  it("names the statement that gives root, and the safe replacement", () => {
    const path = file("wildcard.json", [
      { Sid: "Files", Effect: "Allow", Action: "s3files:*", Resource: "*" },
    ]);
    const run = remediator(["explain-policy", "--kind", "identity", path]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Root on file systems of any account: YES");
    expect(run.stdout).toContain('statement "Files"');
    expect(run.stdout).toContain("AmazonS3FilesClientReadWriteAccess");
  }, 60_000);

  it("proves no root for a read-write policy, and finds root under a condition a request can meet (json)", () => {
    const readWrite = file("rw.json", [
      { Effect: "Allow", Action: ["s3files:ClientMount", "s3files:ClientWrite"], Resource: "*" },
    ]);
    const safe = JSON.parse(
      remediator(["explain-policy", "--kind", "identity", "--format", "json", readWrite]).stdout,
    );
    expect(safe.grantsRoot).toBe(false);
    const conditional = file("cond.json", [
      {
        Effect: "Allow",
        Action: "s3files:ClientRootAccess",
        Resource: "*",
        Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
      },
    ]);
    const undecided = JSON.parse(
      remediator(["explain-policy", "--kind", "identity", "--format", "json", conditional]).stdout,
    );
    expect(undecided.grantsRoot).toBe(true);
  }, 60_000);

  it("refuses a resource policy (it names a Principal) with exit 3, and an unknown kind with exit 2", () => {
    const resource = file("resource.json", [
      { Effect: "Allow", Principal: "*", Action: "s3files:*", Resource: "*" },
    ]);
    const run = remediator(["explain-policy", "--kind", "identity", resource]);
    expect(run.status).toBe(3);
    expect(run.stderr).toContain("an identity policy cannot name a Principal");
    expect(remediator(["explain-policy", "--kind", "bucket", resource]).status).toBe(2);
  }, 60_000);
});
