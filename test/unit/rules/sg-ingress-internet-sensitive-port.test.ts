import { describe, expect, it } from "vitest";
import { evaluateRecord } from "../../../shared/core/judge.ts";
import { loadFixture, testConfig, variantOf } from "../../helpers/fixtures.ts";

const NOW = new Date("2026-11-22T12:00:00Z");
const RULE = "sg-ingress-internet-sensitive-port";

function judge(raw: unknown, overrides = {}, facts = {}) {
  return evaluateRecord(raw, { config: testConfig(overrides), now: NOW, facts });
}

/** A real Go SDK record (tcp/22 from 0.0.0.0/0) with its permission replaced. */
function withPermission(permission: Record<string, unknown>) {
  return variantOf("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json", (r) => {
    r.requestParameters.ipPermissions.items = [permission];
  });
}

describe(RULE, () => {
  describe("violations", () => {
    it("SSH from 0.0.0.0/0 without rule ids: revoke by the narrowest IpPermissions", () => {
      const result = judge(loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json"));
      expect(result.verdict).toBe("violation");
      expect(result.findings).toEqual([
        {
          rule: RULE,
          severity: "high",
          message: expect.stringContaining("tcp/22 from 0.0.0.0/0 exposes 22 (SSH)"),
        },
      ]);
      expect(result.plan).toEqual([
        {
          api: "ec2:RevokeSecurityGroupIngress",
          params: {
            GroupId: "sg-0d921df5d84f7270a",
            IpPermissions: [
              { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
            ],
          },
          reason: expect.any(String),
        },
      ]);
    });

    it("a non-canonical /0 in the flat form is the internet; revoked by its rule id", () => {
      const result = judge(loadFixture("ec2-AuthorizeSecurityGroupIngress-stratus-legacy-flat-params.json"));
      expect(result.verdict).toBe("violation");
      expect(result.plan).toEqual([
        expect.objectContaining({
          params: { GroupId: "sg-003dc7f1f1c686164", SecurityGroupRuleIds: ["sgr-09b3e3d2ca1edf2a2"] },
        }),
      ]);
    });

    it("mixed sources in one call: only the internet sources are revoked, the private one stays", () => {
      const result = judge(
        loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-nfs-mixed-sources-rule-ids.json"),
      );
      expect(result.findings.map((f) => f.severity)).toEqual(["critical", "critical"]);
      expect(result.plan).toHaveLength(1);
      expect(result.plan[0]?.params).toEqual({
        GroupId: "sg-0a1b2c3d4e5f60718",
        SecurityGroupRuleIds: ["sgr-0aaa00000000000a2", "sgr-0aaa00000000000a3"],
      });
      expect(JSON.stringify(result.plan)).not.toContain("sgr-0aaa00000000000a1");
    });

    it("IPv6: a public /16 over 0-65535 is the internet; a narrow public /48 and ICMPv6 are left alone", () => {
      const result = judge(
        loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-ipv6-wide-range-no-rule-ids.json"),
      );
      expect(result.plan).toEqual([
        expect.objectContaining({
          params: {
            GroupId: "sg-0a1b2c3d4e5f60718",
            IpPermissions: [
              { IpProtocol: "tcp", FromPort: 0, ToPort: 65535, Ipv6Ranges: [{ CidrIpv6: "2600::/16" }] },
            ],
          },
        }),
      ]);
    });

    it("ModifySecurityGroupRules: revoked by the modified rule's id, with the direction caveat", () => {
      const result = judge(loadFixture("synthetic-ec2-ModifySecurityGroupRules-world-ssh.json"));
      expect(result.verdict).toBe("violation");
      expect(result.plan[0]?.params).toEqual({
        GroupId: "sg-0a1b2c3d4e5f60718",
        SecurityGroupRuleIds: ["sgr-0bbb00000000000b1"],
      });
      expect(result.reason).toMatch(/confirmed live/);
    });

    it("all traffic (-1) from ::/0 is critical", () => {
      const result = judge(
        withPermission({ ipProtocol: "-1", ipv6Ranges: { items: [{ cidrIpv6: "::/0" }] } }),
      );
      expect(result.findings[0]?.severity).toBe("critical");
      expect(result.plan[0]?.params).toEqual({
        GroupId: "sg-0d921df5d84f7270a",
        IpPermissions: [{ IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] }],
      });
    });

    it("a prefix list whose live entries include 0.0.0.0/0", () => {
      const raw = loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-prefix-list-nfs.json");
      const facts = { prefixListCidrs: new Map([["pl-0123456789abcdef0", ["10.0.0.0/8", "0.0.0.0/0"]]]) };
      const result = judge(raw, {}, facts);
      expect(result.verdict).toBe("violation");
      expect(result.findings[0]?.message).toContain("prefix list containing 0.0.0.0/0");
      expect(result.plan[0]?.params).toEqual({
        GroupId: "sg-0a1b2c3d4e5f60718",
        SecurityGroupRuleIds: ["sgr-0ccc00000000000c1"],
      });
    });

    it("a configured extra sensitive port", () => {
      const raw = withPermission({
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] },
      });
      expect(judge(raw).verdict).toBe("compliant");
      expect(judge(raw, { sensitivePorts: [5432] }).verdict).toBe("violation");
    });
  });

  describe("compliant", () => {
    it.each([
      [
        "a partner's public /32 on SSH",
        { ipProtocol: "tcp", fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: "198.51.100.7/32" }] } },
      ],
      [
        "a private range on NFS",
        { ipProtocol: "tcp", fromPort: 2049, toPort: 2049, ipRanges: { items: [{ cidrIp: "10.0.0.0/8" }] } },
      ],
      [
        "HTTPS from the internet",
        { ipProtocol: "tcp", fromPort: 443, toPort: 443, ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] } },
      ],
      [
        "ICMP from the internet",
        { ipProtocol: "icmp", fromPort: 8, toPort: 0, ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] } },
      ],
      [
        "a security-group reference on all ports",
        { ipProtocol: "tcp", fromPort: 0, toPort: 65535, groups: { items: [{ groupId: "sg-1" }] } },
      ],
      [
        "a range next to 2049",
        { ipProtocol: "tcp", fromPort: 2050, toPort: 3000, ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] } },
      ],
    ])("%s", (_, permission) => {
      const result = judge(withPermission(permission));
      expect(result.verdict).toBe("compliant");
      expect(result.plan).toEqual([]);
    });

    it("a prefix list offline is compliant but says it will be checked live", () => {
      const result = judge(loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-prefix-list-nfs.json"));
      expect(result.verdict).toBe("compliant");
      expect(result.reason).toMatch(/pl-0123456789abcdef0 .* read live/);
    });

    it("egress to the internet is not this rule's business", () => {
      const result = judge(
        loadFixture("ec2-AuthorizeSecurityGroupEgress-panther-terraform-protocol-minus1.json"),
      );
      expect(result.verdict).toBe("compliant");
    });
  });

  describe("modes", () => {
    it("notify: a violation with no plan", () => {
      const result = judge(loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json"), {
        rules: { [RULE]: "notify" },
      });
      expect(result.verdict).toBe("violation");
      expect(result.plan).toEqual([]);
      expect(result.reason).toMatch(/Notify only: sg-ingress-internet-sensitive-port/);
    });

    it("off: the rule does not run", () => {
      // The mount-target rule also judges ingress rules; with both off, nothing judges the record.
      const result = judge(loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json"), {
        rules: { [RULE]: "off", "sg-ingress-mount-target-nfs-outside-vpc": "off" },
      });
      expect(result.verdict).toBe("ignored");
      expect(result.findings).toEqual([]);
    });
  });
});
