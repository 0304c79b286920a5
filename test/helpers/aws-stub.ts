/**
 * An in-process, zero-latency AWS for the burst test and the handler-overhead benchmark: the SDK
 * clients' `send` is answered from memory (aws-sdk-client-mock at class level), so the real
 * handler, pipeline, adapters, ledger and notifiers run with no network. It keeps just enough
 * state to behave like AWS for the security-group path: rules that exist until revoked, DynamoDB
 * items with the conditional writes the state table and the ledger rely on.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeSecurityGroupRulesCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  EC2Client,
  GetManagedPrefixListEntriesCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { EFSClient } from "@aws-sdk/client-efs";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { S3FilesClient } from "@aws-sdk/client-s3files";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import type { AwsClients } from "../../shared/runtime/compose.ts";

type Item = Record<string, unknown>;
const meta = { $metadata: { httpStatusCode: 200, requestId: "stub" } };

export class InMemoryAws {
  readonly rules = new Map<string, SecurityGroupRule>();
  readonly items = new Map<string, Item>();
  calls = 0;
  private nextRule = 0;

  /** Adds an ingress rule; returns its id. */
  addIngressRule(groupId: string, port: number, cidr: string): string {
    const id = `sgr-${(this.nextRule++).toString(16).padStart(17, "0")}`;
    this.rules.set(id, {
      SecurityGroupRuleId: id,
      GroupId: groupId,
      IsEgress: false,
      IpProtocol: "tcp",
      FromPort: port,
      ToPort: port,
      CidrIpv4: cidr,
    });
    return id;
  }

  itemsOf(table: string): Item[] {
    return [...this.items.entries()].filter(([key]) => key.startsWith(`${table}|`)).map(([, item]) => item);
  }

  private key(table: string | undefined, item: Item | Record<string, unknown> | undefined): string {
    return `${table}|${String(item?.pk)}|${String(item?.sk)}`;
  }

  /** Mocks the client classes; returns the function that restores them. */
  install(): () => void {
    const ec2 = mockClient(EC2Client);
    const documents = mockClient(DynamoDBDocumentClient);
    const sns = mockClient(SNSClient);
    const events = mockClient(EventBridgeClient);
    const count = () => {
      this.calls++;
    };
    ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input) => {
      count();
      const groupIds = input.Filters?.find((f: { Name?: string }) => f.Name === "group-id")?.Values ?? [];
      return {
        ...meta,
        SecurityGroupRules: [...this.rules.values()].filter((r) => groupIds.includes(r.GroupId)),
      };
    });
    ec2.on(RevokeSecurityGroupIngressCommand).callsFake((input) => {
      count();
      const ids: string[] = input.SecurityGroupRuleIds ?? [];
      if (ids.some((id) => !this.rules.has(id))) {
        throw Object.assign(new Error("The specified rule does not exist in this security group."), {
          name: "InvalidPermission.NotFound",
          $metadata: { httpStatusCode: 400, requestId: "stub" },
        });
      }
      for (const id of ids) this.rules.delete(id);
      return { ...meta, Return: true };
    });
    ec2.on(DescribeTagsCommand).callsFake(() => {
      count();
      return { ...meta, Tags: [] };
    });
    ec2.on(GetManagedPrefixListEntriesCommand).callsFake(() => {
      count();
      return { ...meta, Entries: [] };
    });
    ec2.on(DescribeVpcsCommand).callsFake(() => {
      count();
      return { ...meta, Vpcs: [] };
    });

    documents.on(GetCommand).callsFake((input) => {
      count();
      const item = this.items.get(this.key(input.TableName, input.Key));
      return { ...meta, ...(item ? { Item: structuredClone(item) } : {}) };
    });
    documents.on(PutCommand).callsFake((input) => {
      count();
      const key = this.key(input.TableName, input.Item);
      const old = this.items.get(key);
      if (input.ConditionExpression && old && !this.claimable(old, input.ExpressionAttributeValues ?? {})) {
        throw new ConditionalCheckFailedException({
          message: "The conditional request failed",
          $metadata: {},
        });
      }
      this.items.set(key, structuredClone(input.Item ?? {}));
      return input.ReturnValues === "ALL_OLD" && old ? { ...meta, Attributes: structuredClone(old) } : meta;
    });
    documents.on(DeleteCommand).callsFake((input) => {
      count();
      const key = this.key(input.TableName, input.Key);
      const old = this.items.get(key);
      if (input.ConditionExpression && old?.status !== input.ExpressionAttributeValues?.[":inProgress"]) {
        throw new ConditionalCheckFailedException({
          message: "The conditional request failed",
          $metadata: {},
        });
      }
      this.items.delete(key);
      return meta;
    });
    documents.on(TransactWriteCommand).callsFake((input) => {
      count();
      const puts = (input.TransactItems ?? []).map(
        (t: { Put?: { TableName?: string; Item?: Item } }) => t.Put,
      );
      const reasons = puts.map(
        (put: { TableName?: string; Item?: Item; ConditionExpression?: string } | undefined) =>
          put?.ConditionExpression && this.items.has(this.key(put?.TableName, put?.Item))
            ? { Code: "ConditionalCheckFailed" }
            : { Code: "None" },
      );
      if (reasons.some((r: { Code: string }) => r.Code !== "None")) {
        throw new TransactionCanceledException({
          message: "Transaction cancelled",
          $metadata: {},
          CancellationReasons: reasons,
        });
      }
      for (const put of puts)
        this.items.set(this.key(put?.TableName, put?.Item), structuredClone(put?.Item ?? {}));
      return meta;
    });
    sns.on(PublishCommand).callsFake(() => {
      count();
      return { ...meta, MessageId: "m" };
    });
    events.on(PutEventsCommand).callsFake(() => {
      count();
      return { ...meta, FailedEntryCount: 0, Entries: [{ EventId: "e" }] };
    });
    return () => {
      ec2.restore();
      documents.restore();
      sns.restore();
      events.restore();
    };
  }

  /**
   * The state table's conditional puts: a claim (a new item, a released claim, or an in-progress
   * one whose lease ran out) and a release (only by the claim's owner).
   */
  private claimable(old: Item, values: Record<string, unknown>): boolean {
    const inProgress = values[":inProgress"];
    if (values[":owner"] !== undefined) return old.status === inProgress && old.owner === values[":owner"];
    const now = values[":now"];
    if (values[":released"] !== undefined && old.status === values[":released"]) return true;
    return (
      inProgress !== undefined &&
      old.status === inProgress &&
      typeof now === "number" &&
      Number(old.leaseUntil) < now
    );
  }
}

/** SDK clients that never reach the network once `install()` ran. */
export function stubClients(): AwsClients {
  const config = { region: "eu-west-1", credentials: { accessKeyId: "stub", secretAccessKey: "stub" } };
  return {
    ec2: new EC2Client({ ...config, maxAttempts: 1 }),
    efs: new EFSClient({ ...config, maxAttempts: 1 }),
    s3files: new S3FilesClient({ ...config, maxAttempts: 1 }),
    dynamodb: new DynamoDBClient(config),
    sns: new SNSClient(config),
    events: new EventBridgeClient(config),
    securityHub: undefined,
    secrets: undefined,
  };
}

/** The local run contract's variables for the stubbed runtime. */
export const STUB_ENV: Record<string, string> = {
  AUDIT_TABLE_NAME: "audit",
  STATE_TABLE_NAME: "state",
  NOTIFY_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:alerts",
  EVENT_BUS_NAME: "decisions",
  REMEDIATION_MODE: "enforce",
  SELF_ROLE_ARNS: "arn:aws:iam::123456789012:role/s3files-remediator",
};
