/**
 * How to undo a remediation: for each step the remediator ran, the call that puts the resource
 * back as it was, built from the live state the pipeline recorded before acting (`record.before`,
 * in the shapes `live-state.ts` writes). Each undo is plain data (the SDK call) and its AWS CLI
 * command, so a person can run it and a test can run the very same call. One builder per API the
 * plans use: a new kind of remediation adds one entry to {@link UNDO_BUILDERS}.
 */
import type { PlanStep } from "../core/types.ts";
import type { AuditRecord } from "./ports.ts";

export interface UndoStep {
  /** What the step does, for people. */
  readonly text: string;
  /** The AWS CLI command that does it, when one can be built. */
  readonly command?: string;
  /** The same call as the SDK sends it: `Service:Operation` and its exact input. */
  readonly call?: { readonly api: string; readonly params: Readonly<Record<string, unknown>> };
}

type UndoBuilder = (step: PlanStep, record: AuditRecord) => UndoStep;

/** POSIX shell single quotes: the text goes through unchanged, whatever it holds. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function cliService(api: string): string {
  const service = api.slice(0, api.indexOf(":"));
  return service === "elasticfilesystem" ? "efs" : service;
}

function regionFlag(record: AuditRecord): string {
  return record.region ? ` --region ${record.region}` : "";
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * The rules of the `before` snapshot, wherever they sit: `{rules: […]}` for a security-group
 * change, `{inboundRules: {sg-…: […]}}` for a mount target's groups.
 */
function snapshotRules(before: unknown, groupId: string): Record<string, unknown>[] {
  const state = asObject(before);
  if (!state) return [];
  const inbound = asObject(state.inboundRules)?.[groupId];
  const rules = Array.isArray(inbound) ? inbound : state.groupId === groupId ? state.rules : undefined;
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((rule: unknown) => {
    const object = asObject(rule);
    return object ? [object] : [];
  });
}

/**
 * The `IpPermissions` entry that re-creates one rule as `live-state.ts` snapshots it:
 * `{ruleId, direction, protocol, fromPort, toPort, peer[, description]}`, where `peer` is a CIDR,
 * a prefix-list id or a security-group id.
 */
export function ipPermissionOfSnapshot(rule: Record<string, unknown>): Record<string, unknown> | undefined {
  const { protocol, peer } = rule;
  if (typeof protocol !== "string" || typeof peer !== "string") return undefined;
  const permission: Record<string, unknown> = { IpProtocol: protocol };
  // Protocol -1 (all traffic) takes no ports; ICMP's "any type/code" was snapshotted as null = -1.
  if (protocol !== "-1") {
    const icmp = protocol === "icmp" || protocol === "1" || protocol === "icmpv6" || protocol === "58";
    const from = typeof rule.fromPort === "number" ? rule.fromPort : icmp ? -1 : undefined;
    const to = typeof rule.toPort === "number" ? rule.toPort : icmp ? -1 : undefined;
    if (from !== undefined) permission.FromPort = from;
    if (to !== undefined) permission.ToPort = to;
  }
  const description = typeof rule.description === "string" ? { Description: rule.description } : {};
  if (peer.startsWith("pl-")) permission.PrefixListIds = [{ PrefixListId: peer, ...description }];
  else if (peer.startsWith("sg-")) permission.UserIdGroupPairs = [{ GroupId: peer, ...description }];
  else if (peer.includes(":")) permission.Ipv6Ranges = [{ CidrIpv6: peer, ...description }];
  else if (peer.includes("/")) permission.IpRanges = [{ CidrIp: peer, ...description }];
  else return undefined;
  return permission;
}

