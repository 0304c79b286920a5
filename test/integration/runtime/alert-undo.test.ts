/**
 * The undo an alert gives, built from the audit record the real pipeline writes (live state read
 * by the adapters from moto_server, remediated, recorded in the DynamoDB ledger), and then run:
 * the equivalent SDK call of each undo step is sent to moto and the resource is back as it was.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateAccessPointCommand,
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DescribeAccessPointsCommand,
  DescribeFileSystemPolicyCommand,
  DescribeMountTargetSecurityGroupsCommand,
  EFSClient,
  ModifyMountTargetSecurityGroupsCommand,
  PutFileSystemPolicyCommand,
} from "@aws-sdk/client-efs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuntime, type Runtime } from "../../../shared/runtime/compose.ts";
import { describeDecision, renderPlainText } from "../../../shared/runtime/notification-text.ts";
import type { AuditRecord } from "../../../shared/runtime/ports.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import type { UndoStep } from "../../../shared/runtime/undo.ts";
import { auditRecord } from "../../helpers/audit-records.ts";
import { type Moto, startMoto } from "../../helpers/moto.ts";
import {
  auditRecordsIn,
  authorizeIngressEvent,
  cloudTrailEvent,
  createInfra,
  createNfsGroup,
  efsPolicyEvent,
  type Infra,
  ingressCidrs,
  motoClients,
  publicEfsPolicy,
  runtimeEnv,
} from "../../helpers/runtime-env.ts";

let moto: Moto;
let infra: Infra;
let ec2: EC2Client;
let efs: EFSClient;
let runtime: Runtime;
let region: string;
let vpcId: string;
let subnetId: string;

beforeAll(async () => {
  moto = await startMoto();
  infra = await createInfra(moto);
  region = moto.clientConfig.region;
  ec2 = new EC2Client(moto.clientConfig);
  efs = new EFSClient(moto.clientConfig);
  // Access points are deleted only when their rule is enforced: enforce it here to undo a deletion.
  const settings = loadSettings(
    runtimeEnv(moto, infra, {
      REMEDIATOR_CONFIG: JSON.stringify({ rules: { "access-point-unsafe-posix": "enforce" } }),
    }),
  );
  runtime = buildRuntime(settings, motoClients(moto), { notifiers: [], sleep: async () => undefined });
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.30.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId ?? "";
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.30.1.0/24" }));
  subnetId = subnet.Subnet?.SubnetId ?? "";
});

afterAll(async () => {
  ec2?.destroy();
  efs?.destroy();
  await moto?.stop();
});

/** The record of one event as the ledger holds it (what an alert is built from). */
async function decide(event: Record<string, unknown>): Promise<AuditRecord> {
  const eventId = (event.detail as { eventID: string }).eventID;
  await runtime.pipeline.handle(event, eventId);
  const [record, ...more] = (await auditRecordsIn(moto, infra.auditTable)).filter(
    (r) => r.eventId === eventId,
  );
  expect(more).toEqual([]);
  expect(record?.outcome).toBe("remediated");
  return record as AuditRecord;
}

/** Runs an undo step's SDK call: the same call its CLI command makes. */
async function run(step: UndoStep | undefined): Promise<void> {
  const call = step?.call;
  if (!call) throw new Error(`no runnable undo: ${step?.text}`);
  const input = call.params as never;
  switch (call.api) {
    case "ec2:AuthorizeSecurityGroupIngress":
      await ec2.send(new AuthorizeSecurityGroupIngressCommand(input));
      return;
    case "elasticfilesystem:PutFileSystemPolicy":
      await efs.send(new PutFileSystemPolicyCommand(input));
      return;
    case "elasticfilesystem:ModifyMountTargetSecurityGroups":
      await efs.send(new ModifyMountTargetSecurityGroupsCommand(input));
      return;
    case "elasticfilesystem:CreateAccessPoint":
      await efs.send(new CreateAccessPointCommand(input));
      return;
    default:
      throw new Error(`the test does not run ${call.api}`);
  }
}

/** The JSON after `--flag '…'` in a CLI command. */
function flagJson(command: string | undefined, flag: string): unknown {
  const match = new RegExp(`--${flag} '([^']*)'`).exec(command ?? "");
  return match?.[1] === undefined ? undefined : JSON.parse(match[1]);
}

