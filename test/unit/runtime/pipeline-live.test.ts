/**
 * The pipeline against live state that changed behind the event, with in-memory ports: a mount
 * target's known-good groups, read-back failures after the plan ran, verdicts that must not be
 * learnt, and events of other accounts.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../shared/core/config.ts";
import { RemediatorError } from "../../../shared/core/errors.ts";
import { RULE_IDS } from "../../../shared/core/rules/index.ts";
import type { Change, ChangeDetail } from "../../../shared/core/types.ts";
import { PlanExecutor } from "../../../shared/runtime/executor.ts";
import type {
  Claim,
  DecisionIntent,
  FileSystemApi,
  LiveSgRule,
  MountTargetState,
  SecurityGroupApi,
  StateStore,
  StoredGuard,
} from "../../../shared/runtime/live-ports.ts";
import { RemediationPipeline } from "../../../shared/runtime/pipeline.ts";
import type { AuditRecord, RemediationMode } from "../../../shared/runtime/ports.ts";
import { Reconciler } from "../../../shared/runtime/reconcile.ts";

const ACCOUNT = "123456789012";
const NOW = new Date("2026-11-22T12:00:00Z");
const VPC_CIDR = "10.0.0.0/16";

function nfs(groupId: string, ruleId: string, cidr: string): LiveSgRule {
  return {
    ruleId,
    groupId,
    isEgress: false,
    ipProtocol: "tcp",
    fromPort: 2049,
    toPort: 2049,
    cidrIpv4: cidr,
  };
}

class FakeEc2 implements SecurityGroupApi {
  rules: LiveSgRule[] = [];
  cidrs: string[] = [VPC_CIDR];
  revoked: string[] = [];
  describeFailures = 0;
  failAfterRevoke: Error | undefined;
  /** Groups that no longer exist. */
  missing = new Set<string>();
  async describeRules(groupId: string): Promise<readonly LiveSgRule[] | undefined> {
    if (this.failAfterRevoke && this.revoked.length > 0) throw this.failAfterRevoke;
    if (this.missing.has(groupId)) return undefined;
    return this.rules.filter((r) => r.groupId === groupId);
  }
  async prefixListCidrs() {
    return [];
  }
  async vpcCidrs() {
    return this.cidrs;
  }
  async tags() {
    return {};
  }
  readonly operations = {
    "ec2:RevokeSecurityGroupIngress": async (params: Readonly<Record<string, unknown>>) => {
      const ids = params.SecurityGroupRuleIds as string[];
      this.revoked.push(...ids);
      this.rules = this.rules.filter((r) => !ids.includes(r.ruleId));
      return { requestId: `req-${ids.join("-")}`, alreadyGone: false };
    },
  };
}

class FakeEfs {
  mountTargets = new Map<string, MountTargetState>();
  modified: { id: string; groups: string[] }[] = [];
  policy: string | undefined;
  api(): FileSystemApi {
    return {
      service: "efs",
      getFileSystem: async (id: string) => ({
        fileSystemId: id,
        fileSystemArn: undefined,
        ownerId: ACCOUNT,
        kmsKeyId: undefined,
        encrypted: true,
      }),
      getPolicy: async () => this.policy,
      getMountTarget: async (id: string) => this.mountTargets.get(id),
      listFileSystems: async () => ({
        items: [
          {
            fileSystemId: "fs-1",
            fileSystemArn: undefined,
            ownerId: ACCOUNT,
            kmsKeyId: undefined,
            encrypted: true,
          },
        ],
        nextToken: undefined,
      }),
      listAccessPoints: async () => [],
      listMountTargets: async () => [...this.mountTargets.values()],
      tags: async () => ({}),
      operations: {
        "elasticfilesystem:ModifyMountTargetSecurityGroups": async (
          params: Readonly<Record<string, unknown>>,
        ) => {
          const id = params.MountTargetId as string;
          const groups = params.SecurityGroups as string[];
          this.modified.push({ id, groups });
          const mt = this.mountTargets.get(id);
          if (mt) this.mountTargets.set(id, { ...mt, securityGroups: groups });
          return { requestId: "req-modify", alreadyGone: false };
        },
      },
    } as unknown as FileSystemApi;
  }
}