const reauthorize: UndoBuilder = (step, record) => {
  const egress = step.api.endsWith("Egress");
  const verb = egress ? "egress" : "ingress";
  const groupId = String(step.params.GroupId ?? step.params.GroupName ?? "");
  const byId = Array.isArray(step.params.SecurityGroupRuleIds)
    ? step.params.SecurityGroupRuleIds.filter((id): id is string => typeof id === "string")
    : [];
  const snapshot = snapshotRules(record.before, groupId);
  const fromSnapshot = byId.map((id) => snapshot.find((rule) => rule.ruleId === id));
  const permissions = Array.isArray(step.params.IpPermissions)
    ? step.params.IpPermissions
    : fromSnapshot.map((rule) => (rule ? ipPermissionOfSnapshot(rule) : undefined));
  if (!groupId.startsWith("sg-") || permissions.length === 0 || permissions.some((p) => p === undefined)) {
    return {
      text: `re-create the revoked ${verb} rule(s) of ${groupId || "the group"} shown as removed above (aws ec2 authorize-security-group-${verb}); the recorded state does not describe all of them`,
    };
  }
  const api = egress ? "ec2:AuthorizeSecurityGroupEgress" : "ec2:AuthorizeSecurityGroupIngress";
  return {
    text: `re-create the revoked ${verb} rule(s) of ${groupId}`,
    command: `aws ec2 authorize-security-group-${verb}${regionFlag(record)} --group-id ${groupId} --ip-permissions ${shellQuote(JSON.stringify(permissions))}`,
    call: { api, params: { GroupId: groupId, IpPermissions: permissions } },
  };
};

/** Policies are JSON: shown on one line, with the same statements. */
function oneLine(policy: string): string {
  try {
    return JSON.stringify(JSON.parse(policy));
  } catch {
    return policy;
  }
}

const putPolicyBack: UndoBuilder = (step, record) => {
  const s3files = step.api.startsWith("s3files:");
  const fileSystemId = String(step.params.fileSystemId ?? step.params.FileSystemId ?? "");
  const previous = asObject(record.before)?.policy;
  const service = cliService(step.api);
  if (previous === null) {
    // The remediator put a policy where there was none (a deleted policy restored).
    return {
      text: `delete the policy the remediator put on ${fileSystemId} (it had none)`,
      command: `aws ${service} delete-file-system-policy${regionFlag(record)} --file-system-id ${fileSystemId}`,
      call: {
        api: `${step.api.slice(0, step.api.indexOf(":"))}:DeleteFileSystemPolicy`,
        params: s3files ? { fileSystemId } : { FileSystemId: fileSystemId },
      },
    };
  }
  if (typeof previous !== "string") {
    return { text: `put the previous policy of ${fileSystemId} back (shown as removed above)` };
  }
  return {
    text: `put the previous policy of ${fileSystemId} back`,
    command: `aws ${service} put-file-system-policy${regionFlag(record)} --file-system-id ${fileSystemId} --policy ${shellQuote(oneLine(previous))}`,
    call: {
      api: step.api,
      params: s3files ? { fileSystemId, policy: previous } : { FileSystemId: fileSystemId, Policy: previous },
    },
  };
};

const restoreGroups: UndoBuilder = (step, record) => {
  const s3files = step.api.startsWith("s3files:");
  const mountTargetId = String(step.params.mountTargetId ?? step.params.MountTargetId ?? "");
  const previous = asObject(record.before)?.securityGroups;
  const groups = Array.isArray(previous) ? previous.filter((g): g is string => typeof g === "string") : [];
  if (groups.length === 0) {
    return { text: `put the previous security groups of ${mountTargetId} back (shown as removed above)` };
  }
  const command = s3files
    ? `aws s3files update-mount-target${regionFlag(record)} --mount-target-id ${mountTargetId} --security-groups ${groups.join(" ")}`
    : `aws efs modify-mount-target-security-groups${regionFlag(record)} --mount-target-id ${mountTargetId} --security-groups ${groups.join(" ")}`;
  return {
    text: `put the previous security groups of ${mountTargetId} back (${groups.join(", ")})`,
    command,
    call: {
      api: step.api,
      params: s3files
        ? { mountTargetId, securityGroups: groups }
        : { MountTargetId: mountTargetId, SecurityGroups: groups },
    },
  };
};

/** `undefined`-free object: the CLI's JSON and the SDK input carry only what was there. */
function defined(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(entries).filter(([, value]) => value !== undefined && value !== null),
  );
}

