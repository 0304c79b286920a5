/**
 * Organization mode end to end against moto_server, which is multi-account aware: what is created
 * with credentials of a role assumed in account B lives in account B. A member-account event is
 * read and reverted in that account with its member role (one AssumeRole for several events); a
 * central-account event uses the function's own credentials; a member whose role cannot be
 * assumed ends as a `failed` record, and a throttled AssumeRole sends the message back.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateFileSystemCommand,
  DescribeFileSystemPolicyCommand,
  EFSClient,
  PutFileSystemPolicyCommand,
} from "@aws-sdk/client-efs";
import { AssumeRoleCommand, type AssumeRoleCommandInput, STSClient } from "@aws-sdk/client-sts";
import type { SQSBatchResponse } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AwsClients, buildRuntime, createClients } from "../../../shared/runtime/compose.ts";
import { createRemediateHandler } from "../../../shared/runtime/remediate-handler.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import { type Moto, startMoto } from "../../helpers/moto.ts";
import {
  ACCOUNT,
  auditRecordsIn,
  authorizeIngressEvent,
  createInfra,
  createNfsGroup,
  type Infra,
  ingressCidrs,
  lambdaContext,
  runtimeEnv,
  sqsBatch,
} from "../../helpers/runtime-env.ts";

type Handler = (event: unknown, context: unknown) => Promise<SQSBatchResponse | undefined>;

const MEMBER_ROLE = "s3files-remediator-member";
const MEMBER = "222233334444";
const NOT_ENROLLED = "444455556666";
const THROTTLED = "555566667777";

let moto: Moto;
let infra: Infra;
let handler: Handler;
let clients: AwsClients;
/** Every AssumeRole the runtime made (the ones the test made itself are not counted). */
let assumed: AssumeRoleCommandInput[];

