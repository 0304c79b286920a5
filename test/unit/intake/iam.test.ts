/**
 * IAM intake, one event shape at a time: real records where public ones exist (Panther's
 * AttachUserPolicy test records), synthetic ones (named `synthetic-…`) in the shapes CloudTrail
 * documents for the others.
 */
import { describe, expect, it } from "vitest";
import type { IamIdentityChange } from "../../../shared/core/iam/model.ts";
import { intakeRecord } from "../../../shared/core/intake/intake.ts";
import { evaluateRecord } from "../../../shared/core/judge.ts";
import { loadFixture, testConfig, variantOf } from "../../helpers/fixtures.ts";

const options = { selfRoleArns: ["arn:aws:iam::111122223333:role/s3files-remediator-remediate-eu-west-1"] };

function iamDetail(name: string): IamIdentityChange {
  const result = intakeRecord(loadFixture(name), options);
  if (result.status !== "change" || result.change.detail.kind !== "iam-identity") {
    throw new Error(`${name}: expected an IAM change, got ${JSON.stringify(result)}`);
  }
  return result.change.detail;
}

describe("IAM intake", () => {
  it("AttachUserPolicy (real, Panther): the user and the policy ARN; resource is the user's ARN", () => {
    const result = intakeRecord(
      loadFixture("iam-AttachUserPolicy-panther-AdministratorAccess.json"),
      options,
    );
    expect(result.status).toBe("change");
    if (result.status !== "change") return;
    expect(result.change.resource).toBe("arn:aws:iam::123456789012:user/new-user");
    const detail = result.change.detail as IamIdentityChange;
    expect(detail.trigger.target).toEqual({ kind: "user", name: "new-user" });
    expect(detail.trigger.policyArn).toBe("arn:aws:iam::aws:policy/AdministratorAccess");
    expect(detail.principals).toBeUndefined();
  });

  it("AttachRolePolicy / AttachGroupPolicy: role and group targets", () => {
    expect(iamDetail("synthetic-iam-AttachRolePolicy-S3FilesClientFullAccess.json").trigger.target).toEqual({
      kind: "role",
      name: "app-server",
    });
    expect(iamDetail("synthetic-iam-AttachGroupPolicy-S3FilesFullAccess.json").trigger.target).toEqual({
      kind: "group",
      name: "developers",
    });
  });

  it("an EventBridge event with source aws.iam is unwrapped like the others", () => {
    const result = intakeRecord(
      loadFixture("synthetic-iam-AttachRolePolicy-eventbridge-aws.iam.json"),
      options,
    );
    expect(result.status).toBe("change");
  });

  it("Put{Role,User,Group}Policy: the inline name and the document, decoded when URL-encoded", () => {
    const put = iamDetail("synthetic-iam-PutRolePolicy-s3files-wildcard.json");
    expect(put.trigger.policyName).toBe("files");
    expect(JSON.parse(put.trigger.policyDocument ?? "")).toMatchObject({
      Statement: [{ Action: "s3files:*" }],
    });
    expect(iamDetail("synthetic-iam-PutUserPolicy-NotAction.json").trigger.target).toEqual({
      kind: "user",
      name: "bob",
    });
    expect(iamDetail("synthetic-iam-PutGroupPolicy-read-write-only.json").trigger.target.kind).toBe("group");
    expect(iamDetail("synthetic-iam-PutRolePolicy-url-encoded.json").trigger.policyDocument).toMatch(/^%7B/);
  });

  it("CreatePolicyVersion with and without setAsDefault, SetDefaultPolicyVersion, CreatePolicy", () => {
    const created = iamDetail("synthetic-iam-CreatePolicyVersion-default.json");
    expect(created.trigger.target).toEqual({
      kind: "policy",
      arn: "arn:aws:iam::111122223333:policy/app-files",
      name: undefined,
    });
    expect(created.trigger.setAsDefault).toBe(true);
    expect(iamDetail("synthetic-iam-CreatePolicyVersion-not-default.json").trigger.setAsDefault).toBe(false);
    expect(iamDetail("synthetic-iam-SetDefaultPolicyVersion.json").trigger.setAsDefault).toBe(true);
    expect(iamDetail("synthetic-iam-CreatePolicy-root.json").trigger.target).toEqual({
      kind: "policy",
      arn: "arn:aws:iam::111122223333:policy/files-admin",
      name: "files-admin",
    });
  });

  it("AddUserToGroup and permissions-boundary puts and deletes", () => {
    const added = iamDetail("synthetic-iam-AddUserToGroup.json");
    expect(added.trigger.target).toEqual({ kind: "user", name: "bob" });
    expect(added.trigger.groupName).toBe("developers");
    expect(iamDetail("synthetic-iam-PutRolePermissionsBoundary.json").trigger.policyArn).toBe(
      "arn:aws:iam::111122223333:policy/no-root-boundary",
    );
    expect(iamDetail("synthetic-iam-DeleteUserPermissionsBoundary.json").trigger.target).toEqual({
      kind: "user",
      name: "bob",
    });
  });

  it("a truncated policy document is invalid input naming the field", () => {
    const result = intakeRecord(loadFixture("synthetic-iam-PutRolePolicy-truncated.json"), options);
    expect(result.status).toBe("invalid");
    if (result.status === "invalid") expect(result.error).toMatch(/^requestParameters\.policyDocument: /);
  });

  it("a Put*Policy without its document, or an Attach without policyArn, is invalid", () => {
    const noDocument = variantOf("synthetic-iam-PutRolePolicy-s3files-wildcard.json", (r) => {
      delete r.requestParameters.policyDocument;
    });
    expect(intakeRecord(noDocument, options).status).toBe("invalid");
    const noArn = variantOf("synthetic-iam-AttachRolePolicy-S3FilesClientFullAccess.json", (r) => {
      delete r.requestParameters.policyArn;
    });
    expect(intakeRecord(noArn, options).status).toBe("invalid");
  });

  it("CreateRole is recorded, not judged; GetRole is read-only; a failed call changed nothing", () => {
    const created = intakeRecord(loadFixture("synthetic-iam-CreateRole.json"), options);
    expect(created.status === "ignored" && created.reason).toMatch(/cannot give anyone root/);
    const read = variantOf("synthetic-iam-CreateRole.json", (r) => {
      r.eventName = "GetRole";
    });
    expect(intakeRecord(read, options).status).toBe("ignored");
    const failed = variantOf("synthetic-iam-AttachRolePolicy-S3FilesClientFullAccess.json", (r) => {
      r.errorCode = "AccessDenied";
    });
    const result = intakeRecord(failed, options);
    expect(result.status === "ignored" && result.reason).toMatch(/AccessDenied/);
  });

  it("the guardrail's own attach is loop-guarded", () => {
    const own = variantOf("synthetic-iam-AttachRolePolicy-S3FilesClientFullAccess.json", (r) => {
      r.userIdentity.sessionContext.sessionIssuer.arn = options.selfRoleArns[0];
    });
    const result = intakeRecord(own, options);
    expect(result.status === "ignored" && result.reason).toMatch(/loop guard/);
  });
});

