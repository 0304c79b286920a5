/**
 * The EC2, EFS and state-table adapters, and the reconcile sweep, against moto_server.
 */

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateAccessPointCommand,
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  EFSClient,
  PutFileSystemPolicyCommand,
} from "@aws-sdk/client-efs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbStateStore } from "../../../shared/adapters/dynamodb-state.ts";
import { Ec2SecurityGroupAdapter } from "../../../shared/adapters/ec2-security-groups.ts";
import { EfsFileSystemAdapter } from "../../../shared/adapters/efs-file-systems.ts";
import { buildRuntime } from "../../../shared/runtime/compose.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import { type Moto, startMoto } from "../../helpers/moto.ts";
import {
  auditRecordsIn,
  createInfra,
  type Infra,
  motoClients,
  publicEfsPolicy,
  runtimeEnv,
} from "../../helpers/runtime-env.ts";

const retry = { maxAttempts: 3, baseDelayMs: 1, sleep: async () => {} };
let moto: Moto;
let infra: Infra;
let ec2: EC2Client;
let efs: EFSClient;
let sgAdapter: Ec2SecurityGroupAdapter;
let efsAdapter: EfsFileSystemAdapter;
let state: DynamoDbStateStore;
let vpcId: string;
let subnetId: string;

beforeAll(async () => {
  moto = await startMoto();
  infra = await createInfra(moto, "adapters");
  ec2 = new EC2Client(moto.clientConfig);
  efs = new EFSClient(moto.clientConfig);
  sgAdapter = new Ec2SecurityGroupAdapter(new EC2Client({ ...moto.clientConfig, maxAttempts: 1 }), retry);
  efsAdapter = new EfsFileSystemAdapter(new EFSClient({ ...moto.clientConfig, maxAttempts: 1 }), retry);
  state = new DynamoDbStateStore(DynamoDBDocumentClient.from(new DynamoDBClient(moto.clientConfig)), {
    tableName: infra.stateTable,
    retry,
    dedupeTtlDays: 14,
  });
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.40.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId ?? "";
  subnetId =
    (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.40.1.0/24" }))).Subnet?.SubnetId ??
    "";
});

afterAll(async () => {
  await moto?.stop();
});

async function group(name: string, cidrs: string[]) {
  const groupId =
    (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: "t", VpcId: vpcId })))
      .GroupId ?? "";
  const added = await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 2049, ToPort: 2049, IpRanges: cidrs.map((CidrIp) => ({ CidrIp })) },
      ],
    }),
  );
  return { groupId, ruleIds: (added.SecurityGroupRules ?? []).map((r) => r.SecurityGroupRuleId ?? "") };
}

describe("EC2 adapter", () => {
  it("describes a group's rules, revokes one by id, and counts a second revoke as already gone", async () => {
    const { groupId, ruleIds } = await group("ec2-a", ["0.0.0.0/0", "10.40.0.0/16"]);
    const before = await sgAdapter.describeRules(groupId);
    expect(
      before
        ?.filter((r) => !r.isEgress)
        .map((r) => r.cidrIpv4)
        .sort(),
    ).toEqual(["0.0.0.0/0", "10.40.0.0/16"]);

    const revoke = sgAdapter.operations["ec2:RevokeSecurityGroupIngress"];
    const first = await revoke?.({ GroupId: groupId, SecurityGroupRuleIds: [ruleIds[0]] });
    const second = await revoke?.({ GroupId: groupId, SecurityGroupRuleIds: [ruleIds[0]] });

    expect(first?.alreadyGone).toBe(false);
    expect(first?.requestId).toBeTruthy();
    expect(second?.alreadyGone).toBe(true);
    const after = await sgAdapter.describeRules(groupId);
    expect(after?.filter((r) => !r.isEgress).map((r) => r.cidrIpv4)).toEqual(["10.40.0.0/16"]);
  });

  it("finds no rules in a group that no longer exists", async () => {
    // A group-id filter on a missing group answers an empty list (EC2 and moto alike).
    expect(await sgAdapter.describeRules("sg-0000000000000dead")).toEqual([]);
  });

  it("reads prefix-list entries, VPC CIDRs and tags", async () => {
    const pl = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: "partners",
        MaxEntries: 5,
        AddressFamily: "IPv4",
        Entries: [{ Cidr: "0.0.0.0/0" }, { Cidr: "192.0.2.0/24" }],
      }),
    );
    const { groupId } = await group("ec2-tags", ["10.40.0.0/16"]);
    await ec2.send(
      new CreateTagsCommand({ Resources: [groupId], Tags: [{ Key: "team", Value: "storage" }] }),
    );

    expect([...((await sgAdapter.prefixListCidrs(pl.PrefixList?.PrefixListId ?? "")) ?? [])].sort()).toEqual([
      "0.0.0.0/0",
      "192.0.2.0/24",
    ]);
    expect(await sgAdapter.vpcCidrs(vpcId)).toEqual(["10.40.0.0/16"]);
    expect(await sgAdapter.tags(groupId)).toEqual({ team: "storage" });
  });
});

