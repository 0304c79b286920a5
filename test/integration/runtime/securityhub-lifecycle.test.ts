/**
 * A Security Hub finding over its life, through the real pipeline against moto_server (EFS, the
 * ledger and Security Hub's BatchImportFindings/GetFindings): raised by an unsafe change in notify
 * mode, then resolved in place once a person fixes the resource, whether the fix's own event is
 * judged or only the scheduled sweep sees it. moto does not speak BatchUpdateFindings (404): that
 * one call is answered in the test, which checks what was asked.
 */
import { CreateFileSystemCommand, EFSClient, PutFileSystemPolicyCommand } from "@aws-sdk/client-efs";
import {
  type AwsSecurityFinding,
  type BatchUpdateFindingsCommandInput,
  GetFindingsCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuntime, type Runtime } from "../../../shared/runtime/compose.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import { type Moto, startMoto } from "../../helpers/moto.ts";
import {
  ACCOUNT,
  createInfra,
  efsPolicyEvent,
  motoClients,
  publicEfsPolicy,
  runtimeEnv,
} from "../../helpers/runtime-env.ts";

let moto: Moto;
let efs: EFSClient;
let hub: SecurityHubClient;
let runtime: Runtime;
let region: string;
let now = new Date("2026-11-20T10:00:00.000Z");
const workflowUpdates: BatchUpdateFindingsCommandInput[] = [];

beforeAll(async () => {
  moto = await startMoto();
  const infra = await createInfra(moto);
  region = moto.clientConfig.region;
  efs = new EFSClient(moto.clientConfig);
  hub = new SecurityHubClient(moto.clientConfig);
  hub.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "BatchUpdateFindingsCommand") return next(args);
      const input = args.input as BatchUpdateFindingsCommandInput;
      workflowUpdates.push(input);
      return {
        output: { $metadata: {}, ProcessedFindings: input.FindingIdentifiers, UnprocessedFindings: [] },
        response: {},
      } as unknown as Awaited<ReturnType<typeof next>>;
    },
    { step: "initialize", name: "answerBatchUpdateFindings" },
  );
  const settings = loadSettings(
    runtimeEnv(moto, infra, { REMEDIATION_MODE: "notify", SECURITY_HUB_ENABLED: "true" }),
  );
  runtime = buildRuntime(
    settings,
    { ...motoClients(moto), securityHub: hub },
    { clock: { now: () => now }, sleep: async () => undefined },
  );
});

afterAll(async () => {
  efs?.destroy();
  hub?.destroy();
  await moto?.stop();
});

const RULE = "fs-policy-public-access";

/** A policy only the owner account may use, over TLS: what a person puts back. */
function fixedPolicy(fileSystemId: string): string {
  const resource = `arn:aws:elasticfilesystem:${region}:${ACCOUNT}:file-system/${fileSystemId}`;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "OwnerMount",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: resource,
      },
      {
        Sid: "DenyInsecure",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "*",
        Resource: resource,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

async function findingOf(fileSystemId: string, rule: string): Promise<AwsSecurityFinding[]> {
  const resource = `arn:aws:elasticfilesystem:${region}:${ACCOUNT}:file-system/${fileSystemId}`;
  const { Findings = [] } = await hub.send(new GetFindingsCommand({ MaxResults: 100 }));
  return Findings.filter((f) => f.Resources?.[0]?.Id === resource && f.GeneratorId === rule);
}

async function publicFileSystem(token: string): Promise<string> {
  const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: token }));
  const fileSystemId = fs.FileSystemId ?? "";
  const policy = publicEfsPolicy(region, fileSystemId);
  await efs.send(new PutFileSystemPolicyCommand({ FileSystemId: fileSystemId, Policy: policy }));
  now = new Date("2026-11-20T10:00:00.000Z");
  await runtime.pipeline.handle(efsPolicyEvent(fileSystemId, policy, { region }), `${token}-open`);
  return fileSystemId;
}

describe("a Security Hub finding over its life", () => {
  it("is raised once for the resource and rule, and resolved in place when the person's fix is judged", async () => {
    // Prepare: an unsafe policy in notify mode raises the finding.
    const fileSystemId = await publicFileSystem("hub-event-fix");
    const [opened, ...duplicates] = await findingOf(fileSystemId, RULE);
    expect(duplicates).toEqual([]);
    expect(opened).toMatchObject({
      Compliance: { Status: "FAILED" },
      Workflow: { Status: "NEW" },
      RecordState: "ACTIVE",
      SourceUrl: `https://console.aws.amazon.com/efs/home?region=${region}#/file-systems/${fileSystemId}`,
    });

    // Act: a person puts a safe policy; its event is judged compliant an hour later.
    const policy = fixedPolicy(fileSystemId);
    await efs.send(new PutFileSystemPolicyCommand({ FileSystemId: fileSystemId, Policy: policy }));
    now = new Date("2026-11-20T11:00:00.000Z");
    const result = await runtime.pipeline.handle(efsPolicyEvent(fileSystemId, policy, { region }), "fix");

    // Assess: the same finding, now PASSED, and its workflow moved to RESOLVED.
    expect(result.status === "decided" && result.record.verdict).toBe("compliant");
    const [closed, ...more] = await findingOf(fileSystemId, RULE);
    expect(more).toEqual([]);
    expect(closed).toMatchObject({
      Id: opened?.Id,
      CreatedAt: opened?.CreatedAt,
      Compliance: { Status: "PASSED" },
      RecordState: "ACTIVE",
      UpdatedAt: "2026-11-20T11:00:00.000Z",
      Severity: { Label: "INFORMATIONAL", Original: "critical" },
    });
    expect(workflowUpdates.filter((u) => u.FindingIdentifiers?.some((f) => f.Id === opened?.Id))).toEqual([
      expect.objectContaining({ Workflow: { Status: "RESOLVED" } }),
    ]);
  });

  it("is resolved by the scheduled sweep when the fix's own event never arrived", async () => {
    const fileSystemId = await publicFileSystem("hub-sweep-fix");
    const [opened] = await findingOf(fileSystemId, RULE);
    expect(opened?.Compliance?.Status).toBe("FAILED");
    await efs.send(
      new PutFileSystemPolicyCommand({ FileSystemId: fileSystemId, Policy: fixedPolicy(fileSystemId) }),
    );
    now = new Date("2026-11-20T12:00:00.000Z");

    await runtime.reconciler.sweep("hub-run-1");

    const [closed, ...more] = await findingOf(fileSystemId, RULE);
    expect(more).toEqual([]);
    expect(closed).toMatchObject({
      Id: opened?.Id,
      Compliance: { Status: "PASSED" },
      UpdatedAt: "2026-11-20T12:00:00.000Z",
    });
    expect(workflowUpdates.filter((u) => u.FindingIdentifiers?.some((f) => f.Id === opened?.Id))).toEqual([
      expect.objectContaining({ Workflow: { Status: "RESOLVED" } }),
    ]);
  });
});