class MemoryState implements StateStore {
  knownGood = new Map<string, readonly string[]>();
  knownGoodPolicies = new Map<string, string>();
  savedGuards = new Map<string, StoredGuard>();
  async lastKnownGoodPolicy() {
    return undefined;
  }
  async saveKnownGoodPolicy(_s: string, fileSystemId: string, policy: string) {
    this.knownGoodPolicies.set(fileSystemId, policy);
  }
  async lastKnownGoodBucket() {
    return undefined;
  }
  async saveKnownGoodBucket() {}
  async knownGoodSecurityGroups(_s: string, mountTargetId: string) {
    return this.knownGood.get(mountTargetId);
  }
  async saveKnownGoodSecurityGroups(_s: string, mountTargetId: string, groups: readonly string[]) {
    this.knownGood.set(mountTargetId, groups);
  }
  async guards(groupIds: readonly string[]) {
    return new Map([...this.savedGuards].filter(([id]) => groupIds.includes(id)));
  }
  async saveGuard(groupId: string, guard: StoredGuard) {
    this.savedGuards.set(groupId, guard);
  }
  async replaceGuard(groupId: string, guard: StoredGuard | undefined) {
    if (guard) this.savedGuards.set(groupId, guard);
    else this.savedGuards.delete(groupId);
  }
  released = new Set<string>();
  async claimEvent(eventId: string): Promise<Claim> {
    return this.released.has(eventId) ? "reclaimed" : "claimed";
  }
  async completeEvent() {}
  async releaseEvent(eventId: string) {
    this.released.add(eventId);
  }
  intents = new Map<string, DecisionIntent>();
  async saveIntent(eventId: string, intent: DecisionIntent) {
    this.intents.set(eventId, intent);
  }
  async intent(eventId: string) {
    return this.intents.get(eventId);
  }
  async reconcileCursor() {
    return undefined;
  }
  async saveReconcileCursor() {}
  /** What the reconcile sweep last notified, per swept resource. */
  notifiedPrints = new Map<string, string>();
  async notifiedFingerprint(key: string) {
    return this.notifiedPrints.get(key);
  }
  async saveNotifiedFingerprint(key: string, fingerprint: string | undefined) {
    if (fingerprint) this.notifiedPrints.set(key, fingerprint);
    else this.notifiedPrints.delete(key);
  }
}

function setup(mode: RemediationMode = "enforce") {
  const ec2 = new FakeEc2();
  const efs = new FakeEfs();
  const state = new MemoryState();
  const records: AuditRecord[] = [];
  const notified: AuditRecord[] = [];
  const api = efs.api();
  const pipeline = new RemediationPipeline({
    mode,
    config: parseConfig({ selfRoleArns: [`arn:aws:iam::${ACCOUNT}:role/s3files-remediator`] }, RULE_IDS),
    exemptTagKey: "remediator:exempt",
    ec2,
    fileSystems: { efs: api, s3files: api },
    state,
    executor: new PlanExecutor(ec2.operations, api.operations),
    ledger: {
      record: async (entry) => {
        records.push(entry);
        return "written";
      },
      recorded: async () => undefined,
      settle: async () => {},
    },
    notifiers: [{ name: "sns", notify: async (record) => void notified.push(record) }],
    clock: { now: () => NOW },
    homeAccount: ACCOUNT,
  });
  return { pipeline, ec2, efs, state, records, notified, api };
}

function changeOf(detail: ChangeDetail, resource: string, account: string | undefined = ACCOUNT): Change {
  return {
    meta: {
      eventId: `ev-${resource}`,
      eventName: "Test",
      eventSource: "elasticfilesystem.amazonaws.com",
      eventTime: NOW.toISOString(),
      account,
      region: "eu-west-1",
      actor: {
        arn: undefined,
        type: "IAMUser",
        accountId: account,
        issuerArn: undefined,
        invokedBy: undefined,
      },
      sourceIp: undefined,
      userAgent: undefined,
      requestId: undefined,
    },
    resource,
    resourceIds: [resource],
    detail,
  };
}

