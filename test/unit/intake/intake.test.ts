import { describe, expect, it } from "vitest";
import { intakeRecord, isOwnChange } from "../../../shared/core/intake/intake.ts";
import type { Change, SgRule } from "../../../shared/core/types.ts";
import { loadFixture, variantOf } from "../../helpers/fixtures.ts";

const NO_SELF = { selfRoleArns: [] };

function changeOf(raw: unknown): Change {
  const result = intakeRecord(raw, NO_SELF);
  if (result.status !== "change") throw new Error(`expected a change, got ${JSON.stringify(result)}`);
  return result.change;
}

function rulesOf(raw: unknown): readonly SgRule[] {
  const { detail } = changeOf(raw);
  if (detail.kind !== "sg-rules-added" && detail.kind !== "sg-rules-modified") throw new Error(detail.kind);
  return detail.rules;
}

describe("EC2 security-group records", () => {
  it("reads the ipPermissions.items form with ports as numbers (Go SDK, pre-2021, no rule ids)", () => {
    const rules = rulesOf(loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json"));
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      groupId: "sg-0d921df5d84f7270a",
      direction: "ingress",
      protocol: "tcp",
      ports: { from: 22, to: 22 },
      peer: { kind: "cidr", cidr: "0.0.0.0/0" },
    });
    expect(rules[0]?.ruleId).toBeUndefined();
  });

  it("reads ports given as strings (console record after normalisation) and keeps the CIDR as written", () => {
    const rules = rulesOf(loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-console-string-ports.json"));
    expect(rules[0]).toMatchObject({
      ports: { from: 443, to: 443 },
      peer: { kind: "cidr", cidr: "0.0.0.0/16" },
    });
  });

  it("reads the older flat form and matches the rule id from the response set", () => {
    const rules = rulesOf(loadFixture("ec2-AuthorizeSecurityGroupIngress-stratus-legacy-flat-params.json"));
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      groupId: "sg-003dc7f1f1c686164",
      protocol: "tcp",
      ports: { from: 22, to: 22 },
      peer: { kind: "cidr", cidr: "208.236.235.254/0" },
      ruleId: "sgr-09b3e3d2ca1edf2a2",
    });
  });

  it("unwraps an EventBridge envelope and reads a security-group reference over 0-65535", () => {
    const change = changeOf(
      loadFixture("ec2-AuthorizeSecurityGroupIngress-netflix-historical-eventbridge-sgref.json"),
    );
    expect(change.meta.account).toBe("123456789010");
    expect(change.resource).toBe("arn:aws:ec2:us-east-1:123456789010:security-group/sg-4e386e31");
    expect(
      rulesOf(loadFixture("ec2-AuthorizeSecurityGroupIngress-netflix-historical-eventbridge-sgref.json"))[0],
    ).toMatchObject({
      ports: { from: 0, to: 65535 },
      peer: { kind: "security-group", groupId: "sg-4e386e22" },
    });
  });

  it("reads egress with protocol -1 and no ports as all traffic", () => {
    const rules = rulesOf(
      loadFixture("ec2-AuthorizeSecurityGroupEgress-panther-terraform-protocol-minus1.json"),
    );
    expect(rules[0]).toMatchObject({
      direction: "egress",
      protocol: "all",
      description: expect.stringContaining("egress"),
    });
  });

  it("splits one call into one rule per source and matches each to its rule id", () => {
    const rules = rulesOf(
      loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-nfs-mixed-sources-rule-ids.json"),
    );
    expect(rules.map((r) => [r.peer.kind === "cidr" ? r.peer.cidr : "", r.ruleId])).toEqual([
      ["10.20.0.0/16", "sgr-0aaa00000000000a1"],
      ["0.0.0.0/0", "sgr-0aaa00000000000a2"],
      ["::/0", "sgr-0aaa00000000000a3"],
    ]);
  });

  it("reads the PascalCase ModifySecurityGroupRules wrapper, direction assumed ingress", () => {
    const rules = rulesOf(loadFixture("synthetic-ec2-ModifySecurityGroupRules-world-ssh.json"));
    expect(rules[0]).toMatchObject({
      ruleId: "sgr-0bbb00000000000b1",
      direction: "ingress",
      directionAssumed: true,
      protocol: "tcp",
      peer: { kind: "cidr", cidr: "0.0.0.0/0" },
    });
  });

  it("reads ModifySecurityGroupRules with several rules as an array", () => {
    const raw = variantOf("synthetic-ec2-ModifySecurityGroupRules-world-ssh.json", (r) => {
      const one = r.requestParameters.ModifySecurityGroupRulesRequest.SecurityGroupRule;
      r.requestParameters.ModifySecurityGroupRulesRequest.SecurityGroupRule = [
        one,
        { SecurityGroupRuleId: "sgr-2", SecurityGroupRule: { IpProtocol: "-1", PrefixListId: "pl-1" } },
      ];
    });
    expect(rulesOf(raw).map((r) => r.ruleId)).toEqual(["sgr-0bbb00000000000b1", "sgr-2"]);
  });

  it("reads revokes by rule id and CreateSecurityGroup", () => {
    expect(changeOf(loadFixture("synthetic-ec2-RevokeSecurityGroupIngress-by-rule-id.json")).detail).toEqual({
      kind: "sg-rules-revoked",
      groupId: "sg-0a1b2c3d4e5f60718",
      direction: "ingress",
      ruleIds: ["sgr-0aaa00000000000a2"],
    });
    expect(changeOf(loadFixture("ec2-CreateSecurityGroup-panther-terraform.json")).detail).toEqual({
      kind: "sg-created",
      groupId: "sg-04d018d184a18f647",
      vpcId: "vpc-a1a044c7",
    });
  });
});