describe("undo of a security-group revert", () => {
  it("re-creates the revoked rule, description included, from the state the pipeline recorded", async () => {
    // Prepare: a group whose world NFS rule carries a description, and a private one.
    const group = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "undo-sg", Description: "t", VpcId: vpcId }),
    );
    const groupId = group.GroupId ?? "";
    const added = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 2049,
            ToPort: 2049,
            IpRanges: [
              { CidrIp: "0.0.0.0/0", Description: "temporary vendor access" },
              { CidrIp: "10.30.0.0/16" },
            ],
          },
        ],
      }),
    );
    const rules = (added.SecurityGroupRules ?? []).map((r) => ({
      cidr: r.CidrIpv4 ?? "",
      ruleId: r.SecurityGroupRuleId ?? "",
    }));
    const record = await decide(authorizeIngressEvent(groupId, 2049, rules, { region }));
    expect(await ingressCidrs(ec2, groupId)).toEqual(["10.30.0.0/16"]);

    // Act
    const content = describeDecision(record);
    await run(content.undoSteps[0]);

    // Assess: the rule is back, with its description, and nothing else changed.
    expect(await ingressCidrs(ec2, groupId)).toEqual(["0.0.0.0/0", "10.30.0.0/16"]);
    const live = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
    );
    const restored = live.SecurityGroupRules?.find((r) => !r.IsEgress && r.CidrIpv4 === "0.0.0.0/0");
    expect(restored).toMatchObject({
      IpProtocol: "tcp",
      FromPort: 2049,
      ToPort: 2049,
      Description: "temporary vendor access",
    });
    // The CLI command people get is the same call.
    expect(flagJson(content.undoSteps[0]?.command, "ip-permissions")).toEqual(
      content.undoSteps[0]?.call?.params.IpPermissions,
    );
    expect(renderPlainText(content)).toContain(
      `aws ec2 authorize-security-group-ingress --region ${region} --group-id ${groupId}`,
    );
  });

  it("records the group's rules in the shape the unit tests' synthetic record uses", async () => {
    const { groupId, rules } = await createNfsGroup(ec2, vpcId, "undo-shape", ["0.0.0.0/0", "10.30.0.0/16"]);

    const record = await decide(authorizeIngressEvent(groupId, 2049, rules, { region }));

    const keysOf = (state: unknown) =>
      (state as { rules: Record<string, unknown>[] }).rules.map((rule) => Object.keys(rule).sort());
    const shape = keysOf(auditRecord().before);
    expect(keysOf(record.before)).toEqual(shape);
    expect(Object.keys(record.before as object).sort()).toEqual(
      Object.keys(auditRecord().before as object).sort(),
    );
  });
});

describe("undo of the other remediations", () => {
  it("puts a narrowed file-system policy back, text for text", async () => {
    const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: "undo-policy" }));
    const fileSystemId = fs.FileSystemId ?? "";
    const policy = publicEfsPolicy(region, fileSystemId);
    await efs.send(new PutFileSystemPolicyCommand({ FileSystemId: fileSystemId, Policy: policy }));
    const record = await decide(efsPolicyEvent(fileSystemId, policy, { region }));
    const narrowed = await efs.send(new DescribeFileSystemPolicyCommand({ FileSystemId: fileSystemId }));
    expect(narrowed.Policy).not.toBe(policy);

    const [step] = describeDecision(record).undoSteps;
    await run(step);

    const live = await efs.send(new DescribeFileSystemPolicyCommand({ FileSystemId: fileSystemId }));
    expect(live.Policy).toBe(policy);
    expect(step?.command).toContain(
      `aws efs put-file-system-policy --region ${region} --file-system-id ${fileSystemId} --policy '`,
    );
  });

  it("puts back the security groups a mount target had before the guardrail restored its known-good set", async () => {
    const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: "undo-mt" }));
    const fileSystemId = fs.FileSystemId ?? "";
    const safe = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "undo-mt-safe", Description: "s", VpcId: vpcId }),
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
    const swapEvent = (groups: string[]) =>
      cloudTrailEvent(
        "elasticfilesystem.amazonaws.com",
        "ModifyMountTargetSecurityGroups",
        { mountTargetId, securityGroups: groups },
        null,
        { region },
      );
    await runtime.pipeline.handle(swapEvent([safeId]), "learn"); // the known-good set is learnt
    const open = await createNfsGroup(ec2, vpcId, "undo-mt-open", ["0.0.0.0/0"]);
    await efs.send(
      new ModifyMountTargetSecurityGroupsCommand({
        MountTargetId: mountTargetId,
        SecurityGroups: [open.groupId],
      }),
    );
    const record = await decide(swapEvent([open.groupId]));

    const [step] = describeDecision(record).undoSteps;
    await run(step);

    const live = await efs.send(
      new DescribeMountTargetSecurityGroupsCommand({ MountTargetId: mountTargetId }),
    );
    expect(live.SecurityGroups).toEqual([open.groupId]);
    expect(step?.command).toBe(
      `aws efs modify-mount-target-security-groups --region ${region} --mount-target-id ${mountTargetId} --security-groups ${open.groupId}`,
    );
  });

  it("re-creates a deleted access point with the same POSIX user and root directory", async () => {
    const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: "undo-ap" }));
    const fileSystemId = fs.FileSystemId ?? "";
    const settings = {
      PosixUser: { Uid: 0, Gid: 0 },
      RootDirectory: { Path: "/", CreationInfo: { OwnerUid: 0, OwnerGid: 0, Permissions: "777" } },
    };
    const ap = await efs.send(new CreateAccessPointCommand({ FileSystemId: fileSystemId, ...settings }));
    const event = cloudTrailEvent(
      "elasticfilesystem.amazonaws.com",
      "CreateAccessPoint",
      { fileSystemId, posixUser: { uid: 0, gid: 0 }, rootDirectory: { path: "/" } },
      { accessPointId: ap.AccessPointId, accessPointArn: ap.AccessPointArn, fileSystemId },
      { region },
    );
    const record = await decide(event);
    const gone = await efs.send(new DescribeAccessPointsCommand({ FileSystemId: fileSystemId }));
    expect(gone.AccessPoints ?? []).toEqual([]);

    const [step] = describeDecision(record).undoSteps;
    await run(step);

    const [recreated, ...more] =
      (await efs.send(new DescribeAccessPointsCommand({ FileSystemId: fileSystemId }))).AccessPoints ?? [];
    expect(more).toEqual([]);
    expect(recreated).toMatchObject(settings);
    expect(recreated?.AccessPointId).not.toBe(ap.AccessPointId);
  });
});