describe("EFS adapter", () => {
  it("reads no policy as undefined, then the policy once put", async () => {
    const fileSystemId =
      (await efs.send(new CreateFileSystemCommand({ CreationToken: "efs-a" }))).FileSystemId ?? "";
    expect(await efsAdapter.getPolicy(fileSystemId)).toBeUndefined();

    const result = await efsAdapter.operations["elasticfilesystem:PutFileSystemPolicy"]?.({
      FileSystemId: fileSystemId,
      Policy: publicEfsPolicy(moto.clientConfig.region, fileSystemId),
    });

    expect(result?.alreadyGone).toBe(false);
    expect(await efsAdapter.getPolicy(fileSystemId)).toContain("OpenToAll");
    expect((await efsAdapter.getFileSystem(fileSystemId))?.fileSystemId).toBe(fileSystemId);
    expect(await efsAdapter.getFileSystem("fs-deadbeef")).toBeUndefined();
  });

  it("reads mount targets with their groups and swaps the set", async () => {
    const fileSystemId =
      (await efs.send(new CreateFileSystemCommand({ CreationToken: "efs-mt" }))).FileSystemId ?? "";
    const a = await group("efs-mt-a", ["10.40.0.0/16"]);
    const b = await group("efs-mt-b", ["10.40.0.0/16"]);
    const mt = await efs.send(
      new CreateMountTargetCommand({
        FileSystemId: fileSystemId,
        SubnetId: subnetId,
        SecurityGroups: [a.groupId],
      }),
    );

    await efsAdapter.operations["elasticfilesystem:ModifyMountTargetSecurityGroups"]?.({
      MountTargetId: mt.MountTargetId,
      SecurityGroups: [b.groupId],
    });

    expect(await efsAdapter.listMountTargets(fileSystemId)).toEqual([
      { mountTargetId: mt.MountTargetId, fileSystemId, vpcId, securityGroups: [b.groupId] },
    ]);
  });

  it("reads and deletes access points; deleting twice is already gone", async () => {
    const fileSystemId =
      (await efs.send(new CreateFileSystemCommand({ CreationToken: "efs-ap" }))).FileSystemId ?? "";
    const ap = await efs.send(
      new CreateAccessPointCommand({ FileSystemId: fileSystemId, PosixUser: { Uid: 0, Gid: 0 } }),
    );
    const id = ap.AccessPointId ?? "";
    expect((await efsAdapter.getAccessPoint(id))?.posixUser).toEqual({ uid: 0, gid: 0, secondaryGids: [] });

    const del = efsAdapter.operations["elasticfilesystem:DeleteAccessPoint"];
    expect((await del?.({ AccessPointId: id }))?.alreadyGone).toBe(false);
    // EFS answers AccessPointNotFound for the second delete (mapped to "already gone"; see the
    // S3 Files adapter test for that path); moto answers 200, so only "no error" is checked here.
    await expect(del?.({ AccessPointId: id })).resolves.toBeDefined();
    expect(await efsAdapter.listAccessPoints(fileSystemId)).toEqual([]);
  });
});