describe("S3 Files and EFS records are recognised", () => {
  it("CreateMountTarget (S3 Files) names its security groups and mount-target ARN", () => {
    const change = changeOf(loadFixture("s3files-CreateMountTarget-aws-docs-example.json"));
    expect(change.detail).toMatchObject({
      kind: "mount-target-security-groups",
      service: "s3files",
      action: "create",
      fileSystemId: "fs-abcd123456789ef0",
      mountTargetId: "fsmt-1234567",
      vpcId: "vpc-01234567",
      securityGroups: ["sg-c16d65b6"],
    });
    expect(change.resource).toBe("arn:aws:s3files:us-west-2:111122223333:mount-target/fsmt-1234567");
    expect(change.resourceIds).toContain("fs-abcd123456789ef0");
  });

  it("CreateFileSystem (S3 Files)", () => {
    expect(changeOf(loadFixture("s3files-CreateFileSystem-aws-docs-example.json")).detail).toMatchObject({
      kind: "file-system-created",
      service: "s3files",
      fileSystemId: "fs-abcd123456789ef0",
      kmsKeyId: undefined,
    });
  });
});

describe("ignored records say why", () => {
  it.each([
    [
      "ec2-AuthorizeSecurityGroupIngress-panther-console-errorCode-UnauthorizedOperation.json",
      /errorCode UnauthorizedOperation/,
    ],
    ["ec2-AuthorizeSecurityGroupIngress-panther-errorCode-RequestExpired.json", /errorCode RequestExpired/],
    ["efs-NewClientConnection-awsdocs-efs-user-guide.json", /service event/],
    ["efs-CreateTags-awsdocs-efs-user-guide.json", /recorded, not judged/],
  ])("%s", (name, reason) => {
    const result = intakeRecord(loadFixture(name), NO_SELF);
    expect(result.status).toBe("ignored");
    expect(result.status === "ignored" && result.reason).toMatch(reason);
  });

  it("a failed call or a loop-guarded one still names the resource it was about", () => {
    const failed = intakeRecord(
      loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-console-errorCode-UnauthorizedOperation.json"),
      NO_SELF,
    );
    expect(failed).toMatchObject({
      resource: "arn:aws:ec2:us-west-2:112233445566:security-group/sg-04f0b44316f7d2471",
    });
    const own = intakeRecord(
      loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-by-remediator-role.json"),
      {
        selfRoleArns: ["arn:aws:iam::111122223333:role/s3files-remediator-remediate"],
      },
    );
    expect(own).toMatchObject({
      status: "ignored",
      resource: "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e5f60718",
    });
  });

  it("read-only calls", () => {
    const raw = variantOf("ec2-CreateSecurityGroup-panther-terraform.json", (r) => {
      r.eventName = "DescribeSecurityGroups";
    });
    expect(intakeRecord(raw, NO_SELF)).toMatchObject({
      status: "ignored",
      reason: expect.stringMatching(/read-only/),
    });
  });

  it("other services and unknown event names", () => {
    const otherSource = variantOf("ec2-CreateSecurityGroup-panther-terraform.json", (r) => {
      r.eventSource = "sqs.amazonaws.com";
      r.eventName = "SetQueueAttributes";
    });
    expect(intakeRecord(otherSource, NO_SELF)).toMatchObject({
      status: "ignored",
      reason: expect.stringMatching(/not one the remediator judges/),
    });
    const unknownName = variantOf("s3files-CreateFileSystem-aws-docs-example.json", (r) => {
      r.eventName = "FrobnicateFileSystem";
    });
    expect(intakeRecord(unknownName, NO_SELF)).toMatchObject({
      status: "ignored",
      reason: "FrobnicateFileSystem is not a S3 Files call the remediator judges",
    });
  });

  it("an EventBridge event of another detail-type is invalid, naming the field", () => {
    const raw = { "detail-type": "Scheduled Event", detail: {}, source: "aws.events" };
    expect(intakeRecord(raw, NO_SELF)).toMatchObject({
      status: "invalid",
      error: expect.stringMatching(/^detail-type: /),
    });
  });
});