/** ModifyMountTargetSecurityGroups that swapped fsmt-1's groups for sg-new. */
function swapTo(groups: string[]): Change {
  return changeOf(
    {
      kind: "mount-target-security-groups",
      service: "efs",
      action: "update",
      fileSystemId: "fs-1",
      mountTargetId: "fsmt-1",
      vpcId: "vpc-1",
      securityGroups: groups,
    },
    "fsmt-1",
  );
}

function mountTargetWith(efs: FakeEfs, groups: string[]) {
  efs.mountTargets.set("fsmt-1", {
    mountTargetId: "fsmt-1",
    fileSystemId: "fs-1",
    vpcId: "vpc-1",
    securityGroups: groups,
  });
}

describe("known-good mount-target groups", () => {
  it("does not restore a known-good group that has been opened up since: the offending rule is revoked", async () => {
    const { pipeline, ec2, efs, state, records } = setup();
    mountTargetWith(efs, ["sg-new"]);
    state.knownGood.set("fsmt-1", ["sg-old"]);
    ec2.rules = [nfs("sg-new", "sgr-new", "198.51.100.0/24"), nfs("sg-old", "sgr-old", "203.0.113.0/24")];

    await pipeline.handleChange(swapTo(["sg-new"]), { dedupe: false, recordCompliant: true });

    expect(efs.modified).toEqual([]);
    expect(new Set(ec2.revoked)).toEqual(new Set(["sgr-new"]));
    expect(records[0]).toMatchObject({ outcome: "remediated" });
  });

  it("the mount target's rule and its group's rule planning the same revoke run it once, recorded once", async () => {
    const { pipeline, ec2, efs, records } = setup();
    mountTargetWith(efs, ["sg-new"]);
    ec2.rules = [nfs("sg-new", "sgr-new", "198.51.100.0/24")];

    await pipeline.handleChange(swapTo(["sg-new"]), { dedupe: false, recordCompliant: true });

    expect(ec2.revoked).toEqual(["sgr-new"]);
    expect(records[0]?.plan).toHaveLength(1);
    const messages = (records[0]?.findings ?? []).map((f) => `${f.rule}|${f.message}`);
    expect(new Set(messages).size).toBe(messages.length);
    expect(records[0]?.outcome).toBe("remediated");
  });

  it("restores a known-good set that is still compliant", async () => {
    const { pipeline, ec2, efs, state, records } = setup();
    mountTargetWith(efs, ["sg-new"]);
    state.knownGood.set("fsmt-1", ["sg-old"]);
    ec2.rules = [nfs("sg-new", "sgr-new", "198.51.100.0/24"), nfs("sg-old", "sgr-old", VPC_CIDR)];

    await pipeline.handleChange(swapTo(["sg-new"]), { dedupe: false, recordCompliant: true });

    expect(efs.modified).toEqual([{ id: "fsmt-1", groups: ["sg-old"] }]);
    expect(ec2.revoked).toEqual([]);
    expect(records[0]).toMatchObject({ outcome: "remediated" });
  });

  it("does not restore when a known-good group no longer exists", async () => {
    const { pipeline, ec2, efs, state } = setup();
    mountTargetWith(efs, ["sg-new"]);
    state.knownGood.set("fsmt-1", ["sg-old"]);
    ec2.rules = [nfs("sg-new", "sgr-new", "198.51.100.0/24")];
    ec2.missing.add("sg-old");

    await pipeline.handleChange(swapTo(["sg-new"]), { dedupe: false, recordCompliant: true });

    expect(efs.modified).toEqual([]);
    expect(new Set(ec2.revoked)).toEqual(new Set(["sgr-new"]));
  });
});

/** AuthorizeSecurityGroupIngress of NFS from one CIDR, as intake normalises it. */
function nfsAdded(groupId: string, ruleId: string, cidr: string): Change {
  return changeOf(
    {
      kind: "sg-rules-added",
      groupId,
      rules: [
        {
          groupId,
          direction: "ingress",
          protocol: "tcp",
          rawProtocol: "tcp",
          ports: { from: 2049, to: 2049 },
          fromPort: 2049,
          toPort: 2049,
          peer: { kind: "cidr", cidr },
          ruleId,
        },
      ],
    },
    groupId,
  );
}

