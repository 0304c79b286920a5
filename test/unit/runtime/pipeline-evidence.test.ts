/**
 * The evidence guarantees of the pipeline, with in-memory ports: an attempt that acted and stopped
 * before recording is finished by the next one (never `already-compliant`); a recorded decision
 * whose notification was not delivered is told by the next attempt, without deciding again; a
 * policy that moves between the read and the write is judged again; a policy event whose text
 * cannot be parsed is judged on the live policy.
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
import type { AuditRecord, Notifier } from "../../../shared/runtime/ports.ts";
import { MemoryLedger } from "../../helpers/memory-ledger.ts";
import {
  ACCOUNT,
  authorizeIngressEvent,
  efsPolicyEvent,
  publicEfsPolicy,
} from "../../helpers/runtime-env.ts";

const GROUP = "sg-0123456789abcdef0";
const FS = "fs-0123456789abcdef0";
const NOW = new Date("2026-11-29T12:00:00Z");

class FakeEc2 implements SecurityGroupApi {
  reads = 0;
  revoked: string[] = [];
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
  ];
  async describeRules(groupId: string) {
    this.reads++;
    return this.rules.filter((r) => r.groupId === groupId);
  }
  async prefixListCidrs() {
    return [];
  }
  async vpcCidrs() {
    return [];
  }
  async tags() {
    return {};
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

/** One EFS file system's policy; `afterRead` lets a test change it behind the pipeline's back. */
class FakeEfsPolicy {
  policy: string | undefined;
  written: string[] = [];
  afterRead: ((read: number) => void) | undefined;
  afterWrite: (() => void) | undefined;
  reads = 0;
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
      getPolicy: async () => {
        const policy = this.policy;
        this.afterRead?.(++this.reads);
        return policy;
      },
      tags: async () => ({}),
      operations: {
        "elasticfilesystem:PutFileSystemPolicy": async (params: Readonly<Record<string, unknown>>) => {
          this.policy = params.Policy as string;
          this.written.push(this.policy);
          this.afterWrite?.();
          return { requestId: `req-put-${this.written.length}`, alreadyGone: false };
        },
      },
    } as unknown as FileSystemApi;
  }
}

class MemoryState implements StateStore {
  claims = new Map<string, "in-progress" | "done" | "released">();
  intents = new Map<string, DecisionIntent>();
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
    if (claim === "in-progress" || claim === "done") return claim;
    this.claims.set(eventId, "in-progress");
    return claim === "released" ? "reclaimed" : "claimed";
  }
  async completeEvent(eventId: string) {
    this.claims.set(eventId, "done");
  }
  async releaseEvent(eventId: string) {
    this.claims.set(eventId, "released");
  }
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

/** A ledger whose next `failures` writes commit and then fail as if their answer was lost for good. */
class LosingLedger extends MemoryLedger {
  failures = 0;
  override async record(entry: AuditRecord, owed: readonly string[] = []) {
    if (this.failures > 0) {
      this.failures--;
      throw new RemediatorError("audit ledger: throttled for good", { retryable: true });
    }
    return super.record(entry, owed);
  }
}

function setup() {
  const ec2 = new FakeEc2();
  const efs = new FakeEfsPolicy();
  const state = new MemoryState();
  const ledger = new LosingLedger();
  const told: { channel: string; eventId: string }[] = [];
  let snsFailure: Error | undefined;
  const notifiers: Notifier[] = [
    {
      name: "sns",
      notify: async (record) => {
        if (snsFailure) throw snsFailure;
        told.push({ channel: "sns", eventId: record.eventId });
      },
    },
  ];
  const api = efs.api();
  const pipeline = new RemediationPipeline({
    mode: "enforce",
    config: parseConfig({ selfRoleArns: [`arn:aws:iam::${ACCOUNT}:role/s3files-remediator`] }, RULE_IDS),
    exemptTagKey: "remediator:exempt",
    ec2,
    fileSystems: { efs: api, s3files: api },
    state,
    executor: new PlanExecutor(ec2.operations, api.operations),
    ledger,
    notifiers,
    clock: { now: () => NOW },
    retry: { maxAttempts: 2, baseDelayMs: 0, sleep: async () => {} },
  });
  const failSns = (error: Error | undefined) => {
    snsFailure = error;
  };
  return { pipeline, ec2, efs, state, ledger, told, failSns };
}

const sgEvent = () => authorizeIngressEvent(GROUP, 2049, [{ cidr: "0.0.0.0/0", ruleId: "sgr-world" }]);
const eventIdOf = (event: Record<string, unknown>) => (event.detail as { eventID: string }).eventID;

describe("an attempt that acted and stopped before recording", () => {
  it("is finished by the next attempt as remediated, with the state before and the request ids, never already-compliant", async () => {
    const { pipeline, ec2, state, ledger, told } = setup();
    const event = sgEvent();
    ledger.failures = 1;

    await expect(pipeline.handle(event, "m-1")).rejects.toMatchObject({ retryable: true });
    expect(ec2.revoked).toEqual(["sgr-world"]);
    expect(state.intents.get(eventIdOf(event))?.requestIds).toEqual(["req-revoke"]);
    const result = await pipeline.handle(event, "m-1");

    expect(result).toMatchObject({ status: "decided", ledger: "written" });
    expect(ledger.records).toHaveLength(1);
    expect(ledger.records[0]).toMatchObject({
      verdict: "violation",
      outcome: "remediated",
      requestIds: ["req-revoke"],
      rules: ["sg-ingress-internet-sensitive-port"],
      before: { groupId: GROUP, rules: [{ ruleId: "sgr-world", peer: "0.0.0.0/0" }] },
    });
    expect(ledger.records[0]?.reason).toContain("Remediated by an earlier attempt of this event");
    expect(ec2.revoked).toEqual(["sgr-world"]);
    expect(told).toEqual([{ channel: "sns", eventId: eventIdOf(event) }]);
  });

  it("without an intent, a state already fixed is someone else's fix (already-compliant)", async () => {
    const { pipeline, ec2, ledger } = setup();
    ec2.rules = [];

    await pipeline.handle(sgEvent(), "m-1");

    expect(ledger.records[0]).toMatchObject({ verdict: "compliant", outcome: "already-compliant" });
  });
});

