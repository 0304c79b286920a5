/**
 * Reads the live state a change is about and turns it into the changes the engine judges.
 * The event says what changed and who did it; the verdict comes from what is there now: a rule
 * already revoked, a policy already fixed or an access point already deleted leaves nothing to do.
 */

import { RemediatorError } from "../core/errors.ts";
import { canonicalCidr } from "../core/net/cidr.ts";
import { normalizeProtocol, portRangeOf } from "../core/net/ports.ts";
import type { LiveFacts, MountTargetGuard } from "../core/rules/rule.ts";
import type { Change, ChangeDetail, FileSystemService, SgPeer, SgRule } from "../core/types.ts";
import { readIdentityLive } from "./iam-live-state.ts";
import type { IdentityResources } from "./iam-ports.ts";
import { bucketOfFileSystem, readLiveBucket } from "./live-bucket.ts";
import type {
  BucketApi,
  FileSystemApi,
  LiveSgRule,
  SecurityGroupApi,
  StateStore,
  StoredGuard,
} from "./live-ports.ts";

export interface LiveDeps {
  readonly ec2: SecurityGroupApi;
  readonly fileSystems: Readonly<Record<FileSystemService, FileSystemApi>>;
  readonly state: StateStore;
  /** The identity layer (IAM) of the account; IAM changes fail without it. */
  readonly identity?: IdentityResources;
  /** The buckets behind S3 Files file systems; without it a bucket change cannot be decided. */
  readonly buckets?: BucketApi;
}

