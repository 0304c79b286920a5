/**
 * The `remediate` handler end to end against moto_server: SQS batches and direct EventBridge
 * events in, live EC2/EFS state read and reverted, records in the DynamoDB audit table.
 */
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DescribeFileSystemPolicyCommand,
  EFSClient,
  PutFileSystemPolicyCommand,
} from "@aws-sdk/client-efs";
import type { SQSBatchResponse } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Moto, startMoto } from "../../helpers/moto.ts";
import {
  ACCOUNT,
  auditRecordsIn,
  authorizeIngressEvent,
  createInfra,
  createNfsGroup,
  efsPolicyEvent,
  type Infra,
  ingressCidrs,
  lambdaContext,
  publicEfsPolicy,
  runtimeEnv,
  SELF_ROLE_ARN,
  sqsBatch,
} from "../../helpers/runtime-env.ts";

type Handler = (event: unknown, context: unknown) => Promise<SQSBatchResponse | undefined>;

let moto: Moto;
let infra: Infra;
let ec2: EC2Client;
let efs: EFSClient;
let handler: Handler;
let vpcId: string;
let subnetId: string;

beforeAll(async () => {
  moto = await startMoto();
  infra = await createInfra(moto);
  Object.assign(process.env, runtimeEnv(moto, infra));
  ec2 = new EC2Client(moto.clientConfig);
  efs = new EFSClient(moto.clientConfig);
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId ?? "";
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.20.1.0/24" }));
  subnetId = subnet.Subnet?.SubnetId ?? "";
  ({ handler } = (await import("../../../functions/remediate/index.ts")) as unknown as { handler: Handler });
});

afterAll(async () => {
  await moto?.stop();
});

async function groupWithWorldNfs(name: string) {
  const { groupId, rules } = await createNfsGroup(ec2, vpcId, name, ["0.0.0.0/0", "10.20.0.0/16"]);
  const worldRuleId = rules.find((r) => r.cidr === "0.0.0.0/0")?.ruleId ?? "";
  return { groupId, rules, worldRuleId };
}

async function recordsFor(eventId: string) {
  return (await auditRecordsIn(moto, infra.auditTable)).filter((r) => r.eventId === eventId);
}

function eventIdOf(event: Record<string, unknown>): string {
  return (event.detail as { eventID: string }).eventID;
}

describe("remediate: security-group path", () => {
  it("revokes only the world NFS rule, keeps the private one, verifies and records it", async () => {
    // Prepare
    const { groupId, rules } = await groupWithWorldNfs("sg-path");
    const event = authorizeIngressEvent(groupId, 2049, rules);

    // Act
    const response = await handler(sqsBatch([event]), lambdaContext());

    // Assess
    expect(response?.batchItemFailures).toEqual([]);
    expect(await ingressCidrs(ec2, groupId)).toEqual(["10.20.0.0/16"]);
    const [record, ...more] = await recordsFor(eventIdOf(event));
    expect(more).toEqual([]);
    expect(record?.verdict).toBe("violation");
    expect(record?.outcome).toBe("remediated");
    expect(record?.rules).toEqual(["sg-ingress-internet-sensitive-port"]);
    expect(record?.plan[0]?.api).toBe("ec2:RevokeSecurityGroupIngress");
    expect(record?.requestIds.length).toBe(1);
  });

  it("handles the same event delivered three times with one action and one record", async () => {
    const { groupId, rules } = await groupWithWorldNfs("sg-thrice");
    const event = authorizeIngressEvent(groupId, 2049, rules);

    for (let i = 0; i < 3; i++) await handler(sqsBatch([event]), lambdaContext());

    const records = await recordsFor(eventIdOf(event));
    expect(records).toHaveLength(1);
    expect(records[0]?.outcome).toBe("remediated");
    expect(await ingressCidrs(ec2, groupId)).toEqual(["10.20.0.0/16"]);
  });

  it("takes no action when a human already revoked the rule before the event arrived", async () => {
    const { groupId, rules, worldRuleId } = await groupWithWorldNfs("sg-fixed");
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [worldRuleId] }),
    );
    const event = authorizeIngressEvent(groupId, 2049, rules);

    await handler(event, lambdaContext());

    const [record] = await recordsFor(eventIdOf(event));
    expect(record?.verdict).toBe("compliant");
    expect(record?.outcome).toBe("already-compliant");
    expect(record?.requestIds).toEqual([]);
  });

  it("matches rules by content when the record carries no rule ids", async () => {
    const { groupId } = await groupWithWorldNfs("sg-noids");
    const event = authorizeIngressEvent(groupId, 2049, [{ cidr: "0.0.0.0/0" }, { cidr: "10.20.0.0/16" }]);

    await handler(sqsBatch([event]), lambdaContext());

    expect(await ingressCidrs(ec2, groupId)).toEqual(["10.20.0.0/16"]);
    expect((await recordsFor(eventIdOf(event)))[0]?.outcome).toBe("remediated");
  });

  it("never acts on a change made by its own role (loop guard), and records it", async () => {
    const { groupId, rules } = await groupWithWorldNfs("sg-self");
    const event = authorizeIngressEvent(groupId, 2049, rules, {
      actorArn: `arn:aws:sts::${ACCOUNT}:assumed-role/s3files-remediator/session`,
    });

    await handler(sqsBatch([event]), lambdaContext());

    expect(await ingressCidrs(ec2, groupId)).toEqual(["0.0.0.0/0", "10.20.0.0/16"]);
    const [record] = await recordsFor(eventIdOf(event));
    expect(record?.verdict).toBe("ignored");
    expect(record?.reason).toContain("loop guard");
    expect(SELF_ROLE_ARN).toContain("s3files-remediator");
  });

  it("acknowledges a malformed message with an invalid record while the rest of the batch proceeds", async () => {
    const { groupId, rules } = await groupWithWorldNfs("sg-batch");
    const good = authorizeIngressEvent(groupId, 2049, rules);
    const batch = sqsBatch([
      "{not json",
      { "detail-type": "AWS API Call via CloudTrail", detail: { eventID: 7 } },
      good,
    ]);

    const response = await handler(batch, lambdaContext());

    expect(response?.batchItemFailures).toEqual([]);
    expect(await ingressCidrs(ec2, groupId)).toEqual(["10.20.0.0/16"]);
    const all = await auditRecordsIn(moto, infra.auditTable);
    const firstId = `sqs:${(batch.Records[0] as { messageId: string }).messageId}`;
    const secondId = `sqs:${(batch.Records[1] as { messageId: string }).messageId}`;
    expect(all.find((r) => r.eventId === firstId)?.verdict).toBe("invalid");
    expect(all.find((r) => r.eventId === secondId)?.verdict).toBe("invalid");
  });
});

