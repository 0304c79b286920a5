/**
 * The rule on live principals: who is exempt (admin list, service-linked roles), who is notify-only
 * (IAM Identity Center roles), and what enforce plans (the guardrail's deny policy, nothing else).
 * The principal states are built the way the IAM adapter builds them (labels, ARNs, decoded text).
 */
import { describe, expect, it } from "vitest";
import type { IamIdentityChange, IamPrincipalState } from "../../../shared/core/iam/model.ts";
import { intakeRecord } from "../../../shared/core/intake/intake.ts";
import { judgeChange } from "../../../shared/core/judge.ts";
import { iamPrincipalRootOnFileSystems } from "../../../shared/core/rules/iam-principal-root-on-file-systems.ts";
import type { Change } from "../../../shared/core/types.ts";
import { loadFixture, testConfig } from "../../helpers/fixtures.ts";

const ACCOUNT = "111122223333";
const DENY = `arn:aws:iam::${ACCOUNT}:policy/s3files-remediator-deny-file-system-root`;
const FULL = {
  label: "managed policy AmazonS3FilesClientFullAccess (attached to role app-server)",
  arn: "arn:aws:iam::aws:policy/AmazonS3FilesClientFullAccess",
  via: undefined,
  document: JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "S3FilesPermissions",
        Effect: "Allow",
        Action: ["s3files:ClientMount", "s3files:ClientWrite", "s3files:ClientRootAccess"],
        Resource: "*",
      },
    ],
  }),
};

function role(name: string, path = "/", policies = [FULL]): IamPrincipalState {
  return {
    kind: "role",
    name,
    arn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
    path,
    policies,
    boundary: undefined,
  };
}

/** The real-shaped AttachRolePolicy record, with the live state the runtime would read. */
function liveChange(
  principals: IamPrincipalState[],
  options: { denyPolicyArn?: string } = { denyPolicyArn: DENY },
): Change {
  const result = intakeRecord(loadFixture("synthetic-iam-AttachRolePolicy-S3FilesClientFullAccess.json"), {
    selfRoleArns: [],
  });
  if (result.status !== "change") throw new Error("fixture did not parse");
  const detail: IamIdentityChange = {
    ...(result.change.detail as IamIdentityChange),
    principals,
    denyPolicyArn: options.denyPolicyArn,
  };
  return { ...result.change, detail };
}

const now = new Date("2026-11-20T10:00:00Z");

describe("iam-principal-root-on-file-systems", () => {
  it("is notify by default: a finding, no plan", () => {
    const evaluation = judgeChange(liveChange([role("app-server")]), { config: testConfig(), now });
    expect(evaluation.verdict).toBe("violation");
    expect(evaluation.plan).toEqual([]);
    expect(evaluation.findings[0]?.message).toContain("role app-server");
    expect(evaluation.findings[0]?.message).toContain('statement "S3FilesPermissions"');
    expect(evaluation.findings[0]?.message).toContain("Use AmazonS3FilesClientReadWriteAccess");
  });

  it("enforce: attaches the guardrail's deny policy to the principal, and nothing else", () => {
    const config = testConfig({ rules: { "iam-principal-root-on-file-systems": "enforce" } });
    const evaluation = judgeChange(liveChange([role("app-server")]), { config, now });
    expect(evaluation.plan).toEqual([
      expect.objectContaining({
        api: "iam:AttachRolePolicy",
        params: { RoleName: "app-server", PolicyArn: DENY },
      }),
    ]);
    const user: IamPrincipalState = { ...role("bob"), kind: "user", arn: `arn:aws:iam::${ACCOUNT}:user/bob` };
    expect(judgeChange(liveChange([user]), { config, now }).plan[0]).toMatchObject({
      api: "iam:AttachUserPolicy",
      params: { UserName: "bob", PolicyArn: DENY },
    });
  });

  it("enforce without a deny policy deployed: reported, never acted on", () => {
    const config = testConfig({ rules: { "iam-principal-root-on-file-systems": "enforce" } });
    const evaluation = judgeChange(liveChange([role("app-server")], {}), { config, now });
    expect(evaluation.verdict).toBe("violation");
    expect(evaluation.plan).toEqual([]);
  });

  it("admin principals and service-linked roles are exempt (noted, not findings)", () => {
    const admin = role("StorageAdmin");
    const config = testConfig({ adminPrincipals: [admin.arn] });
    const linked = role(
      "AWSServiceRoleForAmazonElasticFileSystem",
      "/aws-service-role/elasticfilesystem.amazonaws.com/",
    );
    const evaluation = judgeChange(liveChange([admin, linked]), { config, now });
    expect(evaluation.verdict).toBe("compliant");
    expect(evaluation.reason).toContain("admin principal: exempt");
    expect(evaluation.reason).toContain("service-linked role: exempt");
  });

  it("IAM Identity Center roles are notify-only: a finding, no plan even in enforce", () => {
    const config = testConfig({ rules: { "iam-principal-root-on-file-systems": "enforce" } });
    const sso = role("AWSReservedSSO_Developers_0123456789abcdef", "/aws-reserved/sso.amazonaws.com/");
    const evaluation = judgeChange(liveChange([sso]), { config, now });
    expect(evaluation.verdict).toBe("violation");
    expect(evaluation.plan).toEqual([]);
    expect(evaluation.findings[0]?.message).toContain("permission set");
  });

  it("a principal with the deny policy attached is compliant (what verify reads back)", () => {
    const denied = role("app-server", "/", [
      FULL,
      {
        label: "managed policy s3files-remediator-deny-file-system-root (attached to role app-server)",
        arn: DENY,
        via: undefined,
        document: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Deny",
              Action: ["s3files:ClientRootAccess", "elasticfilesystem:ClientRootAccess"],
              Resource: "*",
            },
          ],
        }),
      },
    ]);
    expect(judgeChange(liveChange([denied]), { config: testConfig(), now }).verdict).toBe("compliant");
  });

  it("no affected principal left: compliant, saying so", () => {
    const outcome = iamPrincipalRootOnFileSystems.evaluate(liveChange([]), {
      config: testConfig(),
      facts: {},
    });
    expect(outcome.status).toBe("compliant");
  });
});