beforeAll(async () => {
  moto = await startMoto();
  infra = await createInfra(moto, "org");
  // The member clients are built by the composition root with no endpoint of their own: like in
  // Lambda, the SDK takes it from the environment.
  Object.assign(process.env, runtimeEnv(moto, infra, { MEMBER_ROLE_NAME: MEMBER_ROLE }));
  const settings = loadSettings(process.env);
  // Injected (in Lambda the runtime loads STS on the first member event) to watch its calls.
  const sts = new STSClient({ maxAttempts: 1 });
  clients = { ...createClients(settings), sts };
  sts.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as AssumeRoleCommandInput;
      assumed.push(input);
      // moto lets anyone assume any role; these two answer as STS does for a member that is not
      // enrolled (no role, or a trust policy that does not name us) and for a throttled caller.
      if (input.RoleArn?.includes(NOT_ENROLLED)) {
        throw Object.assign(
          new Error(
            `User: arn:aws:sts::${ACCOUNT}:assumed-role/s3files-remediator-remediate-eu-west-1/x is not ` +
              `authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`,
          ),
          { name: "AccessDenied", $fault: "client", $metadata: { httpStatusCode: 403 } },
        );
      }
      if (input.RoleArn?.includes(THROTTLED)) {
        throw Object.assign(new Error("Rate exceeded"), {
          name: "Throttling",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    },
    { step: "initialize", name: "recordAssumeRole" },
  );
  const logger = new Logger({ logLevel: "SILENT" });
  const metrics = new Metrics({ namespace: "test", serviceName: "test" });
  const { pipeline } = buildRuntime(settings, clients, { sleep: async () => {} });
  handler = createRemediateHandler(pipeline, logger, metrics) as unknown as Handler;
});

beforeEach(() => {
  assumed = [];
});

afterAll(async () => {
  await moto?.stop();
});

/** Client configuration acting in a member account (through a role the test assumes there). */
async function configIn(account: string) {
  const answer = await new STSClient(moto.clientConfig).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/test-setup`, RoleSessionName: "setup" }),
  );
  const c = answer.Credentials;
  return {
    ...moto.clientConfig,
    credentials: {
      accessKeyId: c?.AccessKeyId ?? "",
      secretAccessKey: c?.SecretAccessKey ?? "",
      sessionToken: c?.SessionToken ?? "",
    },
  };
}

/** EC2 in an account: the central one with the test credentials, a member one through STS. */
async function ec2In(account: string): Promise<EC2Client> {
  return new EC2Client(account === ACCOUNT ? moto.clientConfig : await configIn(account));
}

/** A group in the account with NFS open to the world beside a private NFS rule. */
async function openGroup(ec2: EC2Client, name: string) {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.30.0.0/16" }));
  return createNfsGroup(ec2, vpc.Vpc?.VpcId ?? "", name, ["0.0.0.0/0", "10.30.0.0/16"]);
}

/** The event as a member account's forwarding rule delivers it to the central bus. */
function inAccount(event: Record<string, unknown>, account: string): Record<string, unknown> {
  const detail = event.detail as Record<string, unknown>;
  const identity = detail.userIdentity as Record<string, unknown>;
  const human = `arn:aws:sts::${account}:assumed-role/platform-admin/alice`;
  return {
    ...event,
    account,
    detail: {
      ...detail,
      recipientAccountId: account,
      userIdentity: {
        ...identity,
        arn: human,
        accountId: account,
        sessionContext: {
          sessionIssuer: { type: "Role", arn: `arn:aws:iam::${account}:role/platform-admin` },
        },
      },
    },
  };
}

async function recordFor(event: Record<string, unknown>) {
  const eventId = (event.detail as { eventID: string }).eventID;
  return (await auditRecordsIn(moto, infra.auditTable)).filter((r) => r.eventId === eventId);
}

describe("organization mode", () => {
  it("reverts a member account's change in that account, with its member role assumed once", async () => {
    // Prepare: two open groups in the member account; the central account has neither.
    const member = await ec2In(MEMBER);
    const first = await openGroup(member, "member-a");
    const second = await openGroup(member, "member-b");
    expect(await ingressCidrs(new EC2Client(moto.clientConfig), first.groupId)).toEqual([]);
    const events = [first, second].map((g) =>
      inAccount(authorizeIngressEvent(g.groupId, 2049, g.rules), MEMBER),
    );

    // Act
    const response = await handler(sqsBatch(events), lambdaContext());

    // Assess: reverted where the change was made, the private rule kept.
    expect(response?.batchItemFailures).toEqual([]);
    expect(await ingressCidrs(member, first.groupId)).toEqual(["10.30.0.0/16"]);
    expect(await ingressCidrs(member, second.groupId)).toEqual(["10.30.0.0/16"]);
    for (const event of events) {
      const [record, ...more] = await recordFor(event);
      expect(more).toEqual([]);
      expect(record).toMatchObject({ account: MEMBER, verdict: "violation", outcome: "remediated" });
    }
    // One AssumeRole for both events (the batch is processed in parallel: they share the call in
    // flight), of the member role in the member account, the session naming the remediator and
    // the event that opened it.
    const eventIds = events.map((e) => (e.detail as { eventID: string }).eventID);
    expect(assumed).toHaveLength(1);
    expect(assumed[0]?.RoleArn).toBe(`arn:aws:iam::${MEMBER}:role/${MEMBER_ROLE}`);
    expect(eventIds.map((id) => `s3files-remediator@${id}`)).toContain(assumed[0]?.RoleSessionName);
  });

  it("loads STS on the first member event when no client is injected (as in Lambda)", async () => {
    const settings = loadSettings(process.env);
    const { pipeline } = buildRuntime(settings, createClients(settings), { sleep: async () => {} });
    const lambda = createRemediateHandler(
      pipeline,
      new Logger({ logLevel: "SILENT" }),
      new Metrics({ namespace: "test", serviceName: "test" }),
    ) as unknown as Handler;
    const member = await ec2In(MEMBER);
    const group = await openGroup(member, "member-lazy");
    const event = inAccount(authorizeIngressEvent(group.groupId, 2049, group.rules), MEMBER);

    const response = await lambda(sqsBatch([event]), lambdaContext());

    expect(response?.batchItemFailures).toEqual([]);
    expect(await ingressCidrs(member, group.groupId)).toEqual(["10.30.0.0/16"]);
    expect((await recordFor(event))[0]).toMatchObject({ account: MEMBER, outcome: "remediated" });
  });

  it("acts on a central-account change with the function's own credentials", async () => {
    const central = await ec2In(ACCOUNT);
    const group = await openGroup(central, "central");
    const event = authorizeIngressEvent(group.groupId, 2049, group.rules);

    const response = await handler(sqsBatch([event]), lambdaContext());

    expect(response?.batchItemFailures).toEqual([]);
    expect(await ingressCidrs(central, group.groupId)).toEqual(["10.30.0.0/16"]);
    expect((await recordFor(event))[0]).toMatchObject({ account: ACCOUNT, outcome: "remediated" });
    expect(assumed).toEqual([]);
  });

  it("ignores what the member role itself changed in a member account (loop guard)", async () => {
    const member = await ec2In(MEMBER);
    const group = await openGroup(member, "member-own");
    const event = inAccount(authorizeIngressEvent(group.groupId, 2049, group.rules), MEMBER);
    const detail = event.detail as Record<string, unknown>;
    detail.userIdentity = {
      type: "AssumedRole",
      arn: `arn:aws:sts::${MEMBER}:assumed-role/${MEMBER_ROLE}/s3files-remediator@e-1`,
      accountId: MEMBER,
      sessionContext: { sessionIssuer: { type: "Role", arn: `arn:aws:iam::${MEMBER}:role/${MEMBER_ROLE}` } },
    };

    await handler(sqsBatch([event]), lambdaContext());

    expect((await recordFor(event))[0]).toMatchObject({ verdict: "ignored", outcome: "no-action" });
    expect(await ingressCidrs(member, group.groupId)).toEqual(["0.0.0.0/0", "10.30.0.0/16"]);
    expect(assumed).toEqual([]);
  });

  it("a member whose role cannot be assumed: a failed record saying so, the message acknowledged", async () => {
    const event = inAccount(
      authorizeIngressEvent("sg-0aaaabbbbccccdddd", 2049, [{ cidr: "0.0.0.0/0", ruleId: "sgr-0123" }]),
      NOT_ENROLLED,
    );

    const response = await handler(sqsBatch([event]), lambdaContext());

    expect(response?.batchItemFailures).toEqual([]);
    const [record, ...more] = await recordFor(event);
    expect(more).toEqual([]);
    expect(record).toMatchObject({ account: NOT_ENROLLED, verdict: "failed", outcome: "failed" });
    expect(record?.error).toMatch(
      new RegExp(
        `cannot act in account ${NOT_ENROLLED}: sts:AssumeRole on arn:aws:iam::${NOT_ENROLLED}:role/${MEMBER_ROLE} failed \\(AccessDenied: .*\\)\\. Is the account enrolled`,
      ),
    );
    // Not retried: access denied does not get better by asking again.
    expect(assumed).toHaveLength(1);
  });

  it("a throttled AssumeRole is retried, then the message goes back to the queue, unrecorded", async () => {
    const event = inAccount(
      authorizeIngressEvent("sg-0eeeeffff00001111", 2049, [{ cidr: "0.0.0.0/0", ruleId: "sgr-0456" }]),
      THROTTLED,
    );
    const batch = sqsBatch([event]);

    const response = await handler(batch, lambdaContext());

    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[0]?.messageId }]);
    expect(await recordFor(event)).toEqual([]);
    expect(assumed.length).toBeGreaterThan(1);
  });
});

describe("organization mode: reconcile over MEMBER_ACCOUNT_IDS", () => {
  it("sweeps each listed member account with its member role; an unreachable one is reported", async () => {
    // Prepare: a public EFS policy in the member account that no event ever reported.
    const efs = new EFSClient(await configIn(MEMBER));
    const fileSystemId =
      (await efs.send(new CreateFileSystemCommand({ CreationToken: "org-reconcile" }))).FileSystemId ?? "";
    await efs.send(
      new PutFileSystemPolicyCommand({
        FileSystemId: fileSystemId,
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "OpenToAll",
              Effect: "Allow",
              Principal: { AWS: "*" },
              Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
              Resource: `arn:aws:elasticfilesystem:${moto.clientConfig.region}:${MEMBER}:file-system/${fileSystemId}`,
            },
          ],
        }),
      }),
    );
    const settings = loadSettings({ ...process.env, MEMBER_ACCOUNT_IDS: `${MEMBER}, ${NOT_ENROLLED}` });
    const { reconciler } = buildRuntime(settings, clients, { sleep: async () => {} });

    // Act
    const summary = await reconciler.sweep("run-org");

    // Assess: the member's EFS was swept to the end and its policy narrowed there.
    expect(summary.complete[`${MEMBER}/efs`]).toBe(true);
    expect(summary.complete.efs).toBe(true);
    expect(summary.errors[NOT_ENROLLED]).toMatch(/cannot act in account 444455556666: .*AccessDenied/);
    const policy = await efs.send(new DescribeFileSystemPolicyCommand({ FileSystemId: fileSystemId }));
    expect(policy.Policy).toContain(`"Principal":{"AWS":"arn:aws:iam::${MEMBER}:root"}`);
    expect(policy.Policy).not.toContain("aws:PrincipalAccount");
    const records = (await auditRecordsIn(moto, infra.auditTable)).filter((r) =>
      r.eventId.startsWith(`reconcile:run-org:${MEMBER}:efs:${fileSystemId}:`),
    );
    expect(records.find((r) => r.eventId.endsWith(":policy"))).toMatchObject({
      account: MEMBER,
      outcome: "remediated",
    });
    // One AssumeRole per listed member for the whole sweep, both of the member role.
    expect(assumed.map((a) => a.RoleArn)).toEqual([
      `arn:aws:iam::${MEMBER}:role/${MEMBER_ROLE}`,
      `arn:aws:iam::${NOT_ENROLLED}:role/${MEMBER_ROLE}`,
    ]);
  });
});