describe("remediate: EFS path", () => {
  it("narrows a public file-system policy and records before, plan and after", async () => {
    const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: "public-policy" }));
    const fileSystemId = fs.FileSystemId ?? "";
    const policy = publicEfsPolicy(moto.clientConfig.region, fileSystemId);
    await efs.send(new PutFileSystemPolicyCommand({ FileSystemId: fileSystemId, Policy: policy }));
    const event = efsPolicyEvent(fileSystemId, policy, { region: moto.clientConfig.region });

    await handler(sqsBatch([event]), lambdaContext());

    const [record] = await recordsFor(eventIdOf(event));
    expect(record?.error).toBeUndefined();
    expect(record?.verdict).toBe("violation");
    expect(record?.outcome).toBe("remediated");
    expect(record?.plan[0]?.api).toBe("elasticfilesystem:PutFileSystemPolicy");
    const live = await efs.send(new DescribeFileSystemPolicyCommand({ FileSystemId: fileSystemId }));
    expect(live.Policy).not.toBe(policy);
  });

  it("restores the known-good group set when a mount target's groups are swapped for an open one", async () => {
    const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: "mt-swap" }));
    const fileSystemId = fs.FileSystemId ?? "";
    const safe = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "mt-safe", Description: "safe", VpcId: vpcId }),
    );
    const safeId = safe.GroupId ?? "";
    const mt = await efs.send(
      new CreateMountTargetCommand({
        FileSystemId: fileSystemId,
        SubnetId: subnetId,
        SecurityGroups: [safeId],
      }),
    );
    const mountTargetId = mt.MountTargetId ?? "";
    const mtEvent = (groups: string[]) => ({
      ...efsMountTargetEvent(fileSystemId, mountTargetId, groups),
    });
    // The compliant state is learnt first (what the reconcile sweep or an earlier event records).
    await handler(mtEvent([safeId]), lambdaContext());
    const open = await groupWithWorldNfs("mt-open");
    const { ModifyMountTargetSecurityGroupsCommand, DescribeMountTargetSecurityGroupsCommand } = await import(
      "@aws-sdk/client-efs"
    );
    await efs.send(
      new ModifyMountTargetSecurityGroupsCommand({
        MountTargetId: mountTargetId,
        SecurityGroups: [open.groupId],
      }),
    );
    const swap = mtEvent([open.groupId]);

    await handler(sqsBatch([swap]), lambdaContext());

    const groups = await efs.send(
      new DescribeMountTargetSecurityGroupsCommand({ MountTargetId: mountTargetId }),
    );
    expect(groups.SecurityGroups).toEqual([safeId]);
    // The open group itself is left alone: it may guard other resources.
    expect(await ingressCidrs(ec2, open.groupId)).toEqual(["0.0.0.0/0", "10.20.0.0/16"]);
    const [record] = await recordsFor(eventIdOf(swap));
    expect(record?.outcome).toBe("remediated");
    expect(record?.plan[0]?.api).toBe("elasticfilesystem:ModifyMountTargetSecurityGroups");
  });
});

function efsMountTargetEvent(fileSystemId: string, mountTargetId: string, securityGroups: string[]) {
  return cloudTrailEventFor(
    "ModifyMountTargetSecurityGroups",
    { mountTargetId, securityGroups },
    fileSystemId,
  );
}

function cloudTrailEventFor(eventName: string, requestParameters: Record<string, unknown>, _fs: string) {
  const event = efsPolicyEvent("fs-x", "{}", { region: moto.clientConfig.region });
  const detail = event.detail as Record<string, unknown>;
  return { ...event, detail: { ...detail, eventName, requestParameters, responseElements: null } };
}
