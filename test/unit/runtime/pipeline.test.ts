/**
 * The pipeline's decisions with in-memory ports: modes, live exemptions, loop guard, notification
 * failures, and what a retryable failure leaves behind.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../shared/core/config.ts";
import { RemediatorError } from "../../../shared/core/errors.ts";
import { RULE_IDS } from "../../../shared/core/rules/index.ts";
import type { MountTargetGuard } from "../../../shared/core/rules/rule.ts";
import { PlanExecutor } from "../../../shared/runtime/executor.ts";
import type {
  Claim,
  DecisionIntent,
  FileSystemApi,
  LiveSgRule,
  SecurityGroupApi,
  StateStore,
} from "../../../shared/runtime/live-ports.ts";
import { RemediationPipeline } from "../../../shared/runtime/pipeline.ts";
import type { AuditRecord, Notifier, RemediationMode } from "../../../shared/runtime/ports.ts";
import { MemoryLedger } from "../../helpers/memory-ledger.ts";
import { ACCOUNT, authorizeIngressEvent } from "../../helpers/runtime-env.ts";

const GROUP = "sg-0123456789abcdef0";
const NOW = new Date("2026-11-22T12:00:00Z");

class FakeEc2 implements SecurityGroupApi {
  rules: LiveSgRule[] = [
    {
      ruleId: "sgr-world",
      groupId: GROUP,
      isEgress: false,
      ipProtocol: "tcp",
      fromPort: 2049,
      toPort: 2049,
      cidrIpv4: "0.0.0.0/0",
    },
    {
      ruleId: "sgr-vpc",
      groupId: GROUP,
      isEgress: false,
      ipProtocol: "tcp",
      fromPort: 2049,
      toPort: 2049,
      cidrIpv4: "10.0.0.0/16",
    },
  ];
  tagValues: Record<string, string> = {};
  failWith: Error | undefined;
  revoked: string[] = [];
  async describeRules(groupId: string) {
    if (this.failWith) throw this.failWith;
    return this.rules.filter((r) => r.groupId === groupId);
  }
  async prefixListCidrs() {
    return [];
  }
  async vpcCidrs() {
    return [];
  }
  async tags() {
    return this.tagValues;
  }
  readonly operations = {
    "ec2:RevokeSecurityGroupIngress": async (params: Readonly<Record<string, unknown>>) => {
      const ids = params.SecurityGroupRuleIds as string[];
      this.revoked.push(...ids);
      this.rules = this.rules.filter((r) => !ids.includes(r.ruleId));
      return { requestId: "req-revoke", alreadyGone: false };
    },
  };
}

class MemoryState implements StateStore {
  claims = new Map<string, "in-progress" | "done">();
  async lastKnownGoodPolicy() {
    return undefined;
  }
  async saveKnownGoodPolicy() {}
  async lastKnownGoodBucket() {
    return undefined;
  }
  async saveKnownGoodBucket() {}
  async knownGoodSecurityGroups() {
    return undefined;
  }
  async saveKnownGoodSecurityGroups() {}
  async guards() {
    return new Map<string, MountTargetGuard>();
  }
  async saveGuard() {}
  async replaceGuard() {}
  async claimEvent(eventId: string): Promise<Claim> {
    const claim = this.claims.get(eventId);
    if (claim) return claim;
    this.claims.set(eventId, "in-progress");
    return "claimed";
  }
  async completeEvent(eventId: string) {
    this.claims.set(eventId, "done");
  }
  async releaseEvent(eventId: string) {
    this.claims.delete(eventId);
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
  async notifiedFingerprint() {
    return undefined;
  }
  async saveNotifiedFingerprint() {}
}

function setup(mode: RemediationMode = "enforce", configInput: unknown = {}) {
  const ec2 = new FakeEc2();
  const state = new MemoryState();
  const records: AuditRecord[] = [];
  const notified: string[] = [];
  const notifiers: Notifier[] = [
    { name: "sns", notify: async (r) => void notified.push(r.eventId) },
    {
      name: "broken",
      notify: async () => {
        throw new Error("webhook down");
      },
    },
  ];
  const noFileSystems = {} as FileSystemApi;
  const pipeline = new RemediationPipeline({
    mode,
    config: parseConfig(
      { selfRoleArns: [`arn:aws:iam::${ACCOUNT}:role/s3files-remediator`], ...(configInput as object) },
      RULE_IDS,
    ),
    exemptTagKey: "remediator:exempt",
    ec2,
    fileSystems: { efs: noFileSystems, s3files: noFileSystems },
    state,
    executor: new PlanExecutor(ec2.operations),
    ledger: new MemoryLedger(records),
    notifiers,
    clock: { now: () => NOW },
  });
  const event = authorizeIngressEvent(GROUP, 2049, [
    { cidr: "0.0.0.0/0", ruleId: "sgr-world" },
    { cidr: "10.0.0.0/16", ruleId: "sgr-vpc" },
  ]);
  return { pipeline, ec2, state, records, notified, event };
}

describe("pipeline decisions", () => {
  it("enforce: revokes the one rule, verifies, records, and notifies despite a broken channel", async () => {
    const { pipeline, ec2, records, notified, event } = setup();

    const result = await pipeline.handle(event, "fallback");

    expect(result.status).toBe("decided");
    expect(ec2.revoked).toEqual(["sgr-world"]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      verdict: "violation",
      outcome: "remediated",
      mode: "enforce",
      requestIds: ["req-revoke"],
    });
    // After: the private rule of the same call is still there; the world rule is gone.
    expect(records[0]?.after).toMatchObject({
      groupId: GROUP,
      rules: [{ ruleId: "sgr-vpc", peer: "10.0.0.0/16" }],
    });
    expect(notified).toHaveLength(1);
  });

  it("notify: records the plan without running it", async () => {
    const { pipeline, ec2, records, event } = setup("notify");
    await pipeline.handle(event, "fallback");
    expect(ec2.revoked).toEqual([]);
    expect(records[0]).toMatchObject({ verdict: "violation", outcome: "notified", mode: "notify" });
    expect(records[0]?.plan).toHaveLength(1);
  });

  it("dry-run: records the plan as dry-run", async () => {
    const { pipeline, ec2, records, event } = setup("dry-run");
    await pipeline.handle(event, "fallback");
    expect(ec2.revoked).toEqual([]);
    expect(records[0]?.outcome).toBe("dry-run");
  });

  it("off: judges the event alone, reads nothing, acts on nothing", async () => {
    const { pipeline, ec2, records, notified, event } = setup("off");
    ec2.failWith = new Error("must not be called");
    await pipeline.handle(event, "fallback");
    expect(records[0]).toMatchObject({ verdict: "violation", outcome: "no-action", mode: "off" });
    expect(notified).toEqual([]);
  });

  it("a rule in notify mode is reported, not acted on", async () => {
    const { pipeline, ec2, records, event } = setup("enforce", {
      rules: { "sg-ingress-internet-sensitive-port": "notify" },
    });
    await pipeline.handle(event, "fallback");
    expect(ec2.revoked).toEqual([]);
    expect(records[0]).toMatchObject({ outcome: "notified", mode: "notify" });
  });

  it("a live exemption tag with reason and expiry exempts; the violation is still recorded", async () => {
    const { pipeline, ec2, records, notified, event } = setup();
    ec2.tagValues = { "remediator:exempt": "reason=load test until Friday;expires=2026-11-27;owner=perf" };
    await pipeline.handle(event, "fallback");
    expect(ec2.revoked).toEqual([]);
    expect(records[0]).toMatchObject({ verdict: "exempted", outcome: "notified" });
    expect(records[0]?.reason).toContain("load test");
    expect(notified).toHaveLength(1);
  });

  it("an expired or malformed exemption tag does not exempt", async () => {
    for (const value of ["reason=old;expires=2026-11-01", "true"]) {
      const { pipeline, ec2, records, event } = setup();
      ec2.tagValues = { "remediator:exempt": value };
      await pipeline.handle(event, "fallback");
      expect(ec2.revoked).toEqual(["sgr-world"]);
      expect(records[0]?.outcome).toBe("remediated");
    }
  });

  it("a duplicate delivery does nothing and records nothing", async () => {
    const { pipeline, ec2, records, event } = setup();
    await pipeline.handle(event, "fallback");
    const again = await pipeline.handle(event, "fallback");
    expect(again.status).toBe("duplicate");
    expect(ec2.revoked).toEqual(["sgr-world"]);
    expect(records).toHaveLength(1);
  });

  it("a retryable failure releases the claim and rethrows, so the redelivery acts", async () => {
    const { pipeline, ec2, state, records, event } = setup();
    ec2.failWith = new RemediatorError("throttled for good", { retryable: true });

    await expect(pipeline.handle(event, "fallback")).rejects.toMatchObject({ retryable: true });
    expect(state.claims.size).toBe(0);
    expect(records).toEqual([]);

    ec2.failWith = undefined;
    await pipeline.handle(event, "fallback");
    expect(records[0]?.outcome).toBe("remediated");
  });

  it("a non-retryable failure (access denied on the read) ends as a failed record", async () => {
    const { pipeline, ec2, records, event } = setup();
    ec2.failWith = Object.assign(new Error("not authorized"), {
      name: "UnauthorizedOperation",
      $metadata: { httpStatusCode: 403 },
    });
    await pipeline.handle(event, "fallback");
    expect(records[0]).toMatchObject({ verdict: "failed", outcome: "failed" });
    expect(records[0]?.error).toContain("not authorized");
  });

  it("poison input is acknowledged with an invalid record named by the fallback id", async () => {
    const { pipeline, records } = setup();
    await pipeline.handle(
      { "detail-type": "AWS API Call via CloudTrail", detail: { eventName: 1 } },
      "sqs:m-1",
    );
    await pipeline.recordUnreadable("sqs:m-2", "not JSON");
    expect(records.map((r) => [r.eventId, r.verdict])).toEqual([
      ["sqs:m-1", "invalid"],
      ["sqs:m-2", "invalid"],
    ]);
  });
});
