/**
 * What the runtime's integration tests, the demo and the benchmarks share: the two tables, the
 * topic and the bus created in the emulator, the environment of the local run contract, and
 * CloudTrail events (wrapped as EventBridge delivers them) for the calls the remediator judges.
 */
import { randomUUID } from "node:crypto";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { EFSClient } from "@aws-sdk/client-efs";
import { CreateEventBusCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3FilesClient } from "@aws-sdk/client-s3files";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { fromAuditItem, type StoredAuditRecord } from "../../shared/adapters/audit-dynamodb.ts";
import type { AwsClients } from "../../shared/runtime/compose.ts";
import type { Moto } from "./moto.ts";

export const ACCOUNT = "123456789012";
export const HUMAN_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/platform-admin/alice`;
export const SELF_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/s3files-remediator`;

export interface Infra {
  readonly auditTable: string;
  readonly stateTable: string;
  readonly topicArn: string;
  readonly busName: string;
}

/** Creates both tables (`pk` S hash, `sk` S range), the SNS topic and the EventBridge bus. */
export async function createInfra(moto: Moto, prefix = "remediator"): Promise<Infra> {
  const dynamodb = new DynamoDBClient(moto.clientConfig);
  const names = { auditTable: `${prefix}-audit`, stateTable: `${prefix}-state` };
  for (const TableName of Object.values(names)) {
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      }),
    );
  }
  const topic = await new SNSClient(moto.clientConfig).send(
    new CreateTopicCommand({ Name: `${prefix}-alerts` }),
  );
  const busName = `${prefix}-decisions`;
  await new EventBridgeClient(moto.clientConfig).send(new CreateEventBusCommand({ Name: busName }));
  return { ...names, topicArn: topic.TopicArn ?? "", busName };
}

/** The local run contract: the six required variables, plus the SDK's own pointing at the emulator. */
export function runtimeEnv(
  moto: Moto,
  infra: Infra,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AUDIT_TABLE_NAME: infra.auditTable,
    STATE_TABLE_NAME: infra.stateTable,
    NOTIFY_TOPIC_ARN: infra.topicArn,
    EVENT_BUS_NAME: infra.busName,
    REMEDIATION_MODE: "enforce",
    SELF_ROLE_ARNS: SELF_ROLE_ARN,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: moto.clientConfig.region,
    AWS_ACCESS_KEY_ID: moto.clientConfig.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: moto.clientConfig.credentials.secretAccessKey,
    RETRY_BASE_DELAY_MS: "5",
    POWERTOOLS_LOG_LEVEL: "WARN",
    POWERTOOLS_METRICS_DISABLED: "true",
    ...extra,
  };
}

export interface EventOptions {
  readonly eventId?: string;
  readonly region?: string;
  readonly actorArn?: string;
  readonly eventTime?: string;
}

/** One CloudTrail record as EventBridge delivers it. */
export function cloudTrailEvent(
  eventSource: string,
  eventName: string,
  requestParameters: Record<string, unknown>,
  responseElements: Record<string, unknown> | null,
  options: EventOptions = {},
): Record<string, unknown> {
  const region = options.region ?? "eu-west-1";
  const actorArn = options.actorArn ?? HUMAN_ARN;
  const roleName = actorArn.split("/")[1] ?? "role";
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "AWS API Call via CloudTrail",
    source: `aws.${eventSource.split(".")[0]}`,
    account: ACCOUNT,
    time: options.eventTime ?? new Date().toISOString(),
    region,
    resources: [],
    detail: {
      eventVersion: "1.09",
      userIdentity: {
        type: "AssumedRole",
        arn: actorArn,
        accountId: ACCOUNT,
        sessionContext: { sessionIssuer: { type: "Role", arn: `arn:aws:iam::${ACCOUNT}:role/${roleName}` } },
      },
      eventTime: options.eventTime ?? new Date().toISOString(),
      eventSource,
      eventName,
      awsRegion: region,
      sourceIPAddress: "198.51.100.7",
      userAgent: "aws-cli/2.15.0",
      requestParameters,
      responseElements,
      requestID: randomUUID(),
      eventID: options.eventId ?? randomUUID(),
      readOnly: false,
      eventType: "AwsApiCall",
      recipientAccountId: ACCOUNT,
    },
  };
}