describe("mount-target guards", () => {
  const guardOfFsmt1: StoredGuard = {
    fileSystemIds: ["fs-1"],
    vpcCidrs: [VPC_CIDR],
    mountTargets: [{ service: "efs", mountTargetId: "fsmt-1", fileSystemId: "fs-1" }],
  };

  it("a group still on the mount target: the stricter rule revokes NFS from outside the VPC", async () => {
    const { pipeline, ec2, efs, state } = setup();
    mountTargetWith(efs, ["sg-1"]);
    state.savedGuards.set("sg-1", guardOfFsmt1);
    ec2.rules = [nfs("sg-1", "sgr-narrow", "198.51.100.0/24")];

    await pipeline.handleChange(nfsAdded("sg-1", "sgr-narrow", "198.51.100.0/24"), {
      dedupe: false,
      recordCompliant: true,
    });

    expect(ec2.revoked).toEqual(["sgr-narrow"]);
    expect(state.savedGuards.has("sg-1")).toBe(true);
  });

  it("a group no longer on the mount target: its guard is dropped and the stricter rule does not act", async () => {
    const { pipeline, ec2, efs, state, records } = setup();
    mountTargetWith(efs, ["sg-other"]);
    state.savedGuards.set("sg-1", guardOfFsmt1);
    ec2.rules = [nfs("sg-1", "sgr-narrow", "198.51.100.0/24")];

    await pipeline.handleChange(nfsAdded("sg-1", "sgr-narrow", "198.51.100.0/24"), {
      dedupe: false,
      recordCompliant: true,
    });

    expect(ec2.revoked).toEqual([]);
    expect(state.savedGuards.has("sg-1")).toBe(false);
    expect(records[0]?.verdict).toBe("compliant");
  });

  it("unknown VPC CIDRs: no guard is saved, and the mount target is not judged against an empty VPC", async () => {
    const { pipeline, ec2, efs, state } = setup();
    ec2.cidrs = [];
    mountTargetWith(efs, ["sg-1"]);
    ec2.rules = [nfs("sg-1", "sgr-private", "10.1.0.0/16")];

    await pipeline.handleChange(
      changeOf(
        {
          kind: "mount-target-security-groups",
          service: "efs",
          action: "create",
          fileSystemId: "fs-1",
          mountTargetId: "fsmt-1",
          vpcId: "vpc-1",
          securityGroups: ["sg-1"],
        },
        "fsmt-1",
      ),
      { dedupe: false, recordCompliant: true },
    );

    expect(ec2.revoked).toEqual([]);
    expect(state.savedGuards.size).toBe(0);
  });
});

describe("a failure after the plan ran", () => {
  it("a retryable read-back failure goes back to the queue; the redelivery finishes the decision with the request ids", async () => {
    const { pipeline, ec2, records } = setup();
    ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    ec2.failAfterRevoke = new RemediatorError("throttled for good", { retryable: true });
    const change = changeOf({ kind: "sg-rules-added", groupId: "sg-1", rules: [] }, "sg-1");
    const withRule: Change = {
      ...change,
      detail: {
        kind: "sg-rules-added",
        groupId: "sg-1",
        rules: [
          {
            groupId: "sg-1",
            direction: "ingress",
            protocol: "tcp",
            rawProtocol: "tcp",
            ports: { from: 2049, to: 2049 },
            fromPort: 2049,
            toPort: 2049,
            peer: { kind: "cidr", cidr: "0.0.0.0/0" },
            ruleId: "sgr-world",
          },
        ],
      },
    };

    await expect(
      pipeline.handleChange(withRule, { dedupe: true, recordCompliant: true }),
    ).rejects.toMatchObject({
      retryable: true,
    });
    expect(records).toEqual([]);
    ec2.failAfterRevoke = undefined;
    const result = await pipeline.handleChange(withRule, { dedupe: true, recordCompliant: true });

    expect(result.status).toBe("decided");
    expect(ec2.revoked).toEqual(["sgr-world"]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      verdict: "violation",
      outcome: "remediated",
      requestIds: ["req-sgr-world"],
      before: { groupId: "sg-1", rules: [{ ruleId: "sgr-world" }] },
    });
    expect(records[0]?.reason).toContain("Remediated by an earlier attempt of this event");
  });

  it("without an intent to finish it (the sweep), a read-back failure records the executed request ids", async () => {
    const { pipeline, ec2, records } = setup();
    ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    ec2.failAfterRevoke = new RemediatorError("throttled for good", { retryable: true });
    const change = changeOf({ kind: "sg-rules-added", groupId: "sg-1", rules: [] }, "sg-1");
    const withRule: Change = {
      ...change,
      detail: {
        kind: "sg-rules-added",
        groupId: "sg-1",
        rules: [
          {
            groupId: "sg-1",
            direction: "ingress",
            protocol: "tcp",
            rawProtocol: "tcp",
            ports: { from: 2049, to: 2049 },
            fromPort: 2049,
            toPort: 2049,
            peer: { kind: "cidr", cidr: "0.0.0.0/0" },
            ruleId: "sgr-world",
          },
        ],
      },
    };

    const result = await pipeline.handleChange(withRule, { dedupe: false, recordCompliant: true });

    expect(result.status).toBe("decided");
    expect(records[0]).toMatchObject({ verdict: "failed", outcome: "failed", requestIds: ["req-sgr-world"] });
    expect(records[0]?.reason).toContain("Remediated; read-back unavailable: throttled for good");
  });
});

