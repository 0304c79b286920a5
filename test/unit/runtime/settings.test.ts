import { describe, expect, it } from "vitest";
import { loadSettings } from "../../../shared/runtime/settings.ts";

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
      retry: { maxAttempts: 4, baseDelayMs: 100 },
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

  it("reads the engine configuration document", () => {
    const settings = loadSettings({
      ...REQUIRED,
      REMEDIATOR_CONFIG: JSON.stringify({ rules: { "sg-egress-internet-sensitive-port": "off" } }),
    });
    expect(settings.config.rules).toEqual({ "sg-egress-internet-sensitive-port": "off" });
  });
});