const recreateAccessPoint: UndoBuilder = (step, record) => {
  const s3files = step.api.startsWith("s3files:");
  const ap = asObject(record.before);
  const fileSystemId = typeof ap?.fileSystemId === "string" ? ap.fileSystemId : undefined;
  const accessPointId = String(step.params.accessPointId ?? step.params.AccessPointId ?? "");
  if (!fileSystemId) {
    return { text: `re-create access point ${accessPointId} with the settings shown as removed above` };
  }
  const posix = asObject(ap?.posixUser);
  const root = asObject(ap?.rootDirectory);
  const creation = asObject(root?.creationPermissions);
  const secondary =
    Array.isArray(posix?.secondaryGids) && posix.secondaryGids.length > 0 ? posix.secondaryGids : undefined;
  const posixUser = posix
    ? s3files
      ? defined({ uid: posix.uid, gid: posix.gid, secondaryGids: secondary })
      : defined({ Uid: posix.uid, Gid: posix.gid, SecondaryGids: secondary })
    : undefined;
  const creationInfo = creation
    ? s3files
      ? defined({
          ownerUid: creation.ownerUid,
          ownerGid: creation.ownerGid,
          permissions: creation.permissions,
        })
      : defined({
          OwnerUid: creation.ownerUid,
          OwnerGid: creation.ownerGid,
          Permissions: creation.permissions,
        })
    : undefined;
  const rootDirectory = root
    ? s3files
      ? defined({ path: root.path, creationPermissions: creationInfo })
      : defined({ Path: root.path, CreationInfo: creationInfo })
    : undefined;
  const params = s3files
    ? defined({ fileSystemId, posixUser, rootDirectory })
    : defined({ FileSystemId: fileSystemId, PosixUser: posixUser, RootDirectory: rootDirectory });
  const service = cliService(step.api);
  const flags = [
    `--file-system-id ${fileSystemId}`,
    ...(posixUser ? [`--posix-user ${shellQuote(JSON.stringify(posixUser))}`] : []),
    ...(rootDirectory ? [`--root-directory ${shellQuote(JSON.stringify(rootDirectory))}`] : []),
  ];
  return {
    text: `re-create access point ${accessPointId} with its settings (a deleted access point cannot be restored: the new one has a new id and no tags; point its clients at it)`,
    command: `aws ${service} create-access-point${regionFlag(record)} ${flags.join(" ")}`,
    call: { api: `${step.api.slice(0, step.api.indexOf(":"))}:CreateAccessPoint`, params },
  };
};

/** The guardrail's own deny policy was attached: detaching it is the whole undo (no customer policy was touched). */
const detachDenyPolicy: UndoBuilder = (step) => {
  const role = step.api.endsWith("AttachRolePolicy");
  const entity = role ? "role" : "user";
  const name = String((role ? step.params.RoleName : step.params.UserName) ?? `<${entity}-name>`);
  const policyArn = String(step.params.PolicyArn ?? "<policy-arn>");
  return {
    text: `detach the guardrail's deny policy from ${entity} ${name}`,
    command: `aws iam detach-${entity}-policy --${entity}-name ${name} --policy-arn ${policyArn}`,
    call: {
      api: role ? "iam:DetachRolePolicy" : "iam:DetachUserPolicy",
      params: role ? { RoleName: name, PolicyArn: policyArn } : { UserName: name, PolicyArn: policyArn },
    },
  };
};

/** One builder per operation the plans use (the service prefix does not matter). */
export const UNDO_BUILDERS: Readonly<Record<string, UndoBuilder>> = {
  RevokeSecurityGroupIngress: reauthorize,
  RevokeSecurityGroupEgress: reauthorize,
  PutFileSystemPolicy: putPolicyBack,
  UpdateMountTarget: restoreGroups,
  ModifyMountTargetSecurityGroups: restoreGroups,
  DeleteAccessPoint: recreateAccessPoint,
  AttachRolePolicy: detachDenyPolicy,
  AttachUserPolicy: detachDenyPolicy,
};

/** How to undo each step the remediator ran, in reverse order (the last change is undone first). */
export function undoSteps(record: AuditRecord): UndoStep[] {
  return [...record.plan].reverse().map((step) => {
    const build = UNDO_BUILDERS[step.api.slice(step.api.indexOf(":") + 1)];
    return build
      ? build(step, record)
      : { text: `reverse ${step.api} using the "before" state above (no undo is known for this call)` };
  });
}
