import { describe, expect, it } from "vitest";
import type { SgRule } from "../../../shared/core/types.ts";
import { loadFixture } from "../../helpers/fixtures.ts";
import { judge } from "../../helpers/fs-records.ts";

const RULE = "mount-target-nfs-outside-vpc";
const VPC = "vpc-01234567";

function nfsFrom(groupId: string, cidr: string, ruleId = "sgr-0aaa1111bbbb2222c"): SgRule {
  return {
    groupId,
    direction: "ingress",
    protocol: "tcp",
    rawProtocol: "tcp",
    ports: { from: 2049, to: 2049 },
    fromPort: 2049,
    toPort: 2049,
    peer: { kind: "cidr", cidr },
    ruleId,
  };
}

describe(RULE, () => {
  it("offline: compliant, saying what would be checked live", () => {
    const result = judge(loadFixture("synthetic-s3files-UpdateMountTarget.json"));
    expect(result.verdict).toBe("compliant");
    expect(result.reason).toMatch(
      /sg-0f1e2d3c4b5a69788 on fsmt-1234567: its inbound rules would be read live/,
    );
  });

  it("S3 Files UpdateMountTarget: a group admitting NFS from a public /32; the previous groups are restored", () => {
    const group = "sg-0f1e2d3c4b5a69788";
    const result = judge(
      loadFixture("synthetic-s3files-UpdateMountTarget.json"),
      {},
      {
        securityGroupIngressRules: new Map([[group, [nfsFrom(group, "198.51.100.7/32")]]]),
        vpcCidrs: new Map([[VPC, ["10.0.0.0/16"]]]),
        previousMountTargetGroups: new Map([["fsmt-1234567", ["sg-0aaaa1111bbbb2222"]]]),
      },
    );
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: "critical",
        message: expect.stringContaining("admits tcp/2049 from 198.51.100.7/32, outside the VPC"),
      },
    ]);
    expect(result.plan).toEqual([
      {
        api: "s3files:UpdateMountTarget",
        params: { mountTargetId: "fsmt-1234567", securityGroups: ["sg-0aaaa1111bbbb2222"] },
        reason: expect.any(String),
      },
    ]);
  });

  it("EFS ModifyMountTargetSecurityGroups with no previous set known: revoke the rule by id", () => {
    const group = "sg-0a1b2c3d4e5f60718";
    const result = judge(
      loadFixture("synthetic-efs-ModifyMountTargetSecurityGroups.json"),
      {},
      {
        securityGroupIngressRules: new Map([[group, [nfsFrom(group, "192.168.0.0/16")]]]),
        mountTargetGuards: new Map([
          [group, { fileSystemIds: ["fs-0123456789abcdef0"], vpcCidrs: ["10.0.0.0/16"] }],
        ]),
      },
    );
    expect(result.findings[0]?.severity).toBe("high");
    expect(result.plan).toEqual([
      {
        api: "ec2:RevokeSecurityGroupIngress",
        params: { GroupId: group, SecurityGroupRuleIds: ["sgr-0aaa1111bbbb2222c"] },
        reason: expect.any(String),
      },
    ]);
  });

  it("EFS restore uses the EFS parameter names", () => {
    const group = "sg-0a1b2c3d4e5f60718";
    const result = judge(
      loadFixture("synthetic-efs-ModifyMountTargetSecurityGroups.json"),
      {},
      {
        securityGroupIngressRules: new Map([[group, [nfsFrom(group, "0.0.0.0/0")]]]),
        mountTargetGuards: new Map([
          [group, { fileSystemIds: ["fs-0123456789abcdef0"], vpcCidrs: ["10.0.0.0/16"] }],
        ]),
        previousMountTargetGroups: new Map([["fsmt-0a1b2c3d", ["sg-0bbbb"]]]),
      },
    );
    expect(result.plan[0]).toMatchObject({
      api: "elasticfilesystem:ModifyMountTargetSecurityGroups",
      params: { MountTargetId: "fsmt-0a1b2c3d", SecurityGroups: ["sg-0bbbb"] },
    });
  });

  it("compliant: NFS only from inside the VPC or from a security group", () => {
    const group = "sg-0f1e2d3c4b5a69788";
    const sgRef: SgRule = {
      ...nfsFrom(group, "10.0.0.0/8"),
      peer: { kind: "security-group", groupId: "sg-0clients" },
    };
    const result = judge(
      loadFixture("synthetic-s3files-UpdateMountTarget.json"),
      {},
      {
        securityGroupIngressRules: new Map([[group, [nfsFrom(group, "10.0.3.0/24"), sgRef]]]),
        vpcCidrs: new Map([[VPC, ["10.0.0.0/16"]]]),
      },
    );
    expect(result.verdict).toBe("compliant");
  });

  it("compliant: a source that spans two of the VPC's CIDR blocks (10.0.0.0/15 in 10.0.0.0/16 + 10.1.0.0/16)", () => {
    const group = "sg-0f1e2d3c4b5a69788";
    const result = judge(
      loadFixture("synthetic-s3files-UpdateMountTarget.json"),
      {},
      {
        securityGroupIngressRules: new Map([[group, [nfsFrom(group, "10.0.0.0/15")]]]),
        vpcCidrs: new Map([[VPC, ["10.0.0.0/16", "10.1.0.0/16"]]]),
      },
    );
    expect(result.verdict).toBe("compliant");
    expect(result.plan).toEqual([]);
  });

  it("violation: a source one bit wider than the VPC's blocks together (10.0.0.0/14)", () => {
    const group = "sg-0f1e2d3c4b5a69788";
    const result = judge(
      loadFixture("synthetic-s3files-UpdateMountTarget.json"),
      {},
      {
        securityGroupIngressRules: new Map([[group, [nfsFrom(group, "10.0.0.0/14")]]]),
        vpcCidrs: new Map([[VPC, ["10.0.0.0/16", "10.1.0.0/16"]]]),
      },
    );
    expect(result.findings).toEqual([
      {
        rule: RULE,
        severity: expect.any(String),
        message: expect.stringContaining("admits tcp/2049 from 10.0.0.0/14, outside the VPC"),
      },
    ]);
  });
});