describe("the loop guard", () => {
  const record = loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-by-remediator-role.json");
  const actor = changeOf(record).meta.actor;

  it("matches the role behind an assumed-role session (sessionIssuer.arn)", () => {
    expect(isOwnChange(actor, ["arn:aws:iam::111122223333:role/s3files-remediator-remediate"])).toBe(true);
    expect(
      intakeRecord(record, { selfRoleArns: ["arn:aws:iam::111122223333:role/s3files-remediator-remediate"] }),
    ).toMatchObject({
      status: "ignored",
      reason: expect.stringMatching(/loop guard/),
    });
  });

  it("matches the session ARN even when sessionIssuer is missing", () => {
    const bare = { ...actor, issuerArn: undefined };
    expect(isOwnChange(bare, ["arn:aws:iam::111122223333:role/s3files-remediator-remediate"])).toBe(true);
    expect(isOwnChange(bare, ["arn:aws:sts::111122223333:assumed-role/s3files-remediator-remediate"])).toBe(
      true,
    );
  });

  it("matches a role with a path, and any account with *", () => {
    const pathed = {
      ...actor,
      issuerArn: "arn:aws:iam::444455556666:role/guardrails/s3files-remediator-remediate",
    };
    expect(isOwnChange(pathed, ["arn:aws:iam::*:role/guardrails/s3files-remediator-remediate"])).toBe(true);
  });

  it("does not match another role, a prefix of the name, or another account", () => {
    expect(isOwnChange(actor, ["arn:aws:iam::111122223333:role/s3files-remediator"])).toBe(false);
    expect(isOwnChange(actor, ["arn:aws:iam::999999999999:role/s3files-remediator-remediate"])).toBe(false);
    expect(isOwnChange(actor, [])).toBe(false);
  });

  it("reads lower-cased identity keys (sessioncontext.sessionissuer)", () => {
    const panther = changeOf(
      loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-console-string-ports.json"),
    );
    expect(panther.meta.actor.issuerArn).toBe("arn:aws:iam::112233445566:role/TestAdmin");
    expect(isOwnChange(panther.meta.actor, ["arn:aws:iam::112233445566:role/TestAdmin"])).toBe(true);
  });
});

describe("invalid records name the field and never throw", () => {
  it.each([
    ["missing eventName", (r: Record<string, any>) => delete r.eventName, /eventName/],
    [
      "groupId missing",
      (r: Record<string, any>) => delete r.requestParameters.groupId,
      /requestParameters.groupId/,
    ],
    [
      "no permissions at all",
      (r: Record<string, any>) => (r.requestParameters.ipPermissions = {}),
      /no rule given/,
    ],
    [
      "port not a number",
      (r: Record<string, any>) => (r.requestParameters.ipPermissions.items[0].fromPort = "ssh"),
      /fromPort/,
    ],
    [
      "unknown protocol",
      (r: Record<string, any>) => (r.requestParameters.ipPermissions.items[0].ipProtocol = "carrier-pigeon"),
      /ipProtocol: unknown protocol/,
    ],
  ])("%s", (_, edit, message) => {
    const raw = variantOf("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json", edit);
    const result = intakeRecord(raw, NO_SELF);
    expect(result.status).toBe("invalid");
    expect(result.status === "invalid" && result.error).toMatch(message);
  });

  it("a malformed CIDR names its exact position", () => {
    const result = intakeRecord(
      loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-malformed-cidr.json"),
      NO_SELF,
    );
    expect(result).toMatchObject({
      status: "invalid",
      error:
        'requestParameters.ipPermissions.items[0].ipRanges.items[0].cidrIp: not an IPv4 address: "10.0.0.300/8"',
      partial: { eventName: "AuthorizeSecurityGroupIngress" },
    });
  });

  it.each([null, 42, "text", [], {}])("non-record input %j", (raw) => {
    expect(intakeRecord(raw, NO_SELF).status).toBe("invalid");
  });
});

describe("a group named by groupName (default VPC)", () => {
  it("is judged under the sg- id the response set gives", () => {
    const raw = variantOf("ec2-AuthorizeSecurityGroupIngress-stratus-legacy-flat-params.json", (r) => {
      delete r.requestParameters.groupId;
      r.requestParameters.groupName = "default";
    });
    const change = changeOf(raw);
    expect(change.detail).toMatchObject({ kind: "sg-rules-added", groupId: "sg-003dc7f1f1c686164" });
    expect(change.resourceIds).toContain("sg-003dc7f1f1c686164");
  });

  it("keeps the name, revoked by GroupName, when no response set names the id", () => {
    const raw = variantOf("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json", (r) => {
      delete r.requestParameters.groupId;
      r.requestParameters.groupName = "default";
    });
    expect(changeOf(raw).detail).toMatchObject({ groupId: "default" });
  });
});