describe("a recorded decision whose notification was not delivered", () => {
  it("stays owed and goes back to the queue; the next attempt tells it without deciding again", async () => {
    const { pipeline, ec2, ledger, told, failSns } = setup();
    const event = sgEvent();
    const eventId = eventIdOf(event);
    failSns(
      Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: { httpStatusCode: 400 } }),
    );

    await expect(pipeline.handle(event, "m-1")).rejects.toMatchObject({
      retryable: true,
      message: expect.stringContaining("notification still owed to sns"),
    });
    expect(ledger.records).toHaveLength(1);
    expect(ledger.outbox.get(eventId)).toEqual(["sns"]);
    const readsBefore = ec2.reads;
    failSns(undefined);
    const result = await pipeline.handle(event, "m-1");

    expect(result).toMatchObject({ status: "decided", ledger: "duplicate" });
    expect(ec2.reads).toBe(readsBefore);
    expect(told).toEqual([{ channel: "sns", eventId }]);
    expect(ledger.outbox.get(eventId)).toEqual([]);
    expect(ledger.records).toHaveLength(1);
  });

  it("a channel that fails for good is logged and stays owed, and holds nothing up", async () => {
    const { pipeline, ledger, failSns } = setup();
    const event = sgEvent();
    failSns(
      Object.assign(new Error("Forbidden"), {
        name: "AuthorizationError",
        $metadata: { httpStatusCode: 403 },
      }),
    );

    const result = await pipeline.handle(event, "m-1");

    expect(result.status).toBe("decided");
    expect(ledger.outbox.get(eventIdOf(event))).toEqual(["sns"]);
  });
});

describe("file-system policy edits", () => {
  it("judges again when the policy changed between the read and the write, and edits the newer text", async () => {
    const { pipeline, efs, ledger } = setup();
    const first = publicEfsPolicy("eu-west-1", FS);
    const newer = JSON.parse(first) as { Statement: Record<string, unknown>[] };
    newer.Statement.push({
      Sid: "AddedMeanwhile",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "elasticfilesystem:ClientRootAccess",
      Resource: "*",
    });
    efs.policy = first;
    efs.afterRead = (read) => {
      if (read === 1) efs.policy = JSON.stringify(newer);
    };

    await pipeline.handle(efsPolicyEvent(FS, first), "m-1");

    expect(efs.written).toHaveLength(1);
    expect(efs.written[0]).toContain("AddedMeanwhile");
    expect(ledger.records[0]).toMatchObject({ verdict: "violation", outcome: "remediated" });
    expect(ledger.records[0]?.before).toEqual({ fileSystemId: FS, policy: JSON.stringify(newer) });
  });

  it("fails the verification when the policy read back is not the one written", async () => {
    const { pipeline, efs, ledger } = setup();
    const policy = publicEfsPolicy("eu-west-1", FS);
    efs.policy = policy;
    const someoneElses = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OwnerOnly",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: "elasticfilesystem:ClientMount",
          Resource: "*",
        },
      ],
    });
    efs.afterWrite = () => {
      efs.policy = someoneElses;
    };

    await pipeline.handle(efsPolicyEvent(FS, policy), "m-1");

    expect(ledger.records[0]).toMatchObject({ verdict: "failed", outcome: "failed" });
    expect(ledger.records[0]?.error).toContain("the policy read back is not the one written");
  });
});

describe("a policy event whose text cannot be parsed", () => {
  const truncated = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},';

  it("is judged on the live policy: a public one is narrowed, and the record names the parse problem", async () => {
    const { pipeline, efs, ledger } = setup();
    efs.policy = publicEfsPolicy("eu-west-1", FS);

    await pipeline.handle(efsPolicyEvent(FS, truncated), "m-1");

    expect(efs.written).toHaveLength(1);
    const [record] = ledger.records;
    expect(record).toMatchObject({ verdict: "violation", outcome: "remediated" });
    expect(record?.reason).toMatch(
      /^The event's policy text cannot be parsed \(requestParameters\.policy: not valid JSON/,
    );
    expect(record?.error).toMatch(/not valid JSON/);
  });

  it("a compliant live policy is recorded compliant, with the parse problem", async () => {
    const { pipeline, efs, ledger } = setup();
    efs.policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: "elasticfilesystem:ClientMount",
          Resource: "*",
        },
        {
          Sid: "EnforceTls",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "*",
          Resource: "*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });

    await pipeline.handle(efsPolicyEvent(FS, truncated), "m-1");

    expect(efs.written).toEqual([]);
    expect(ledger.records[0]).toMatchObject({ verdict: "compliant", outcome: "no-action" });
    expect(ledger.records[0]?.error).toMatch(/not valid JSON/);
  });
});