describe("state table", () => {
  it("lets one delivery claim an event; a second sees it in progress, then done", async () => {
    const at = new Date("2026-11-22T10:00:00Z");
    expect(await state.claimEvent("evt-1", at)).toBe("claimed");
    expect(await state.claimEvent("evt-1", at)).toBe("in-progress");
    await state.completeEvent("evt-1", "violation/remediated", at);
    expect(await state.claimEvent("evt-1", at)).toBe("done");
  });

  it("frees a released claim, and a claim whose lease ran out, saying an earlier attempt held it", async () => {
    const at = new Date("2026-11-22T10:00:00Z");
    expect(await state.claimEvent("evt-2", at)).toBe("claimed");
    await state.releaseEvent("evt-2");
    expect(await state.claimEvent("evt-2", at)).toBe("reclaimed");
    expect(await state.claimEvent("evt-2", at)).toBe("in-progress");
    expect(await state.claimEvent("evt-2", new Date(at.getTime() + 10 * 60_000))).toBe("reclaimed");
  });

  it("keeps an intent per event, and leaves another attempt's claim alone on release", async () => {
    const at = new Date("2026-11-22T10:00:00Z");
    const intent = {
      plan: [{ api: "ec2:RevokeSecurityGroupIngress", params: { GroupId: "sg-1" }, reason: "r" }],
      findings: [],
      rules: ["sg-ingress-internet-sensitive-port"],
      mode: "enforce",
      reason: "why",
      before: { groupId: "sg-1" },
      at: at.toISOString(),
    };
    expect(await state.intent("evt-3")).toBeUndefined();
    await state.saveIntent("evt-3", intent);
    expect(await state.intent("evt-3")).toEqual(intent);

    // A second store (another container) whose lease ran out cannot release the new holder's claim.
    const other = new DynamoDbStateStore(DynamoDBDocumentClient.from(new DynamoDBClient(moto.clientConfig)), {
      tableName: infra.stateTable,
      retry,
      dedupeTtlDays: 1,
    });
    expect(await other.claimEvent("evt-4", at)).toBe("claimed");
    expect(await state.claimEvent("evt-4", new Date(at.getTime() + 10 * 60_000))).toBe("reclaimed");
    await other.releaseEvent("evt-4");
    expect(await other.claimEvent("evt-4", new Date(at.getTime() + 10 * 60_000))).toBe("in-progress");
  });

  it("keeps the last known good policy, group set, guards and cursor", async () => {
    const at = new Date();
    await state.saveKnownGoodPolicy("efs", "fs-1", '{"v":1}', at);
    await state.saveKnownGoodSecurityGroups("s3files", "fsmt-1", ["sg-a", "sg-b"], at);
    await state.saveGuard("sg-a", { fileSystemIds: ["fs-1"], vpcCidrs: ["10.0.0.0/16"] }, at);
    await state.saveGuard(
      "sg-a",
      {
        fileSystemIds: ["fs-2"],
        vpcCidrs: ["10.0.0.0/16"],
        mountTargets: [{ service: "efs", mountTargetId: "fsmt-2", fileSystemId: "fs-2" }],
      },
      at,
    );
    await state.saveGuard("sg-b", { fileSystemIds: ["fs-3"], vpcCidrs: ["10.0.0.0/16"] }, at);
    await state.replaceGuard("sg-b", undefined, at);
    await state.saveReconcileCursor("efs", "token-2", at);

    expect(await state.lastKnownGoodPolicy("efs", "fs-1")).toBe('{"v":1}');
    expect(await state.lastKnownGoodPolicy("s3files", "fs-1")).toBeUndefined();
    expect(await state.knownGoodSecurityGroups("s3files", "fsmt-1")).toEqual(["sg-a", "sg-b"]);
    const guards = await state.guards(["sg-a", "sg-b", "sg-z"]);
    expect(guards.get("sg-a")).toEqual({
      fileSystemIds: ["fs-1", "fs-2"],
      vpcCidrs: ["10.0.0.0/16"],
      mountTargets: [{ service: "efs", mountTargetId: "fsmt-2", fileSystemId: "fs-2" }],
    });
    // A dropped guard guards nothing.
    expect([...guards.keys()]).toEqual(["sg-a"]);
    expect(await state.reconcileCursor("efs")).toBe("token-2");
  });

  it("keeps what the sweep last notified per resource, and clears it by overwriting", async () => {
    const at = new Date();
    expect(await state.notifiedFingerprint("efs:fs-1:policy")).toBeUndefined();
    await state.saveNotifiedFingerprint("efs:fs-1:policy", "abc", at);
    expect(await state.notifiedFingerprint("efs:fs-1:policy")).toBe("abc");
    expect(await state.notifiedFingerprint("efs:fs-1:file-system")).toBeUndefined();
    await state.saveNotifiedFingerprint("efs:fs-1:policy", undefined, at);
    expect(await state.notifiedFingerprint("efs:fs-1:policy")).toBeUndefined();
  });
});

describe("reconcile sweep", () => {
  // The state-table test above left an EFS cursor ("token-2") that EFS rejects: the sweep starts over.
  it("finds the public policy an event never reported, remediates it, and records only what was not compliant", async () => {
    const fileSystemId =
      (await efs.send(new CreateFileSystemCommand({ CreationToken: "reconcile" }))).FileSystemId ?? "";
    await efs.send(
      new PutFileSystemPolicyCommand({
        FileSystemId: fileSystemId,
        Policy: publicEfsPolicy(moto.clientConfig.region, fileSystemId),
      }),
    );
    const settings = loadSettings(runtimeEnv(moto, infra, { STATE_TABLE_NAME: infra.stateTable }));
    const { reconciler } = buildRuntime(settings, motoClients(moto), { sleep: async () => {} });

    const summary = await reconciler.sweep("run-1");

    // moto does not speak S3 Files: that service's sweep stops on its error, EFS is still swept.
    expect(summary.complete.efs).toBe(true);
    expect(summary.errors.s3files).toBeTruthy();
    expect(summary.deferred).toEqual([]);
    expect(summary.remediated).toBeGreaterThanOrEqual(1);
    // Narrowed through the Principal element (the owner's principals), never a condition key AWS
    // does not document as evaluated for NFS clients.
    const narrowed = await efsAdapter.getPolicy(fileSystemId);
    expect(narrowed).toMatch(/"Principal":\{"AWS":"arn:aws:iam::\d{12}:root"\}/);
    expect(narrowed).not.toContain("aws:PrincipalAccount");
    const records = (await auditRecordsIn(moto, infra.auditTable)).filter((r) =>
      r.eventId.startsWith("reconcile:run-1:"),
    );
    expect(
      records.some(
        (r) => r.eventId === `reconcile:run-1:efs:${fileSystemId}:policy` && r.outcome === "remediated",
      ),
    ).toBe(true);
    expect(records.every((r) => r.verdict !== "compliant")).toBe(true);
  });
});
