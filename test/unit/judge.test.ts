import { describe, expect, it } from "vitest";
import { evaluateRecord } from "../../shared/core/judge.ts";
import { RULES } from "../../shared/core/rules/index.ts";
import type { Rule } from "../../shared/core/rules/rule.ts";
import { loadFixture, testConfig } from "../helpers/fixtures.ts";

const SSH_WORLD = loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json");
const exemption = {
  resource: "sg-0d921df5d84f7270a",
  reason: "bastion during cut-over",
  owner: "platform@example.com",
  expires: "2026-11-30",
};

describe("exemptions", () => {
  it("an unexpired exemption keeps the violation and its findings but drops the plan", () => {
    const result = evaluateRecord(SSH_WORLD, {
      config: testConfig({ exemptions: [exemption] }),
      now: new Date("2026-11-30T23:00:00Z"),
    });
    expect(result.verdict).toBe("violation");
    expect(result.findings).toHaveLength(1);
    expect(result.plan).toEqual([]);
    expect(result.reason).toBe(
      "exempted until 2026-11-30 (owner platform@example.com): bastion during cut-over.",
    );
  });

  it("an expired exemption no longer applies", () => {
    const result = evaluateRecord(SSH_WORLD, {
      config: testConfig({ exemptions: [exemption] }),
      now: new Date("2026-12-01T00:00:00Z"),
    });
    expect(result.plan).toHaveLength(1);
  });

  it("matches the resource ARN, or the account", () => {
    const byArn = {
      ...exemption,
      resource: "arn:aws:ec2:us-east-1:112233445566:security-group/sg-0d921df5d84f7270a",
    };
    const byAccount = { ...exemption, resource: undefined, account: "112233445566" };
    for (const e of [byArn, byAccount]) {
      const result = evaluateRecord(SSH_WORLD, {
        config: testConfig({ exemptions: [e] }),
        now: new Date("2026-11-01"),
      });
      expect(result.plan).toEqual([]);
    }
  });

  it("an exemption limited to other rules does not cover this one", () => {
    const result = evaluateRecord(SSH_WORLD, {
      config: testConfig({ exemptions: [{ ...exemption, rules: ["sg-egress-internet-sensitive-port"] }] }),
      now: new Date("2026-11-01"),
    });
    expect(result.plan).toHaveLength(1);
  });
});

describe("a rule that throws", () => {
  it("is reported, never aborts the evaluation, and never plans a write", () => {
    const broken: Rule = {
      id: "sg-ingress-internet-sensitive-port",
      title: "broken",
      severity: "high",
      defaultMode: "enforce",
      rationale: "test",
      appliesTo: ["sg-rules-added"],
      evaluate() {
        throw new Error("boom");
      },
    };
    const result = evaluateRecord(SSH_WORLD, { config: testConfig(), now: new Date(), rules: [broken] });
    expect(result.verdict).toBe("invalid");
    expect(result.plan).toEqual([]);
    expect(result.reason).toBe("rule sg-ingress-internet-sensitive-port errored: boom");
  });
});

describe("the catalogue", () => {
  it("has unique kebab-case ids, each with a rationale", () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(rule.rationale.length).toBeGreaterThan(40);
      expect(rule.appliesTo.length).toBeGreaterThan(0);
    }
  });
});

describe("exemptions apply rule by rule", () => {
  const until = { reason: "partner migration", owner: "storage@example.com", expires: "2027-01-31" };
  const now = new Date("2026-11-22T00:00:00Z");

  it("an exemption for one rule never shields another rule that fired on the same change", () => {
    const record = loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-nfs-mixed-sources-rule-ids.json");
    // The group guards a mount target, so 0.0.0.0/0:2049 breaks both security-group rules.
    const facts = {
      mountTargetGuards: new Map([
        ["sg-0a1b2c3d4e5f60718", { fileSystemIds: ["fs-1"], vpcCidrs: ["10.20.0.0/16"] }],
      ]),
    };
    const config = testConfig({
      exemptions: [
        { resource: "sg-0a1b2c3d4e5f60718", rules: ["sg-ingress-internet-sensitive-port"], ...until },
      ],
    });
    const result = evaluateRecord(record, { config, now, facts });
    expect(result.verdict).toBe("violation");
    expect(result.exemption).toBeUndefined();
    expect(result.reason).toMatch(/Exempted: sg-ingress-internet-sensitive-port until 2027-01-31/);
    expect(result.plan).toHaveLength(1);
    expect(result.plan[0]?.reason).toMatch(/outside the VPC/);
    expect(result.plan[0]?.reason).not.toMatch(/admits the internet/);
  });

  it("an exempted policy rule's goal is left out of the combined policy edit", () => {
    const record = loadFixture("synthetic-s3files-PutFileSystemPolicy-root-and-cross-account.json");
    const plain = evaluateRecord(record, { config: testConfig(), now });
    expect(String(plain.plan[0]?.params.policy)).not.toContain("444455556666:root");
    const config = testConfig({
      exemptions: [{ resource: "fs-abcd123456789ef0", rules: ["fs-policy-cross-account-access"], ...until }],
    });
    const result = evaluateRecord(record, { config, now });
    expect(result.verdict).toBe("violation");
    expect(result.plan).toHaveLength(1);
    const edited = JSON.parse(String(result.plan[0]?.params.policy));
    expect(JSON.stringify(edited)).toContain("arn:aws:iam::444455556666:root");
    expect(JSON.stringify(edited)).not.toContain("ClientRootAccess");
  });
});
