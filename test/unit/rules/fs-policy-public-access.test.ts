import { describe, expect, it } from "vitest";
import { withJudgementBudget } from "../../../shared/core/policy/index.ts";
import { loadFixture } from "../../helpers/fixtures.ts";
import { EFS_ARN, judge, plannedPolicy, putPolicy, S3_ARN, S3_FS } from "../../helpers/fs-records.ts";

const RULE = "fs-policy-public-access";
const MOUNT = ["s3files:ClientMount", "s3files:ClientWrite"];
/** Mount and write for everyone but one of the owner's roles (an Allow with NotPrincipal). */
const ALL_BUT_ONE_OWNER_ROLE = {
  Effect: "Allow",
  NotPrincipal: { AWS: "arn:aws:iam::111122223333:role/x" },
  Action: MOUNT,
  Resource: S3_ARN,
};

describe(RULE, () => {
  describe("violations", () => {
    it("S3 Files: Principal * mounts and writes; only that statement is narrowed, with proof", () => {
      const result = judge(loadFixture("synthetic-s3files-PutFileSystemPolicy-public-mount.json"));
      expect(result.verdict).toBe("violation");
      expect(result.findings).toEqual([
        {
          rule: RULE,
          severity: "critical",
          message: expect.stringContaining(
            `${S3_FS} statement "EveryoneCanMount" grants ClientMount, ClientWrite to anyone outside the trusted accounts: public, no condition limits it to fixed values (for example: an anonymous client`,
          ),
        },
      ]);
      expect(result.plan).toHaveLength(1);
      expect(result.plan[0]).toMatchObject({
        api: "s3files:PutFileSystemPolicy",
        params: { fileSystemId: S3_FS },
      });
      expect(Object.keys(result.plan[0]?.params ?? {}).sort()).toEqual(["fileSystemId", "policy"]);
      expect(result.plan[0]?.reason).toMatch(
        /proved over every request \(every kind of caller, client action and condition value\) to grant nothing the current policy does not, and to take nothing from principals of the owner's and trusted accounts beyond what the goals remove/,
      );
      const edited = plannedPolicy(result.plan[0]);
      expect(edited.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
        "AppRoleMountWrite",
        "EveryoneCanMount",
      ]);
      // Narrowed through the Principal element (always evaluated), not a condition key.
      expect(edited.Statement[1].Principal).toEqual({ AWS: "arn:aws:iam::111122223333:root" });
      expect(edited.Statement[1].Condition).toBeUndefined();
    });

    it('S3 Files: StringLike aws:SourceVpc "vpc-*" is public', () => {
      const result = judge(loadFixture("synthetic-s3files-PutFileSystemPolicy-vpc-wildcard.json"));
      expect(result.findings.map((f) => f.rule)).toEqual([RULE]);
      // The witness: a value the wildcard matches and no fixed value of the policy.
      expect(result.findings[0]?.message).toMatch(/with aws:sourcevpc=vpc-[^,)]*/);
    });

    it("EFS: {AWS: *} grants with no condition; the plan is EFS-shaped (PascalCase)", () => {
      const result = judge(loadFixture("synthetic-efs-PutFileSystemPolicy-public-root-no-tls.json"));
      expect(result.findings.map((f) => f.rule)).toContain(RULE);
      expect(result.plan[0]).toMatchObject({
        api: "elasticfilesystem:PutFileSystemPolicy",
        params: { FileSystemId: "fs-0123456789abcdef0" },
      });
      expect(Object.keys(result.plan[0]?.params ?? {}).sort()).toEqual(["FileSystemId", "Policy"]);
      expect(plannedPolicy(result.plan[0]).Statement[0].Resource).toBe(EFS_ARN);
    });

    it("NotPrincipal with Allow is public", () => {
      const result = judge(putPolicy([ALL_BUT_ONE_OWNER_ROLE]));
      expect(result.findings.map((f) => f.rule)).toEqual([RULE]);
    });

    it("an edit that would lock out the owner's principals is not planned, and the reason names the request", () => {
      // NotPrincipal excluded one of the owner's roles: narrowing it would grant that role, so the
      // edit removes the statement, and every other principal of the owner's account loses it.
      const result = judge(putPolicy([ALL_BUT_ONE_OWNER_ROLE]));
      expect(result.findings.map((f) => f.rule)).toEqual([RULE]);
      expect(result.plan).toEqual([]);
      expect(result.reason).toMatch(
        /no edit could be proved safe \(the edited policy would no longer allow s3files:Client(Mount|Write) by a role session of account 111122223333 \(arn:aws:sts::111122223333:assumed-role\/.*\): left for a person/,
      );
    });

    it("notify mode keeps the finding and drops the plan", () => {
      const result = judge(loadFixture("synthetic-s3files-PutFileSystemPolicy-public-mount.json"), {
        rules: { [RULE]: "notify" },
      });
      expect(result.verdict).toBe("violation");
      expect(result.plan).toEqual([]);
    });
  });

  describe("compliant", () => {
    it("a fixed aws:PrincipalOrgID limit", () => {
      expect(judge(loadFixture("synthetic-s3files-PutFileSystemPolicy-org-limited.json")).verdict).toBe(
        "compliant",
      );
    });

    it("a Deny that takes the access back", () => {
      expect(judge(loadFixture("synthetic-s3files-PutFileSystemPolicy-deny-takes-back.json")).verdict).toBe(
        "compliant",
      );
    });

    it("a fixed public /32 aws:SourceIp (EFS, TLS enforced)", () => {
      expect(judge(loadFixture("synthetic-efs-PutFileSystemPolicy-partner-ip.json")).verdict).toBe(
        "compliant",
      );
    });

    it("the EFS console's recommended policy (AccessedViaMountTarget, TLS)", () => {
      expect(judge(loadFixture("synthetic-efs-PutFileSystemPolicy-console-recommended.json")).verdict).toBe(
        "compliant",
      );
    });
  });

  describe("input it cannot judge", () => {
    it("truncated policy text: invalid, no plan", () => {
      const result = judge(loadFixture("synthetic-s3files-PutFileSystemPolicy-truncated.json"));
      expect(result).toMatchObject({ verdict: "invalid", plan: [], findings: [] });
      expect(result.reason).toMatch(/requestParameters\.policy: not valid JSON \(malformed or truncated\)/);
    });

    it("a policy of the wrong shape: the reason points inside the policy text", () => {
      const result = judge(
        putPolicy([{ Effect: "Permit", Principal: "*", Action: MOUNT, Resource: S3_ARN }]),
      );
      expect(result.verdict).toBe("invalid");
      expect(result.reason).toMatch(
        /requestParameters\.policy, in the policy text at Statement\[0\]\.Effect: must be "Allow" or "Deny"/,
      );
    });

    it("policy over 20,000 characters: invalid", () => {
      expect(judge(loadFixture("synthetic-efs-PutFileSystemPolicy-oversized.json")).reason).toMatch(
        /more than the 20000/,
      );
    });

    it("a judgement that spends its whole budget is too complex to decide: recorded, no plan", () => {
      // A grant only a search can show (the plain requests tried first carry no current time).
      const record = putPolicy([
        {
          Effect: "Allow",
          Principal: "*",
          Action: MOUNT,
          Resource: S3_ARN,
          Condition: { DateGreaterThan: { "aws:CurrentTime": "2026-01-01T00:00:00Z" } },
        },
      ]);
      // The outermost budget is the one every question shares; one step is spent at once.
      const { result } = withJudgementBudget(() => judge(record), 1);
      expect(result.verdict).toBe("violation");
      expect(result.plan).toEqual([]);
      expect(result.findings).toContainEqual({
        rule: RULE,
        severity: "critical",
        message: expect.stringMatching(/too complex to decide .*search steps.*left for a person/),
      });
    });

    it("a failed call is ignored", () => {
      expect(judge(loadFixture("synthetic-s3files-PutFileSystemPolicy-AccessDenied.json")).verdict).toBe(
        "ignored",
      );
    });
  });
});
