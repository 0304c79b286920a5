/**
 * EC2 security-group calls, normalised into one `SgRule` per (protocol, ports, peer).
 *
 * Shapes (CloudTrail `requestParameters`):
 * - `ipPermissions.items[]` with `ipProtocol`, `fromPort`, `toPort`, `ipRanges.items[].cidrIp`,
 *   `ipv6Ranges.items[].cidrIpv6`, `prefixListIds.items[].prefixListId`, `groups.items[].groupId`;
 * - the older flat form: `cidrIp`, `ipProtocol`, `fromPort`, `toPort` (or `sourceSecurityGroupName`)
 *   at the top level, with `ipPermissions: {}`;
 * - `ModifySecurityGroupRules`: a PascalCase wrapper `ModifySecurityGroupRulesRequest`.
 * Since 2021 `responseElements.securityGroupRuleSet.items[]` gives each created rule's id.
 */
import { z } from "zod";
import { formatZodIssues } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import { canonicalCidr, InvalidCidrError, reachOf } from "../net/cidr.ts";
import { normalizeProtocol, portRangeOf } from "../net/ports.ts";
import type { ChangeDetail, SgPeer, SgRule } from "../types.ts";

// Schemas name only the fields the engine reads; every other key of a record is dropped, not
// copied (CloudTrail bodies carry many), which keeps validation off the hot path's profile.
const port = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/, "must be a port number")
    .transform(Number),
]);
const protocol = z.union([z.string().min(1), z.number().int()]);

/** EC2's query-protocol lists arrive as `{ items: [...] }`, or `{}` when empty. */
function itemsOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item).optional() }).nullish();
}

const ipPermissionSchema = z.object({
  ipProtocol: protocol,
  fromPort: port.optional(),
  toPort: port.optional(),
  ipRanges: itemsOf(z.object({ cidrIp: z.string(), description: z.string().optional() })),
  ipv6Ranges: itemsOf(z.object({ cidrIpv6: z.string(), description: z.string().optional() })),
  prefixListIds: itemsOf(z.object({ prefixListId: z.string(), description: z.string().optional() })),
  groups: itemsOf(
    z.object({
      groupId: z.string().optional(),
      groupName: z.string().optional(),
      userId: z.string().optional(),
      description: z.string().optional(),
    }),
  ),
});

const authorizeParametersSchema = z.object({
  groupId: z.string().min(1).optional(),
  groupName: z.string().min(1).optional(),
  ipPermissions: itemsOf(ipPermissionSchema),
  // The flat form.
  cidrIp: z.string().optional(),
  ipProtocol: protocol.optional(),
  fromPort: port.optional(),
  toPort: port.optional(),
  sourceSecurityGroupName: z.string().optional(),
  sourceSecurityGroupOwnerId: z.string().optional(),
});

const ruleSetItemSchema = z.object({
  securityGroupRuleId: z.string(),
  groupId: z.string().optional(),
  isEgress: z.boolean().optional(),
  ipProtocol: protocol.optional(),
  fromPort: port.optional(),
  toPort: port.optional(),
  cidrIpv4: z.string().optional(),
  cidrIpv6: z.string().optional(),
  prefixListId: z.string().optional(),
  referencedGroupInfo: z.object({ groupId: z.string().optional() }).optional(),
});

const authorizeResponseSchema = z.object({ securityGroupRuleSet: itemsOf(ruleSetItemSchema) }).nullish();

const modifiedRuleSchema = z.object({
  SecurityGroupRuleId: z.string().min(1),
  SecurityGroupRule: z.object({
    IpProtocol: protocol,
    FromPort: port.optional(),
    ToPort: port.optional(),
    CidrIpv4: z.string().optional(),
    CidrIpv6: z.string().optional(),
    PrefixListId: z.string().optional(),
    ReferencedGroupId: z.string().optional(),
    Description: z.string().optional(),
  }),
});

const modifyParametersSchema = z.object({
  ModifySecurityGroupRulesRequest: z.object({
    GroupId: z.string().min(1),
    // One rule arrives as an object, several as an array.
    SecurityGroupRule: z.union([modifiedRuleSchema, z.array(modifiedRuleSchema).min(1)]),
  }),
});

