/**
 * EC2 adapter: security-group rules, managed prefix lists, VPC CIDRs, and the surgical revoke.
 * Every call goes through the runtime's retry policy; the client is injected.
 */
import {
  DescribeSecurityGroupRulesCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  GetManagedPrefixListEntriesCommand,
  RevokeSecurityGroupEgressCommand,
  type RevokeSecurityGroupEgressCommandInput,
  RevokeSecurityGroupIngressCommand,
  type RevokeSecurityGroupIngressCommandInput,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import type { CallResult, LiveSgRule, SecurityGroupApi } from "../runtime/live-ports.ts";
import { awsErrorName, type RetryPolicy, withRetry } from "../runtime/retry.ts";

/** Errors that mean the thing to revoke is no longer there: the revoke has nothing left to do. */
const GONE = new Set([
  "InvalidPermission.NotFound",
  "InvalidSecurityGroupRuleId.NotFound",
  "InvalidGroup.NotFound",
  "InvalidSecurityGroupID.NotFound",
]);

const GROUP_GONE = new Set(["InvalidGroup.NotFound", "InvalidSecurityGroupID.NotFound"]);

function liveRule(rule: SecurityGroupRule): LiveSgRule | undefined {
  if (!rule.SecurityGroupRuleId || !rule.GroupId || rule.IpProtocol === undefined) return undefined;
  return {
    ruleId: rule.SecurityGroupRuleId,
    groupId: rule.GroupId,
    isEgress: rule.IsEgress === true,
    ipProtocol: rule.IpProtocol,
    fromPort: rule.FromPort,
    toPort: rule.ToPort,
    ...(rule.CidrIpv4 ? { cidrIpv4: rule.CidrIpv4 } : {}),
    ...(rule.CidrIpv6 ? { cidrIpv6: rule.CidrIpv6 } : {}),
    ...(rule.PrefixListId ? { prefixListId: rule.PrefixListId } : {}),
    ...(rule.ReferencedGroupInfo?.GroupId ? { referencedGroupId: rule.ReferencedGroupInfo.GroupId } : {}),
    ...(rule.Description ? { description: rule.Description } : {}),
  };
}

export class Ec2SecurityGroupAdapter implements SecurityGroupApi {
  readonly operations;

  constructor(
    private readonly client: EC2Client,
    private readonly retry: RetryPolicy,
  ) {
    this.operations = {
      "ec2:RevokeSecurityGroupIngress": (params: Readonly<Record<string, unknown>>) =>
        this.revoke("ingress", params as unknown as RevokeSecurityGroupIngressCommandInput),
      "ec2:RevokeSecurityGroupEgress": (params: Readonly<Record<string, unknown>>) =>
        this.revoke("egress", params as unknown as RevokeSecurityGroupIngressCommandInput),
    };
  }

  async describeRules(groupId: string): Promise<readonly LiveSgRule[] | undefined> {
    const rules: LiveSgRule[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await withRetry("ec2:DescribeSecurityGroupRules", this.retry, () =>
          this.client.send(
            new DescribeSecurityGroupRulesCommand({
              Filters: [{ Name: "group-id", Values: [groupId] }],
              NextToken: nextToken,
            }),
          ),
        );
        for (const rule of page.SecurityGroupRules ?? []) {
          const live = liveRule(rule);
          if (live) rules.push(live);
        }
        nextToken = page.NextToken;
      } while (nextToken);
    } catch (error) {
      if (GROUP_GONE.has(awsErrorName(error))) return undefined;
      throw error;
    }
    return rules;
  }

  async prefixListCidrs(prefixListId: string): Promise<readonly string[] | undefined> {
    const cidrs: string[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await withRetry("ec2:GetManagedPrefixListEntries", this.retry, () =>
          this.client.send(
            new GetManagedPrefixListEntriesCommand({ PrefixListId: prefixListId, NextToken: nextToken }),
          ),
        );
        for (const entry of page.Entries ?? []) if (entry.Cidr) cidrs.push(entry.Cidr);
        nextToken = page.NextToken;
      } while (nextToken);
    } catch (error) {
      if (awsErrorName(error).startsWith("InvalidPrefixListID")) return undefined;
      throw error;
    }
    return cidrs;
  }

  async vpcCidrs(vpcId: string): Promise<readonly string[]> {
    const answer = await withRetry("ec2:DescribeVpcs", this.retry, () =>
      this.client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })),
    );
    const vpc = answer.Vpcs?.[0];
    if (!vpc) return [];
    const v4 = (vpc.CidrBlockAssociationSet ?? [])
      .filter((a) => a.CidrBlockState?.State === undefined || a.CidrBlockState.State === "associated")
      .map((a) => a.CidrBlock);
    const v6 = (vpc.Ipv6CidrBlockAssociationSet ?? [])
      .filter((a) => a.Ipv6CidrBlockState?.State === undefined || a.Ipv6CidrBlockState.State === "associated")
      .map((a) => a.Ipv6CidrBlock);
    const all = [...v4, ...v6, vpc.CidrBlock].filter(
      (c): c is string => typeof c === "string" && c.length > 0,
    );
    return [...new Set(all)];
  }

  async tags(groupId: string): Promise<Readonly<Record<string, string>>> {
    const answer = await withRetry("ec2:DescribeTags", this.retry, () =>
      this.client.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [groupId] }] })),
    );
    const tags: Record<string, string> = {};
    for (const tag of answer.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? "";
    return tags;
  }

  private async revoke(
    direction: "ingress" | "egress",
    params: RevokeSecurityGroupIngressCommandInput,
  ): Promise<CallResult> {
    const name = direction === "ingress" ? "ec2:RevokeSecurityGroupIngress" : "ec2:RevokeSecurityGroupEgress";
    try {
      const answer = await withRetry(name, this.retry, () =>
        direction === "ingress"
          ? this.client.send(new RevokeSecurityGroupIngressCommand(params))
          : this.client.send(
              new RevokeSecurityGroupEgressCommand(params as RevokeSecurityGroupEgressCommandInput),
            ),
      );
      // Revoking by IpPermissions a rule that does not exist answers 200 with the permission
      // listed as unknown (EC2 API reference, RevokeSecurityGroupIngress): it is already gone.
      const unknown = answer.UnknownIpPermissions ?? [];
      return { requestId: answer.$metadata.requestId, alreadyGone: unknown.length > 0 };
    } catch (error) {
      if (GONE.has(awsErrorName(error))) {
        return {
          requestId: (error as { $metadata?: { requestId?: string } }).$metadata?.requestId,
          alreadyGone: true,
        };
      }
      throw error;
    }
  }
}
