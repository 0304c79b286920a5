import { describe, expect, it } from "vitest";
import { evaluateRecord } from "../../../shared/core/judge.ts";
import { loadFixture, testConfig, variantOf } from "../../helpers/fixtures.ts";

const RULE = "sg-egress-internet-sensitive-port";
const NOW = new Date("2026-11-22T12:00:00Z");
const EGRESS_ALL = "ec2-AuthorizeSecurityGroupEgress-panther-terraform-protocol-minus1.json";

describe(RULE, () => {
  it("is off by default: all-traffic egress to 0.0.0.0/0 (every new group has it) passes", () => {
    const result = evaluateRecord(loadFixture(EGRESS_ALL), { config: testConfig(), now: NOW });
    expect(result.verdict).toBe("compliant");
  });

  it("when enforced, revokes all-traffic egress to the internet", () => {
    const result = evaluateRecord(loadFixture(EGRESS_ALL), {
      config: testConfig({ rules: { [RULE]: "enforce" } }),
      now: NOW,
    });
    expect(result.verdict).toBe("violation");
    expect(result.plan).toEqual([
      {
        api: "ec2:RevokeSecurityGroupEgress",
        params: {
          GroupId: "sg-03eee825d6bb78f54",
          IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        },
        reason: expect.any(String),
      },
    ]);
  });

  it("when enforced, egress on a port that is not sensitive stays", () => {
    const raw = variantOf(EGRESS_ALL, (r) => {
      r.requestParameters.ipPermissions.items[0] = {
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] },
      };
    });
    const result = evaluateRecord(raw, { config: testConfig({ rules: { [RULE]: "enforce" } }), now: NOW });
    expect(result.verdict).toBe("compliant");
  });

  it("never fires on ingress", () => {
    const result = evaluateRecord(
      loadFixture("ec2-AuthorizeSecurityGroupIngress-panther-go-sdk-ssh-world.json"),
      {
        config: testConfig({ rules: { [RULE]: "enforce" } }),
        now: NOW,
      },
    );
    expect(result.findings.every((f) => f.rule !== RULE)).toBe(true);
  });
});