const revokeParametersSchema = z.object({
  groupId: z.string().min(1).optional(),
  groupName: z.string().min(1).optional(),
  securityGroupRuleIds: itemsOf(z.object({ securityGroupRuleId: z.string() })),
});

const createParametersSchema = z.object({ vpcId: z.string().optional() }).nullish();
const createResponseSchema = z.object({ groupId: z.string().optional() }).nullish();
const deleteParametersSchema = z.object({
  groupId: z.string().optional(),
  groupName: z.string().optional(),
});

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(`${where}: ${formatZodIssues(result.error)}`);
  return result.data;
}

function validCidr(text: string, where: string): string {
  try {
    reachOf(text); // parses (and remembers) the CIDR: the rules will ask the same question
    return text;
  } catch (error) {
    if (error instanceof InvalidCidrError) throw new InvalidInputError(`${where}: ${error.message}`);
    throw error;
  }
}

interface RuleShape {
  readonly rawProtocol: string | number;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
}

function ruleOf(
  groupId: string,
  direction: "ingress" | "egress",
  shape: RuleShape,
  peer: SgPeer,
  where: string,
  extra: { ruleId?: string; description?: string; directionAssumed?: boolean } = {},
): SgRule {
  const protocol = normalizeProtocol(shape.rawProtocol);
  if (!protocol) throw new InvalidInputError(`${where}.ipProtocol: unknown protocol "${shape.rawProtocol}"`);
  return {
    groupId,
    direction,
    protocol,
    rawProtocol: String(shape.rawProtocol),
    ports: portRangeOf(shape.fromPort, shape.toPort),
    fromPort: shape.fromPort,
    toPort: shape.toPort,
    peer,
    // Set explicitly (possibly undefined), not spread in: the literal keeps one shape and stays fast.
    ruleId: extra.ruleId,
    description: extra.description,
    directionAssumed: extra.directionAssumed,
  };
}

/** Identity of a rule for matching a request permission to its entry in the response set. */
function ruleKey(
  egress: boolean,
  rawProtocol: string | number,
  from: number | undefined,
  to: number | undefined,
  peer: SgPeer,
) {
  const protocol = normalizeProtocol(rawProtocol) ?? String(rawProtocol);
  let ports = "";
  if (protocol === "tcp" || protocol === "udp") {
    const range = portRangeOf(from, to);
    ports = `${range.from}-${range.to}`;
  } else if (protocol !== "all") {
    ports = `${from}:${to}`; // ICMP type and code
  }
  const peerKey =
    peer.kind === "cidr"
      ? canonicalCidr(peer.cidr)
      : peer.kind === "prefix-list"
        ? peer.prefixListId
        : peer.groupId;
  return `${egress}|${protocol}|${ports}|${peerKey}`;
}

function peerOfRuleSetItem(item: z.output<typeof ruleSetItemSchema>): SgPeer | undefined {
  if (item.cidrIpv4) return { kind: "cidr", cidr: item.cidrIpv4 };
  if (item.cidrIpv6) return { kind: "cidr", cidr: item.cidrIpv6 };
  if (item.prefixListId) return { kind: "prefix-list", prefixListId: item.prefixListId };
  if (item.referencedGroupInfo?.groupId)
    return { kind: "security-group", groupId: item.referencedGroupInfo.groupId };
  return undefined;
}

/**
 * What the response set tells: each created rule's id by its identity, and the group's id (a call
 * that named the group by `groupName`, as the default VPC allows, gets its `sg-` id only here).
 */
function ruleSetOf(responseElements: unknown): { ids: Map<string, string>; groupId: string | undefined } {
  const response = authorizeResponseSchema.safeParse(responseElements);
  const ids = new Map<string, string>();
  let groupId: string | undefined;
  if (!response.success) return { ids, groupId }; // Evidence we may use, never a reason to reject.
  for (const item of response.data?.securityGroupRuleSet?.items ?? []) {
    groupId ??= item.groupId;
    const peer = peerOfRuleSetItem(item);
    if (!peer || item.ipProtocol === undefined) continue;
    try {
      ids.set(
        ruleKey(item.isEgress ?? false, item.ipProtocol, item.fromPort, item.toPort, peer),
        item.securityGroupRuleId,
      );
    } catch {
      // An unparseable CIDR in the response cannot be matched; the rule is revoked by IpPermissions instead.
    }
  }
  return { ids, groupId };
}

