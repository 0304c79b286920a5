import { describe, expect, it } from "vitest";
import { intakeRecord } from "../../../shared/core/intake/intake.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import { authorizeIngressEvent } from "../../helpers/runtime-env.ts";

const REQUIRED = {
  AUDIT_TABLE_NAME: "audit",
  STATE_TABLE_NAME: "state",
  NOTIFY_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:alerts",
  EVENT_BUS_NAME: "decisions",
  REMEDIATION_MODE: "enforce",
  SELF_ROLE_ARNS: "arn:aws:iam::123456789012:role/remediator, arn:aws:iam::*:role/remediator-member",
};

describe("settings", () => {
  it("reads the six required variables and gives every optional one its safe default", () => {
    const settings = loadSettings(REQUIRED);

    expect(settings).toMatchObject({
      auditTableName: "audit",
      stateTableName: "state",
      mode: "enforce",
      exemptTagKey: "remediator:exempt",
      slackWebhookSecretArn: undefined,
      securityHubEnabled: false,
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5000 },
      reconcileMaxFileSystems: 50,
      dedupeTtlDays: 14,
    });
    expect(settings.selfRoleArns).toEqual([
      "arn:aws:iam::123456789012:role/remediator",
      "arn:aws:iam::*:role/remediator-member",
    ]);
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it("names every missing or wrong variable in one error", () => {
    expect(() =>
      loadSettings({ ...REQUIRED, AUDIT_TABLE_NAME: "", REMEDIATION_MODE: "fix-everything" }),
    ).toThrow(/AUDIT_TABLE_NAME.*REMEDIATION_MODE|REMEDIATION_MODE.*AUDIT_TABLE_NAME/);
  });

  it("refuses an empty loop guard", () => {
    expect(() => loadSettings({ ...REQUIRED, SELF_ROLE_ARNS: " " })).toThrow(/SELF_ROLE_ARNS/);
  });

  it("validates the optional ones too", () => {
    expect(() => loadSettings({ ...REQUIRED, RETRY_MAX_ATTEMPTS: "many" })).toThrow(/RETRY_MAX_ATTEMPTS/);
    expect(() =>
      loadSettings({ ...REQUIRED, SLACK_WEBHOOK_SECRET_ARN: "https://hooks.slack.com/x" }),
    ).toThrow(/SLACK_WEBHOOK_SECRET_ARN/);
    expect(() => loadSettings({ ...REQUIRED, REMEDIATOR_CONFIG: '{"exemptoins": []}' })).toThrow(
      /exemptoins/,
    );
    expect(loadSettings({ ...REQUIRED, SECURITY_HUB_ENABLED: "true" }).securityHubEnabled).toBe(true);
  });

  it("reads the audit archive bucket and its key, off by default", () => {
    expect(loadSettings(REQUIRED)).toMatchObject({
      auditArchiveBucket: undefined,
      auditArchiveKmsKeyArn: undefined,
    });
    const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(
      loadSettings({
        ...REQUIRED,
        AUDIT_ARCHIVE_BUCKET: " audit-archive.example ",
        AUDIT_ARCHIVE_KMS_KEY_ARN: key,
      }),
    ).toMatchObject({ auditArchiveBucket: "audit-archive.example", auditArchiveKmsKeyArn: key });
    for (const bad of ["Audit", "ab", "arn:aws:s3:::audit", "a..b", "s3://audit", "-audit"]) {
      expect(() => loadSettings({ ...REQUIRED, AUDIT_ARCHIVE_BUCKET: bad }), bad).toThrow(
        /AUDIT_ARCHIVE_BUCKET/,
      );
    }
    expect(() => loadSettings({ ...REQUIRED, AUDIT_ARCHIVE_KMS_KEY_ARN: "alias/remediator" })).toThrow(
      /AUDIT_ARCHIVE_KMS_KEY_ARN/,
    );
  });

  it("reads the engine configuration document", () => {
    const settings = loadSettings({
      ...REQUIRED,
      REMEDIATOR_CONFIG: JSON.stringify({ rules: { "sg-egress-internet-sensitive-port": "off" } }),
    });
    expect(settings.config.rules).toEqual({ "sg-egress-internet-sensitive-port": "off" });
  });

  describe("organization mode (MEMBER_ROLE_NAME)", () => {
    const CENTRAL_ONLY = { ...REQUIRED, SELF_ROLE_ARNS: "arn:aws:iam::123456789012:role/remediator" };

    it("is off by default; the home account and partition come from the topic ARN", () => {
      const settings = loadSettings(CENTRAL_ONLY);
      expect(settings).toMatchObject({
        memberRoleName: undefined,
        homeAccount: "123456789012",
        partition: "aws",
      });
      expect(settings.selfRoleArns).toEqual(["arn:aws:iam::123456789012:role/remediator"]);
      expect(
        loadSettings({ ...CENTRAL_ONLY, NOTIFY_TOPIC_ARN: "arn:aws-cn:sns:cn-north-1:210987654321:alerts" }),
      ).toMatchObject({ homeAccount: "210987654321", partition: "aws-cn" });
    });

    it("adds the member role in every account to the loop guard, once", () => {
      const settings = loadSettings({ ...CENTRAL_ONLY, MEMBER_ROLE_NAME: "s3files-remediator-member" });
      expect(settings.memberRoleName).toBe("s3files-remediator-member");
      expect(settings.selfRoleArns).toEqual([
        "arn:aws:iam::123456789012:role/remediator",
        "arn:aws:iam::*:role/s3files-remediator-member",
      ]);
      // The stack already lists it in SELF_ROLE_ARNS: not twice.
      const given = loadSettings({ ...REQUIRED, MEMBER_ROLE_NAME: "remediator-member" });
      expect(given.selfRoleArns).toEqual([
        "arn:aws:iam::123456789012:role/remediator",
        "arn:aws:iam::*:role/remediator-member",
      ]);
    });

    it("ignores changes the member role made in any member account (loop guard)", () => {
      const settings = loadSettings({ ...CENTRAL_ONLY, MEMBER_ROLE_NAME: "s3files-remediator-member" });
      const byMemberRole = authorizeIngressEvent("sg-0123456789abcdef0", 2049, [{ cidr: "0.0.0.0/0" }], {
        actorArn: "arn:aws:sts::222233334444:assumed-role/s3files-remediator-member/s3files-remediator@e-1",
      });
      const result = intakeRecord(byMemberRole, { selfRoleArns: settings.config.selfRoleArns });
      expect(result.status).toBe("ignored");
      expect(JSON.stringify(result)).toMatch(/loop guard/);
      // Without organization mode the same change is judged.
      const central = loadSettings(CENTRAL_ONLY);
      expect(intakeRecord(byMemberRole, { selfRoleArns: central.config.selfRoleArns }).status).toBe("change");
    });

    it("MEMBER_ACCOUNT_IDS: the accounts reconcile sweeps too (never the home one), only with a role", () => {
      const settings = loadSettings({
        ...CENTRAL_ONLY,
        MEMBER_ROLE_NAME: "s3files-remediator-member",
        MEMBER_ACCOUNT_IDS: "222233334444, 123456789012,333344445555,222233334444",
      });
      expect(settings.memberAccountIds).toEqual(["222233334444", "333344445555"]);
      expect(loadSettings(CENTRAL_ONLY).memberAccountIds).toEqual([]);
      expect(() => loadSettings({ ...CENTRAL_ONLY, MEMBER_ACCOUNT_IDS: "222233334444" })).toThrow(
        /MEMBER_ACCOUNT_IDS: needs MEMBER_ROLE_NAME/,
      );
      expect(() =>
        loadSettings({ ...CENTRAL_ONLY, MEMBER_ROLE_NAME: "m", MEMBER_ACCOUNT_IDS: "2222;3333" }),
      ).toThrow(/MEMBER_ACCOUNT_IDS/);
    });

    it("refuses a role name that is not one", () => {
      expect(() => loadSettings({ ...CENTRAL_ONLY, MEMBER_ROLE_NAME: "path/to/role" })).toThrow(
        /MEMBER_ROLE_NAME/,
      );
    });
  });
});