describe("what is learnt as known-good", () => {
  it("a live policy that cannot be judged (invalid) is not saved as known-good, nor called already compliant", async () => {
    const { pipeline, efs, state, records } = setup();
    efs.policy = "{ not json";
    const deleted = changeOf({ kind: "fs-policy-deleted", service: "efs", fileSystemId: "fs-1" }, "fs-1");

    await pipeline.handleChange(deleted, { dedupe: false, recordCompliant: true });

    expect(state.knownGoodPolicies.size).toBe(0);
    expect(records[0]?.verdict).toBe("invalid");
    expect(records[0]?.outcome).not.toBe("already-compliant");
  });

  it("a compliant live policy is saved as known-good", async () => {
    const { pipeline, efs, state, records } = setup();
    efs.policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "elasticfilesystem:ClientMount",
          Resource: "*",
        },
        {
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "*",
          Resource: "*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
    const deleted = changeOf({ kind: "fs-policy-deleted", service: "efs", fileSystemId: "fs-1" }, "fs-1");

    await pipeline.handleChange(deleted, { dedupe: false, recordCompliant: true });

    expect(records[0]?.verdict).toBe("compliant");
    expect(state.knownGoodPolicies.get("fs-1")).toBe(efs.policy);
  });
});

describe("events of other accounts", () => {
  it("without organization mode, an event of another account fails and says why (never 'gone')", async () => {
    const { pipeline, ec2, records } = setup();
    ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    const change = nfsAdded("sg-1", "sgr-world", "0.0.0.0/0");
    const foreign: Change = { ...change, meta: { ...change.meta, account: "999988887777" } };

    await pipeline.handleChange(foreign, { dedupe: false, recordCompliant: true });

    expect(ec2.revoked).toEqual([]);
    expect(records[0]).toMatchObject({ verdict: "failed", outcome: "failed" });
    expect(records[0]?.error).toContain(
      "event of account 999988887777: organization mode is off (MEMBER_ROLE_NAME unset)",
    );
  });

  it("a group named only by groupName is a failed record, never 'already revoked'", async () => {
    const { pipeline, ec2, records } = setup();
    ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    await pipeline.handleChange(nfsAdded("default", "sgr-world", "0.0.0.0/0"), {
      dedupe: false,
      recordCompliant: true,
    });
    expect(ec2.revoked).toEqual([]);
    expect(records[0]).toMatchObject({ verdict: "failed", outcome: "failed" });
    expect(records[0]?.error).toContain('security group "default" is named, not identified');
  });

  it("an event that names no account is read with the function's own clients", async () => {
    const { pipeline, ec2, records } = setup();
    ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    const change = nfsAdded("sg-1", "sgr-world", "0.0.0.0/0");
    const anonymous: Change = { ...change, meta: { ...change.meta, account: undefined } };

    await pipeline.handleChange(anonymous, { dedupe: false, recordCompliant: true });

    expect(ec2.revoked).toEqual(["sgr-world"]);
    expect(records[0]?.outcome).toBe("remediated");
  });
});