function authorizeChange(
  direction: "ingress" | "egress",
  requestParameters: unknown,
  responseElements: unknown,
): ChangeDetail {
  const params = parseOrThrow(authorizeParametersSchema, requestParameters, "requestParameters");
  const ruleSet = ruleSetOf(responseElements);
  const ids = ruleSet.ids;
  // A group named only by `groupName` is judged under its `sg-` id when the response gives it.
  const groupId = params.groupId ?? ruleSet.groupId ?? params.groupName;
  if (!groupId)
    throw new InvalidInputError("requestParameters.groupId: missing (neither groupId nor groupName given)");
  const rules: SgRule[] = [];
  const egress = direction === "egress";
  const add = (shape: RuleShape, peer: SgPeer, where: string, description?: string) => {
    const ruleId =
      ids.size > 0
        ? ids.get(ruleKey(egress, shape.rawProtocol, shape.fromPort, shape.toPort, peer))
        : undefined;
    rules.push(ruleOf(groupId, direction, shape, peer, where, { ruleId, description }));
  };
  (params.ipPermissions?.items ?? []).forEach((permission, i) => {
    const where = `requestParameters.ipPermissions.items[${i}]`;
    const shape = {
      rawProtocol: permission.ipProtocol,
      fromPort: permission.fromPort,
      toPort: permission.toPort,
    };
    (permission.ipRanges?.items ?? []).forEach((range, j) => {
      const cidr = validCidr(range.cidrIp, `${where}.ipRanges.items[${j}].cidrIp`);
      add(shape, { kind: "cidr", cidr }, where, range.description);
    });
    (permission.ipv6Ranges?.items ?? []).forEach((range, j) => {
      const cidr = validCidr(range.cidrIpv6, `${where}.ipv6Ranges.items[${j}].cidrIpv6`);
      add(shape, { kind: "cidr", cidr }, where, range.description);
    });
    for (const list of permission.prefixListIds?.items ?? []) {
      add(shape, { kind: "prefix-list", prefixListId: list.prefixListId }, where, list.description);
    }
    (permission.groups?.items ?? []).forEach((group, j) => {
      const referenced = group.groupId ?? group.groupName;
      if (!referenced)
        throw new InvalidInputError(`${where}.groups.items[${j}]: neither groupId nor groupName given`);
      add(
        shape,
        { kind: "security-group", groupId: referenced, ...(group.userId ? { ownerId: group.userId } : {}) },
        where,
        group.description,
      );
    });
  });
  // The older flat form: one source at the top of requestParameters.
  if (params.ipProtocol !== undefined && (params.cidrIp || params.sourceSecurityGroupName)) {
    const shape = { rawProtocol: params.ipProtocol, fromPort: params.fromPort, toPort: params.toPort };
    const peer: SgPeer = params.cidrIp
      ? { kind: "cidr", cidr: validCidr(params.cidrIp, "requestParameters.cidrIp") }
      : { kind: "security-group", groupId: params.sourceSecurityGroupName as string };
    add(shape, peer, "requestParameters");
  } else if (params.cidrIp && params.ipProtocol === undefined) {
    // EC2-Classic allowed a bare cidrIp meaning every protocol and port.
    add(
      { rawProtocol: "-1", fromPort: undefined, toPort: undefined },
      { kind: "cidr", cidr: validCidr(params.cidrIp, "requestParameters.cidrIp") },
      "requestParameters",
    );
  }
  if (rules.length === 0) {
    throw new InvalidInputError(
      "requestParameters.ipPermissions: no rule given (neither ipPermissions.items nor the flat cidrIp form)",
    );
  }
  return { kind: "sg-rules-added", groupId, rules };
}

