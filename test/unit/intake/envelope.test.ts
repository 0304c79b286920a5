/**
 * The EventBridge envelope around a CloudTrail record must be one AWS wrote about that record: an
 * `aws.` source, and the account and region EventBridge stamped equal to the record's own. Anything
 * else is recorded `invalid`, with the reason, and never acted on.
 */
import { describe, expect, it } from "vitest";
import { intakeRecord } from "../../../shared/core/intake/intake.ts";
import { loadFixture } from "../../helpers/fixtures.ts";

/** A real record (world-open SSH), in the envelope EventBridge would deliver it in. */
function delivered(overrides: Record<string, unknown> = {}, detail: Record<string, unknown> = {}) {
  const record = loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json");
  return {
    version: "0",
    id: "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.ec2",
    account: record.recipientAccountId,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: { ...record, ...detail },
    ...overrides,
  };
}

const judge = (event: unknown) => intakeRecord(event, { selfRoleArns: [] });
const errorOf = (event: unknown) => {
  const result = judge(event);
  return result.status === "invalid" ? result.error : `not invalid: ${result.status}`;
};

describe("the EventBridge envelope", () => {
  it("is accepted when AWS wrote it about this record", () => {
    expect(judge(delivered()).status).toBe("change");
  });

  it.each([["com.example.forged"], ["awsx.ec2"], ["ec2.amazonaws.com"], [""]])(
    "is refused with a custom source %j (only AWS emits aws.*)",
    (source) => {
      expect(errorOf(delivered({ source }))).toMatch(/is not an AWS service/);
    },
  );

  it("is refused without a source", () => {
    const { source: _, ...withoutSource } = delivered();
    expect(errorOf(withoutSource)).toMatch(/source null is not an AWS service/);
  });

  it("is refused when its account disagrees with the record's recipientAccountId (a chosen account to act in)", () => {
    expect(errorOf(delivered({}, { recipientAccountId: "999988887777" }))).toBe(
      "EventBridge event: account 112233445566 disagrees with the record's recipientAccountId 999988887777: " +
        "a forged or altered event, not acted on",
    );
  });

  it("is refused when its region disagrees with the record's awsRegion", () => {
    expect(errorOf(delivered({ region: "eu-west-1" }))).toMatch(
      /region eu-west-1 disagrees with the record's awsRegion us-east-1/,
    );
  });

  it.each([["account"], ["region"]])("is refused without the %s EventBridge stamps on every event", (key) => {
    const event: Record<string, unknown> = delivered();
    delete event[key];
    expect(errorOf(event)).toMatch(new RegExp(`${key}: missing`));
  });

  it("keeps what it can name of a refused record for the audit line", () => {
    const result = judge(delivered({ source: "com.example.forged" }));
    expect(result.status).toBe("invalid");
    if (result.status === "invalid") {
      expect(result.partial.eventName).toBe("AuthorizeSecurityGroupIngress");
      expect(result.partial.eventSource).toBe("ec2.amazonaws.com");
    }
  });

  it("does not apply to a bare CloudTrail record (read from a trail, not delivered by EventBridge)", () => {
    expect(judge(loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json")).status).toBe(
      "change",
    );
  });
});
