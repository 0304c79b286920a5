/**
 * `npm run demo`: the two remediations end to end on a local emulator.
 *
 * Starts moto_server on a free 127.0.0.1 port; creates a VPC, a security group with NFS open to
 * the world beside a private NFS rule, an EFS file system with a public policy, the audit and
 * state tables, the SNS topic and the EventBridge bus; sends the CloudTrail events of those two
 * changes through the real built bundle `dist/functions/remediate/index.mjs`; prints the state
 * before and after and the audit records; stops the emulator.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateFileSystemCommand,
  DescribeFileSystemPolicyCommand,
  EFSClient,
  PutFileSystemPolicyCommand,
} from "@aws-sdk/client-efs";
import { startMoto } from "../test/helpers/moto.ts";
import {
  auditRecordsIn,
  authorizeIngressEvent,
  createInfra,
  efsPolicyEvent,
  lambdaContext,
  publicEfsPolicy,
  runtimeEnv,
  sqsBatch,
} from "../test/helpers/runtime-env.ts";

const BUNDLE = resolve("dist/functions/remediate/index.mjs");

function heading(text: string): void {
  console.log(`\n=== ${text} ===`);
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  const moto = await startMoto();
  try {
    console.log(`moto_server on ${moto.endpoint}`);
    const region = moto.clientConfig.region;
    const infra = await createInfra(moto, "demo");
    const ec2 = new EC2Client(moto.clientConfig);
    const efs = new EFSClient(moto.clientConfig);

    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
    const vpcId = vpc.Vpc?.VpcId ?? "";
    const group = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "demo-mount-target",
        Description: "NFS for EFS",
        VpcId: vpcId,
      }),
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
            IpRanges: [
              { CidrIp: "0.0.0.0/0", Description: "oops: NFS for everyone" },
              { CidrIp: "10.0.0.0/16", Description: "NFS from the VPC" },
            ],
          },
        ],
      }),
    );
    const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: "demo", Encrypted: true }));
    const fileSystemId = fs.FileSystemId ?? "";
    const policy = publicEfsPolicy(region, fileSystemId);
    await efs.send(new PutFileSystemPolicyCommand({ FileSystemId: fileSystemId, Policy: policy }));

    const groupRules = async () =>
      (
        await ec2.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
        )
      ).SecurityGroupRules?.filter((r) => !r.IsEgress).map(
        (r) => `${r.SecurityGroupRuleId} ${r.IpProtocol}/${r.FromPort} from ${r.CidrIpv4 ?? r.CidrIpv6}`,
      ) ?? [];
    const livePolicy = async () =>
      (await efs.send(new DescribeFileSystemPolicyCommand({ FileSystemId: fileSystemId }))).Policy ??
      "(none)";

    heading("before");
    console.log(`security group ${groupId} inbound:\n  ${(await groupRules()).join("\n  ")}`);
    console.log(
      `file system ${fileSystemId} policy:\n${JSON.stringify(JSON.parse(await livePolicy()), null, 2)}`,
    );

    // The environment of the local run contract, then the real bundle (it reads it at import).
    Object.assign(process.env, runtimeEnv(moto, infra, { POWERTOOLS_LOG_LEVEL: "ERROR" }));
    const { handler } = (await import(pathToFileURL(BUNDLE).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };
    const sgEvent = authorizeIngressEvent(
      groupId,
      2049,
      (added.SecurityGroupRules ?? []).map((r) => ({
        cidr: r.CidrIpv4 ?? "",
        ruleId: r.SecurityGroupRuleId ?? "",
      })),
      { region },
    );
    const policyEvent = efsPolicyEvent(fileSystemId, policy, { region });
    heading("sending 2 CloudTrail events (one SQS batch) through dist/functions/remediate/index.mjs");
    const started = performance.now();
    const response = await handler(sqsBatch([sgEvent, policyEvent]), lambdaContext());
    console.log(
      `handler answered ${JSON.stringify(response)} in ${(performance.now() - started).toFixed(0)} ms`,
    );
    heading("the same batch again (a duplicate delivery)");
    console.log(JSON.stringify(await handler(sqsBatch([sgEvent, policyEvent]), lambdaContext())));

    heading("after");
    console.log(`security group ${groupId} inbound:\n  ${(await groupRules()).join("\n  ")}`);
    console.log(
      `file system ${fileSystemId} policy:\n${JSON.stringify(JSON.parse(await livePolicy()), null, 2)}`,
    );

    heading("audit records");
    for (const record of await auditRecordsIn(moto, infra.auditTable)) {
      console.log(
        JSON.stringify(
          {
            eventId: record.eventId,
            eventName: record.eventName,
            actor: record.actor,
            sourceIp: record.sourceIp,
            resource: record.resource,
            rules: record.rules,
            verdict: record.verdict,
            mode: record.mode,
            outcome: record.outcome,
            plan: record.plan,
            requestIds: record.requestIds,
            reason: record.reason,
          },
          null,
          2,
        ),
      );
    }
  } finally {
    await moto.stop();
    console.log("\nmoto_server stopped");
  }
}

await main();