function modifyChange(requestParameters: unknown): ChangeDetail {
  const params = parseOrThrow(modifyParametersSchema, requestParameters, "requestParameters");
  const request = params.ModifySecurityGroupRulesRequest;
  const entries = Array.isArray(request.SecurityGroupRule)
    ? request.SecurityGroupRule
    : [request.SecurityGroupRule];
  const rules = entries.map((entry, i) => {
    const where = `requestParameters.ModifySecurityGroupRulesRequest.SecurityGroupRule${Array.isArray(request.SecurityGroupRule) ? `[${i}]` : ""}.SecurityGroupRule`;
    const rule = entry.SecurityGroupRule;
    let peer: SgPeer;
    if (rule.CidrIpv4) peer = { kind: "cidr", cidr: validCidr(rule.CidrIpv4, `${where}.CidrIpv4`) };
    else if (rule.CidrIpv6) peer = { kind: "cidr", cidr: validCidr(rule.CidrIpv6, `${where}.CidrIpv6`) };
    else if (rule.PrefixListId) peer = { kind: "prefix-list", prefixListId: rule.PrefixListId };
    else if (rule.ReferencedGroupId) peer = { kind: "security-group", groupId: rule.ReferencedGroupId };
    else
      throw new InvalidInputError(
        `${where}: no peer (CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId)`,
      );
    const shape = { rawProtocol: rule.IpProtocol, fromPort: rule.FromPort, toPort: rule.ToPort };
    return ruleOf(request.GroupId, "ingress", shape, peer, where, {
      ruleId: entry.SecurityGroupRuleId,
      directionAssumed: true,
      description: rule.Description,
    });
  });
  return { kind: "sg-rules-modified", groupId: request.GroupId, rules };
}

function revokeChange(direction: "ingress" | "egress", requestParameters: unknown): ChangeDetail {
  const params = parseOrThrow(revokeParametersSchema, requestParameters ?? {}, "requestParameters");
  const groupId = params.groupId ?? params.groupName;
  if (!groupId)
    throw new InvalidInputError("requestParameters.groupId: missing (neither groupId nor groupName given)");
  const ruleIds = (params.securityGroupRuleIds?.items ?? []).map((item) => item.securityGroupRuleId);
  return { kind: "sg-rules-revoked", groupId, direction, ruleIds };
}

/** The EC2 calls this product judges; every other EC2 call is ignored with that reason. */
export const EC2_JUDGED_EVENTS = [
  "AuthorizeSecurityGroupIngress",
  "AuthorizeSecurityGroupEgress",
  "ModifySecurityGroupRules",
  "RevokeSecurityGroupIngress",
  "RevokeSecurityGroupEgress",
  "CreateSecurityGroup",
  "DeleteSecurityGroup",
] as const;

/** Normalises an EC2 security-group call; `undefined` for EC2 calls that are not about security groups. */
export function ec2Change(
  eventName: string,
  requestParameters: unknown,
  responseElements: unknown,
): ChangeDetail | undefined {
  switch (eventName) {
    case "AuthorizeSecurityGroupIngress":
      return authorizeChange("ingress", requestParameters, responseElements);
    case "AuthorizeSecurityGroupEgress":
      return authorizeChange("egress", requestParameters, responseElements);
    case "ModifySecurityGroupRules":
      return modifyChange(requestParameters);
    case "RevokeSecurityGroupIngress":
      return revokeChange("ingress", requestParameters);
    case "RevokeSecurityGroupEgress":
      return revokeChange("egress", requestParameters);
    case "CreateSecurityGroup": {
      const params = parseOrThrow(createParametersSchema, requestParameters, "requestParameters");
      const response = parseOrThrow(createResponseSchema, responseElements, "responseElements");
      return { kind: "sg-created", groupId: response?.groupId, vpcId: params?.vpcId };
    }
    case "DeleteSecurityGroup": {
      const params = parseOrThrow(deleteParametersSchema, requestParameters ?? {}, "requestParameters");
      return { kind: "sg-deleted", groupId: params.groupId ?? params.groupName };
    }
    default:
      return undefined;
  }
}