/** Tags of one resource, for live exemptions. */
export interface TagSet {
  readonly resource: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface LiveView {
  /** What to judge; absent when the subject of the change is gone (`goneReason` says why). */
  readonly change: Change | undefined;
  readonly goneReason?: string;
  /** The resource itself no longer exists (not only the part the change was about). */
  readonly resourceGone?: boolean;
  /** The subject is not one the guardrail guards (a bucket that backs no file system): why. */
  readonly ignoredReason?: string;
  /**
   * Further changes judged with the main one: for a mount target, the inbound rules of each
   * security group attached to it.
   */
  readonly related: readonly Change[];
  readonly facts: LiveFacts;
  /** Plain-JSON snapshot for the audit record. */
  readonly snapshot: unknown;
  readonly tagSets: readonly TagSet[];
  /** For a mount target whose group set was replaced: the known-good set to restore. */
  readonly knownGoodGroups?: readonly string[];
  /**
   * The known-good set as it is now: the mount target judged as if that set were on it, and each
   * of its groups' live inbound rules, with the facts to judge them. A restore is offered only when
   * all of them are compliant (a group may have been opened up since it was last known good).
   * Absent when a known-good group no longer exists: then nothing is restored.
   */
  readonly knownGoodCheck?: { readonly changes: readonly Change[]; readonly facts: LiveFacts };
  /** For a mount target: what each attached group guards, saved for later events of the group. */
  readonly guardsSeen?: ReadonlyMap<string, StoredGuard>;
  /** For a mount target: who it is, so a restore step can be planned. */
  readonly mountTarget?: { readonly service: FileSystemService; readonly mountTargetId: string };
}

function peerOf(rule: LiveSgRule): SgPeer | undefined {
  if (rule.cidrIpv4) return { kind: "cidr", cidr: rule.cidrIpv4 };
  if (rule.cidrIpv6) return { kind: "cidr", cidr: rule.cidrIpv6 };
  if (rule.prefixListId) return { kind: "prefix-list", prefixListId: rule.prefixListId };
  if (rule.referencedGroupId) return { kind: "security-group", groupId: rule.referencedGroupId };
  return undefined;
}

/** A rule as `DescribeSecurityGroupRules` returns it, in the engine's model. */
export function sgRuleOf(rule: LiveSgRule): SgRule | undefined {
  const protocol = normalizeProtocol(rule.ipProtocol);
  const peer = peerOf(rule);
  if (!protocol || !peer) return undefined;
  const from = rule.fromPort !== undefined && rule.fromPort >= 0 ? rule.fromPort : undefined;
  const to = rule.toPort !== undefined && rule.toPort >= 0 ? rule.toPort : undefined;
  return {
    groupId: rule.groupId,
    direction: rule.isEgress ? "egress" : "ingress",
    protocol,
    rawProtocol: rule.ipProtocol,
    ports: portRangeOf(from, to),
    fromPort: from,
    toPort: to,
    peer,
    ruleId: rule.ruleId,
    ...(rule.description ? { description: rule.description } : {}),
  };
}

function peerKey(peer: SgPeer): string {
  if (peer.kind === "cidr") {
    try {
      return `cidr:${canonicalCidr(peer.cidr)}`;
    } catch {
      return `cidr:${peer.cidr}`;
    }
  }
  return peer.kind === "prefix-list" ? `pl:${peer.prefixListId}` : `sg:${peer.groupId}`;
}

function contentKey(rule: SgRule): string {
  return `${rule.direction}|${rule.protocol}|${rule.ports.from}-${rule.ports.to}|${peerKey(rule.peer)}`;
}

/**
 * The live rules the event is about: by rule id where the record named it, otherwise by content
 * (direction, protocol, ports, peer). A rule whose direction the record could not tell is matched
 * by id only, and the live rule tells the direction.
 */
export function concernedRules(eventRules: readonly SgRule[], live: readonly LiveSgRule[]): SgRule[] {
  const liveRules = live.map(sgRuleOf).filter((rule): rule is SgRule => rule !== undefined);
  const ids = new Set(eventRules.flatMap((rule) => (rule.ruleId ? [rule.ruleId] : [])));
  const keys = new Set(
    eventRules.filter((rule) => !rule.ruleId && !rule.directionAssumed).map((rule) => contentKey(rule)),
  );
  return liveRules.filter((rule) => (rule.ruleId && ids.has(rule.ruleId)) || keys.has(contentKey(rule)));
}

async function prefixListFacts(ec2: SecurityGroupApi, rules: readonly SgRule[]) {
  const ids = [
    ...new Set(rules.flatMap((rule) => (rule.peer.kind === "prefix-list" ? [rule.peer.prefixListId] : []))),
  ];
  const entries = await Promise.all(ids.map((id) => ec2.prefixListCidrs(id)));
  const map = new Map<string, readonly string[]>();
  ids.forEach((id, index) => {
    const cidrs = entries[index];
    if (cidrs) map.set(id, cidrs);
  });
  return map;
}

function withDetail(change: Change, detail: ChangeDetail): Change {
  return { ...change, detail };
}

function gone(reason: string, snapshot: unknown, resourceGone = false): LiveView {
  return {
    change: undefined,
    goneReason: reason,
    resourceGone,
    related: [],
    facts: {},
    snapshot,
    tagSets: [],
  };
}

function fsArnOf(change: Change, fileSystemId: string): string {
  return change.resourceIds.find((id) => id.endsWith(`file-system/${fileSystemId}`)) ?? fileSystemId;
}

/** Reads the live state behind `change`. */
export async function readLive(change: Change, deps: LiveDeps): Promise<LiveView> {
  const { detail } = change;
  switch (detail.kind) {
    case "sg-rules-added":
    case "sg-rules-modified": {
      // A default-VPC group authorised by name in a record without a response set: its rules can
      // only be read by id, and an empty read must never pass for "already revoked".
      if (!detail.groupId.startsWith("sg-")) {
        throw new RemediatorError(
          `security group "${detail.groupId}" is named, not identified: the record gives no sg- id to read its rules by`,
        );
      }
      const [live, guards] = await Promise.all([
        deps.ec2.describeRules(detail.groupId),
        deps.state.guards([detail.groupId]),
      ]);
      if (!live)
        return gone(`security group ${detail.groupId} no longer exists`, { groupId: detail.groupId }, true);
      const rules = concernedRules(detail.rules, live);
      const snapshot = { groupId: detail.groupId, rules: rules.map(snapshotSgRule) };
      if (rules.length === 0) {
        return gone(
          `the rule(s) of this change are no longer in ${detail.groupId} (already revoked)`,
          snapshot,
        );
      }
      const [prefixListCidrs, tags, confirmed] = await Promise.all([
        prefixListFacts(deps.ec2, rules),
        deps.ec2.tags(detail.groupId),
        confirmGuard(detail.groupId, guards.get(detail.groupId), deps),
      ]);
      return {
        change: withDetail(change, { kind: detail.kind, groupId: detail.groupId, rules }),
        related: [],
        facts: {
          prefixListCidrs,
          mountTargetGuards: new Map(confirmed ? [[detail.groupId, confirmed] as const] : []),
        },
        snapshot,
        tagSets: [{ resource: change.resource, tags }],
      };
    }
    case "fs-policy-put":
    case "fs-policy-deleted": {
      const api = deps.fileSystems[detail.service];
      const { fileSystemId } = detail;
      const [fs, policy, lastKnownGood] = await Promise.all([
        api.getFileSystem(fileSystemId),
        api.getPolicy(fileSystemId),
        deps.state.lastKnownGoodPolicy(detail.service, fileSystemId),
      ]);
      if (!fs) return gone(`file system ${fileSystemId} no longer exists`, { fileSystemId }, true);
      const tags = await api.tags(fileSystemId);
      const live: ChangeDetail = policy
        ? {
            kind: "fs-policy-put",
            service: detail.service,
            fileSystemId,
            policyText: policy,
            bypassPolicyLockoutSafetyCheck: false,
          }
        : { kind: "fs-policy-deleted", service: detail.service, fileSystemId };
      return {
        change: withDetail(change, live),
        related: [],
        facts: lastKnownGood ? { lastKnownGoodPolicy: new Map([[fileSystemId, lastKnownGood]]) } : {},
        snapshot: { fileSystemId, policy: policy ?? null },
        tagSets: [{ resource: change.resource, tags }],
      };
    }
    case "access-point-created": {
      const api = deps.fileSystems[detail.service];
      const id = detail.accessPointId;
      if (!id) return gone("the record names no access point id: nothing can be read live", {});
      const ap = await api.getAccessPoint(id);
      if (!ap) return gone(`access point ${id} no longer exists`, { accessPointId: id }, true);
      const [apTags, fsTags] = await Promise.all([api.tags(id), api.tags(ap.fileSystemId)]);
      return {
        change: withDetail(change, {
          kind: "access-point-created",
          service: detail.service,
          fileSystemId: ap.fileSystemId,
          accessPointId: ap.accessPointId,
          accessPointArn: ap.accessPointArn ?? detail.accessPointArn,
          posixUser: ap.posixUser,
          rootDirectory: ap.rootDirectory,
        }),
        related: [],
        facts: {},
        snapshot: ap,
        tagSets: [
          { resource: change.resource, tags: apTags },
          { resource: fsArnOf(change, ap.fileSystemId), tags: fsTags },
        ],
      };
    }
    case "mount-target-security-groups": {
      const api = deps.fileSystems[detail.service];
      const id = detail.mountTargetId;
      if (!id) return gone("the record names no mount target id: nothing can be read live", {});
      const mt = await api.getMountTarget(id);
      if (!mt) return gone(`mount target ${id} no longer exists`, { mountTargetId: id }, true);
      const [vpcCidrs, groupRules, tags, knownGood] = await Promise.all([
        mt.vpcId ? deps.ec2.vpcCidrs(mt.vpcId) : Promise.resolve([] as string[]),
        Promise.all(mt.securityGroups.map((groupId) => deps.ec2.describeRules(groupId))),
        api.tags(mt.fileSystemId),
        deps.state.knownGoodSecurityGroups(detail.service, id),
      ]);
      // Unknown VPC CIDRs would make every source "outside the VPC": then no guard is known, and
      // the stricter mount-target rules do not act (the general rules still do).
      const guard: StoredGuard | undefined =
        vpcCidrs.length > 0
          ? {
              fileSystemIds: [mt.fileSystemId],
              vpcCidrs,
              mountTargets: [{ service: detail.service, mountTargetId: id, fileSystemId: mt.fileSystemId }],
            }
          : undefined;
      const guards = new Map(guard ? mt.securityGroups.map((groupId) => [groupId, guard] as const) : []);
      const ingress = groupRules.map(ingressOf);
      const restorable = knownGood && !sameSet(knownGood, mt.securityGroups) ? knownGood : undefined;
      // The known-good groups are read as they are now, like the attached ones: a restore must not
      // put back a group that has been opened up since it was last known good.
      const knownGoodRules = restorable
        ? await Promise.all(
            restorable.map((groupId) => {
              const index = mt.securityGroups.indexOf(groupId);
              return index >= 0 ? groupRules[index] : deps.ec2.describeRules(groupId);
            }),
          )
        : [];
      const knownGoodIngress = knownGoodRules.map(ingressOf);
      const prefixListCidrs = await prefixListFacts(deps.ec2, [
        ...ingress.flat(),
        ...knownGoodIngress.flat(),
      ]);
      // Each attached group's inbound rules are judged as if just added, with this mount target's
      // guard facts; exemptions of the mount target and its file system cover them too.
      const related: Change[] = mt.securityGroups.map((groupId, index) => ({
        ...change,
        resource: groupId,
        resourceIds: [groupId, ...change.resourceIds],
        detail: { kind: "sg-rules-added", groupId, rules: ingress[index] ?? [] },
      }));
      return {
        change: withDetail(change, {
          kind: "mount-target-security-groups",
          service: detail.service,
          action: detail.action,
          fileSystemId: mt.fileSystemId,
          mountTargetId: id,
          vpcId: mt.vpcId,
          securityGroups: mt.securityGroups,
        }),
        related,
        facts: {
          mountTargetGuards: guards,
          prefixListCidrs,
          securityGroupIngressRules: new Map(mt.securityGroups.map((g, i) => [g, ingress[i] ?? []] as const)),
          ...(mt.vpcId && guard ? { vpcCidrs: new Map([[mt.vpcId, vpcCidrs]]) } : {}),
          // No `previousMountTargetGroups` here: the rules then plan revokes, and the pipeline
          // swaps in a restore only after judging the known-good set (`knownGoodCheck`).
        },
        snapshot: {
          mountTargetId: id,
          fileSystemId: mt.fileSystemId,
          vpcId: mt.vpcId ?? null,
          securityGroups: mt.securityGroups,
          inboundRules: Object.fromEntries(
            mt.securityGroups.map((g, i) => [g, (ingress[i] ?? []).map(snapshotSgRule)]),
          ),
        },
        tagSets: [{ resource: change.resource, tags }],
        ...(knownGood ? { knownGoodGroups: knownGood } : {}),
        ...(restorable && knownGoodRules.every((rules) => rules !== undefined)
          ? {
              knownGoodCheck: knownGoodCheckOf(change, restorable, knownGoodIngress, {
                guard,
                prefixListCidrs,
                vpcId: mt.vpcId,
                fileSystemId: mt.fileSystemId,
                mountTargetId: id,
                service: detail.service,
              }),
            }
          : {}),
        mountTarget: { service: detail.service, mountTargetId: id },
        guardsSeen: guards,
      };
    }
    case "file-system-created": {
      const api = deps.fileSystems[detail.service];
      const id = detail.fileSystemId;
      if (!id) return gone("the record names no file system id: nothing can be read live", {});
      const fs = await api.getFileSystem(id);
      if (!fs) return gone(`file system ${id} no longer exists`, { fileSystemId: id }, true);
      // S3 Files: the bucket it is built on is judged with it (it may already break a bucket rule).
      const [tags, bucket] = await Promise.all([
        api.tags(id),
        detail.service === "s3files"
          ? bucketOfFileSystem(change, fs.bucketArn ?? detail.bucketArn, deps)
          : Promise.resolve(undefined),
      ]);
      return {
        change: withDetail(change, {
          ...detail,
          fileSystemArn: fs.fileSystemArn ?? detail.fileSystemArn,
          kmsKeyId: fs.kmsKeyId,
          encrypted: fs.encrypted,
        }),
        related: bucket?.related ?? [],
        facts: bucket?.facts ?? {},
        snapshot: bucket ? { ...fs, bucket: bucket.snapshot } : fs,
        tagSets: [{ resource: change.resource, tags }],
      };
    }
    case "iam-identity":
      return readIdentityLive(change, detail, deps.identity);
    case "bucket-state": {
      return readLiveBucket(change, deps);
    }
    default:
      // Revokes, group creation and deletion can only narrow access: judged as recorded.
      return { change, related: [], facts: {}, snapshot: null, tagSets: [] };
  }
}

/**
 * A stored guard is only a memory of a mount-target read: before the stricter mount-target rule
 * acts on the group, each mount target it was seen on is read again. Those the group has left
 * are dropped from the stored guard; a guard that cannot be confirmed (none left, no mount target
 * recorded, unknown VPC CIDRs) guards nothing.
 */
async function confirmGuard(
  groupId: string,
  stored: StoredGuard | undefined,
  deps: LiveDeps,
): Promise<MountTargetGuard | undefined> {
  if (!stored) return undefined;
  const targets = stored.mountTargets ?? [];
  const live = await Promise.all(
    targets.map((t) => deps.fileSystems[t.service].getMountTarget(t.mountTargetId)),
  );
  const still = targets.filter((_, i) => live[i]?.securityGroups.includes(groupId) === true);
  const confirmed: StoredGuard | undefined =
    still.length > 0 && stored.vpcCidrs.length > 0
      ? {
          fileSystemIds: [...new Set(still.map((t) => t.fileSystemId))],
          vpcCidrs: stored.vpcCidrs,
          mountTargets: still,
        }
      : undefined;
  if (still.length !== targets.length || !confirmed) {
    // Best effort: a failed write only means the next event of this group confirms again.
    await deps.state.replaceGuard(groupId, confirmed, new Date()).catch(() => undefined);
  }
  return confirmed ? { fileSystemIds: confirmed.fileSystemIds, vpcCidrs: confirmed.vpcCidrs } : undefined;
}

function ingressOf(rules: readonly LiveSgRule[] | undefined): SgRule[] {
  return (rules ?? [])
    .filter((rule) => !rule.isEgress)
    .map(sgRuleOf)
    .filter((r): r is SgRule => r !== undefined);
}

/** The mount target as it would be with the known-good groups back on it, and those groups' rules. */
function knownGoodCheckOf(
  change: Change,
  groups: readonly string[],
  ingress: readonly SgRule[][],
  at: {
    readonly guard: MountTargetGuard | undefined;
    readonly prefixListCidrs: ReadonlyMap<string, readonly string[]>;
    readonly vpcId: string | undefined;
    readonly fileSystemId: string;
    readonly mountTargetId: string;
    readonly service: FileSystemService;
  },
): { changes: Change[]; facts: LiveFacts } {
  const { guard } = at;
  const facts: LiveFacts = {
    mountTargetGuards: new Map(guard ? groups.map((groupId) => [groupId, guard] as const) : []),
    prefixListCidrs: at.prefixListCidrs,
    securityGroupIngressRules: new Map(groups.map((g, i) => [g, ingress[i] ?? []] as const)),
    ...(at.vpcId && guard ? { vpcCidrs: new Map([[at.vpcId, guard.vpcCidrs]]) } : {}),
  };
  const mountTarget: Change = withDetail(change, {
    kind: "mount-target-security-groups",
    service: at.service,
    action: "create",
    fileSystemId: at.fileSystemId,
    mountTargetId: at.mountTargetId,
    vpcId: at.vpcId,
    securityGroups: groups,
  });
  const related: Change[] = groups.map((groupId, index) => ({
    ...change,
    resource: groupId,
    resourceIds: [groupId, ...change.resourceIds],
    detail: { kind: "sg-rules-added", groupId, rules: ingress[index] ?? [] },
  }));
  return { changes: [mountTarget, ...related], facts };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join(",") === [...b].sort().join(",");
}

function snapshotSgRule(rule: SgRule) {
  const { peer } = rule;
  const source =
    peer.kind === "cidr" ? peer.cidr : peer.kind === "prefix-list" ? peer.prefixListId : peer.groupId;
  return {
    ruleId: rule.ruleId ?? null,
    direction: rule.direction,
    protocol: rule.rawProtocol,
    fromPort: rule.fromPort ?? null,
    toPort: rule.toPort ?? null,
    peer: source,
    // Kept so an undo re-creates the rule as it was, description included.
    ...(rule.description ? { description: rule.description } : {}),
  };
}