describe("reconcile notifies a finding left in place once, not every run", () => {
  function sweeping() {
    const env = setup("notify");
    mountTargetWith(env.efs, ["sg-1"]);
    const reconciler = new Reconciler({
      pipeline: env.pipeline,
      fileSystems: [env.api],
      state: env.state,
      clock: { now: () => NOW },
      maxFileSystems: 10,
      region: "eu-west-1",
      mode: "notify",
    });
    let run = 0;
    // Only the mount target's aspect: the file system's own settings are judged apart.
    const ofMountTarget = (records: readonly AuditRecord[]) =>
      records.filter((r) => r.eventId.endsWith(":fsmt-1"));
    return {
      ...env,
      allNotified: env.notified,
      sweep: () => reconciler.sweep(`run-${++run}`),
      records: () => ofMountTarget(env.records),
      notified: () => ofMountTarget(env.notified),
    };
  }

  it("two sweeps over the same violation: two audit records, one notification", async () => {
    const env = sweeping();
    env.ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];

    await env.sweep();
    await env.sweep();

    expect(env.records().map((r) => [r.eventId, r.verdict, r.outcome])).toEqual([
      ["reconcile:run-1:efs:fs-1:fsmt-1", "violation", "notified"],
      ["reconcile:run-2:efs:fs-1:fsmt-1", "violation", "notified"],
    ]);
    expect(env.notified().map((r) => r.eventId)).toEqual(["reconcile:run-1:efs:fs-1:fsmt-1"]);
    expect(env.ec2.revoked).toEqual([]);
  });

  it("a violation that changes (another rule fires) is notified again", async () => {
    const env = sweeping();
    env.ec2.rules = [nfs("sg-1", "sgr-office", "203.0.113.0/24")];
    await env.sweep();
    env.ec2.rules = [...env.ec2.rules, nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    await env.sweep();
    await env.sweep();

    expect(env.records()).toHaveLength(3);
    expect(env.notified().map((r) => r.eventId)).toEqual([
      "reconcile:run-1:efs:fs-1:fsmt-1",
      "reconcile:run-2:efs:fs-1:fsmt-1",
    ]);
    expect(env.notified()[0]?.rules).not.toContain("sg-ingress-internet-sensitive-port");
    expect(env.notified()[1]?.rules).toContain("sg-ingress-internet-sensitive-port");
  });

  it("compliant in between, then open again: notified again", async () => {
    const env = sweeping();
    env.ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    await env.sweep();
    env.ec2.rules = [];
    await env.sweep();
    expect(env.state.notifiedPrints.has("efs:fs-1:fsmt-1")).toBe(false);
    env.ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    await env.sweep();

    // The compliant run records nothing (it would flood the ledger) and notifies nothing.
    expect(env.records().map((r) => r.eventId)).toEqual([
      "reconcile:run-1:efs:fs-1:fsmt-1",
      "reconcile:run-3:efs:fs-1:fsmt-1",
    ]);
    expect(env.notified().map((r) => r.eventId)).toEqual([
      "reconcile:run-1:efs:fs-1:fsmt-1",
      "reconcile:run-3:efs:fs-1:fsmt-1",
    ]);
  });

  it("events handled by remediate are notified each time, whatever the sweep notified", async () => {
    const env = sweeping();
    env.ec2.rules = [nfs("sg-1", "sgr-world", "0.0.0.0/0")];
    await env.sweep();
    const event = nfsAdded("sg-1", "sgr-world", "0.0.0.0/0");
    for (const eventId of ["ev-a", "ev-b"]) {
      await env.pipeline.handleChange(
        { ...event, meta: { ...event.meta, eventId } },
        { dedupe: true, recordCompliant: true },
      );
    }

    expect(env.allNotified.map((r) => r.eventId).filter((id) => id.startsWith("ev-"))).toEqual([
      "ev-a",
      "ev-b",
    ]);
  });
});