/** AuthorizeSecurityGroupIngress of one TCP port from some CIDRs, with the rule ids EC2 answered. */
export function authorizeIngressEvent(
  groupId: string,
  port: number,
  rules: readonly { readonly cidr: string; readonly ruleId?: string }[],
  options: EventOptions = {},
): Record<string, unknown> {
  const withIds = rules.filter((rule) => rule.ruleId);
  return cloudTrailEvent(
    "ec2.amazonaws.com",
    "AuthorizeSecurityGroupIngress",
    {
      groupId,
      ipPermissions: {
        items: [
          {
            ipProtocol: "tcp",
            fromPort: port,
            toPort: port,
            ipRanges: { items: rules.map((rule) => ({ cidrIp: rule.cidr })) },
          },
        ],
      },
    },
    withIds.length > 0
      ? {
          _return: true,
          securityGroupRuleSet: {
            items: withIds.map((rule) => ({
              groupId,
              securityGroupRuleId: rule.ruleId,
              isEgress: false,
              ipProtocol: "tcp",
              fromPort: port,
              toPort: port,
              cidrIpv4: rule.cidr,
            })),
          },
        }
      : { _return: true },
    options,
  );
}

/** PutFileSystemPolicy on EFS. */
export function efsPolicyEvent(fileSystemId: string, policy: string, options: EventOptions = {}) {
  return cloudTrailEvent(
    "elasticfilesystem.amazonaws.com",
    "PutFileSystemPolicy",
    { fileSystemId, policy, bypassPolicyLockoutSafetyCheck: false },
    { fileSystemId, policy },
    options,
  );
}

/** A policy that lets anyone mount and write: the public policy the demo plants. */
export function publicEfsPolicy(region: string, fileSystemId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "OpenToAll",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: `arn:aws:elasticfilesystem:${region}:${ACCOUNT}:file-system/${fileSystemId}`,
      },
    ],
  });
}

/** An SQS batch as Lambda delivers it, one record per body. */
export function sqsBatch(bodies: readonly unknown[]): { Records: Record<string, unknown>[] } {
  return {
    Records: bodies.map((body, index) => ({
      messageId: `m-${index}-${randomUUID()}`,
      receiptHandle: "rh",
      body: typeof body === "string" ? body : JSON.stringify(body),
      attributes: { ApproximateReceiveCount: "1" },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:eu-west-1:${ACCOUNT}:remediator-events`,
      awsRegion: "eu-west-1",
    })),
  };
}

/** A Lambda context good enough for Powertools. */
export function lambdaContext(name = "remediate"): Record<string, unknown> {
  return {
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${name}`,
    memoryLimitInMB: "256",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 300_000,
  };
}

/** Every decision in the audit table (a scan: fine for the emulator's few items). */
export async function auditRecordsIn(moto: Moto, tableName: string): Promise<StoredAuditRecord[]> {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(moto.clientConfig));
  const records: StoredAuditRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) if (item.kind === "decision") records.push(fromAuditItem(item));
    start = page.LastEvaluatedKey;
  } while (start);
  return records;
}

/** SDK clients pointed at the emulator, as `createClients` builds them for Lambda. */
export function motoClients(moto: Moto): AwsClients {
  const config = moto.clientConfig;
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

/** Makes the next `count` calls of a client fail as AWS does when it throttles. */
export function injectThrottling(
  client: { middlewareStack: EC2Client["middlewareStack"] },
  count: () => number,
) {
  let calls = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      calls++;
      if (calls <= count()) {
        throw Object.assign(new Error("Rate exceeded"), {
          name: "RequestLimitExceeded",
          $metadata: { httpStatusCode: 503, requestId: `throttled-${calls}` },
        });
      }
      return next(args);
    },
    { step: "initialize", name: "injectThrottling" },
  );
  return { calls: () => calls };
}

/** A security group in `vpcId` admitting NFS (tcp/2049) from each of `cidrs`, with the rule ids EC2 answered. */
export async function createNfsGroup(ec2: EC2Client, vpcId: string, name: string, cidrs: readonly string[]) {
  const group = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: name, Description: "t", VpcId: vpcId }),
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
          IpRanges: cidrs.map((cidr) => ({ CidrIp: cidr })),
        },
      ],
    }),
  );
  const rules = (added.SecurityGroupRules ?? []).map((r) => ({
    cidr: r.CidrIpv4 ?? "",
    ruleId: r.SecurityGroupRuleId ?? "",
  }));
  return { groupId, rules };
}

/** The IPv4 sources of a group's inbound rules, sorted. */
export async function ingressCidrs(ec2: EC2Client, groupId: string): Promise<string[]> {
  const answer = await ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
  );
  return (answer.SecurityGroupRules ?? [])
    .filter((r) => !r.IsEgress)
    .map((r) => r.CidrIpv4 ?? "")
    .sort();
}
