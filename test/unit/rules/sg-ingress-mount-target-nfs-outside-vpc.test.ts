import { describe, expect, it } from "vitest";
import { loadFixture, variantOf } from "../../helpers/fixtures.ts";
import { judge } from "../../helpers/fs-records.ts";

const RULE = "sg-ingress-mount-target-nfs-outside-vpc";
const GROUP = "sg-0a1b2c3d4e5f60718";

/** The partner-host record (tcp/22 from a /32) turned into NFS from the same narrow public range. */
const nfsFromPartner = variantOf("synthetic-ec2-AuthorizeSecurityGroupIngress-partner-host-ssh.json", (r) => {
  r.requestParameters.ipPermissions.items[0].fromPort = 2049;
  r.requestParameters.ipPermissions.items[0].toPort = 2049;
});
const guards = new Map([[GROUP, { fileSystemIds: ["fs-0123456789abcdef0"], vpcCidrs: ["10.0.0.0/16"] }]]);

describe(RULE, () => {
  it("violation: NFS from a narrow public /32 on a mount-target group (the general rule accepts it)", () => {
    const result = judge(nfsFromPartner, {}, { mountTargetGuards: guards });
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: "critical",
        message: expect.stringContaining("admits tcp/2049 from 198.51.100.7/32, outside the VPC"),
      },
    ]);
    expect(result.plan).toEqual([
      {
        api: "ec2:RevokeSecurityGroupIngress",
        params: {
          GroupId: GROUP,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 2049, ToPort: 2049, IpRanges: [{ CidrIp: "198.51.100.7/32" }] },
          ],
        },
        reason: expect.any(String),
      },
    ]);
  });

  it("compliant: the same rule on a group that guards no mount target", () => {
    expect(judge(nfsFromPartner, {}, { mountTargetGuards: new Map() }).verdict).toBe("compliant");
  });

  it("compliant: NFS from inside the VPC", () => {
    const inside = variantOf("synthetic-ec2-AuthorizeSecurityGroupIngress-partner-host-ssh.json", (r) => {
      Object.assign(r.requestParameters.ipPermissions.items[0], { fromPort: 2049, toPort: 2049 });
      r.requestParameters.ipPermissions.items[0].ipRanges.items[0].cidrIp = "10.0.8.0/24";
    });
    expect(judge(inside, {}, { mountTargetGuards: guards }).verdict).toBe("compliant");
  });

  it("compliant: NFS from a range that spans two of the VPC's CIDR blocks (their union covers it)", () => {
    const spanning = variantOf("synthetic-ec2-AuthorizeSecurityGroupIngress-partner-host-ssh.json", (r) => {
      Object.assign(r.requestParameters.ipPermissions.items[0], { fromPort: 2049, toPort: 2049 });
      r.requestParameters.ipPermissions.items[0].ipRanges.items[0].cidrIp = "10.0.0.0/15";
    });
    const twoBlocks = new Map([
      [GROUP, { fileSystemIds: ["fs-0123456789abcdef0"], vpcCidrs: ["10.0.0.0/16", "10.1.0.0/16"] }],
    ]);
    const result = judge(spanning, {}, { mountTargetGuards: twoBlocks });
    expect(result.verdict).toBe("compliant");
    expect(result.plan).toEqual([]);
  });

  it("offline: says it would judge the source against the VPC's CIDRs", () => {
    const result = judge(nfsFromPartner);
    expect(result.verdict).toBe("compliant");
    expect(result.reason).toMatch(/if sg-0a1b2c3d4e5f60718 guards a mount target/);
  });

  it("SSH is not its business", () => {
    const result = judge(
      loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-partner-host-ssh.json"),
      {},
      { mountTargetGuards: guards },
    );
    expect(result.verdict).toBe("compliant");
  });
});

describe(`${RULE} with unknown VPC ranges`, () => {
  it("an empty list of VPC CIDRs judges nothing as outside (no plan), and says why", () => {
    const record = loadFixture("synthetic-ec2-AuthorizeSecurityGroupIngress-nfs-mixed-sources-rule-ids.json");
    const facts = { mountTargetGuards: new Map([[GROUP, { fileSystemIds: ["fs-1"], vpcCidrs: [] }]]) };
    const result = judge(record, { rules: { "sg-ingress-internet-sensitive-port": "off" } }, facts);
    expect(result.verdict).toBe("compliant");
    expect(result.plan).toEqual([]);
    expect(result.reason).toMatch(/VPC's CIDRs are unknown/);
  });
});