describe("offline judgement of IAM records (remediator evaluate)", () => {
  const config = testConfig();
  const now = new Date("2026-11-20T10:00:00Z");
  const evaluate = (name: string) => evaluateRecord(loadFixture(name), { config, now });

  it("a known root-granting managed policy: exact finding naming the read-write policy to use", () => {
    const evaluation = evaluate("synthetic-iam-AttachRolePolicy-S3FilesClientFullAccess.json");
    expect(evaluation.verdict).toBe("violation");
    expect(evaluation.findings[0]?.message).toContain("Use AmazonS3FilesClientReadWriteAccess");
    expect(evaluation.findings[0]?.message).toContain(
      "the live check would read the effective identity policies of role app-server",
    );
    expect(evaluate("iam-AttachUserPolicy-panther-AdministratorAccess.json").verdict).toBe("violation");
  });

  it("another managed policy: compliant offline, saying what the live check would look at", () => {
    const evaluation = evaluate("iam-AttachUserPolicy-panther-ReadOnlyAccess.json");
    expect(evaluation.verdict).toBe("compliant");
    expect(evaluation.reason).toContain("would read the effective identity policies of user new-user");
  });

  it("inline documents are judged: wildcard, NotAction and a condition a request can meet are violations, read-write is compliant", () => {
    expect(evaluate("synthetic-iam-PutRolePolicy-s3files-wildcard.json").verdict).toBe("violation");
    expect(evaluate("synthetic-iam-PutUserPolicy-NotAction.json").verdict).toBe("violation");
    expect(evaluate("synthetic-iam-PutRolePolicy-url-encoded.json").verdict).toBe("violation");
    expect(evaluate("synthetic-iam-PutGroupPolicy-read-write-only.json").verdict).toBe("compliant");
    const conditional = evaluate("synthetic-iam-PutRolePolicy-root-with-condition.json");
    expect(conditional.verdict).toBe("violation");
    // Root through the access point the condition names: the witness carries that context.
    expect(conditional.findings[0]?.message).toContain("fsap-0123456789abcdef0");
  });

  it("a version that is not the default changes nothing; a new policy is attached to nobody yet", () => {
    expect(evaluate("synthetic-iam-CreatePolicyVersion-not-default.json").verdict).toBe("compliant");
    expect(evaluate("synthetic-iam-CreatePolicyVersion-default.json").verdict).toBe("violation");
    expect(evaluate("synthetic-iam-CreatePolicy-root.json").reason).toContain("attached to nobody yet");
  });
});
