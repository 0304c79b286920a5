/**
 * The identity layer against moto_server (IAM over real HTTP): the live judgement of roles, users,
 * groups, managed policy versions and permissions boundaries; the enforce path (the guardrail's deny
 * policy attached, verified, recorded, with its undo); duplicate delivery; a principal fixed before
 * the event arrived; and the reconcile sweep through GetAccountAuthorizationDetails.
 */
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DetachRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { IamIdentityAdapter } from "../../../shared/adapters/iam-identity.ts";
import { DENY_ROOT_POLICY_DOCUMENT, denyPolicyName } from "../../../shared/core/iam/deny-policy.ts";
import { IAM_SOURCE } from "../../../shared/core/intake/iam.ts";
import { buildRuntime } from "../../../shared/runtime/compose.ts";
import { describeDecision, renderPlainText } from "../../../shared/runtime/notification-text.ts";
import { loadSettings } from "../../../shared/runtime/settings.ts";
import { type Moto, startMoto } from "../../helpers/moto.ts";
import {
  ACCOUNT,
  auditRecordsIn,
  cloudTrailEvent,
  createInfra,
  type Infra,
  motoClients,
  runtimeEnv,
} from "../../helpers/runtime-env.ts";

const STACK = "s3files-remediator";
const DENY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${denyPolicyName(STACK)}`;
const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const policy = (...Statement: Record<string, unknown>[]) =>
  JSON.stringify({ Version: "2012-10-17", Statement });

let moto: Moto;
let infra: Infra;
let iam: IAMClient;
let prefix = 0;

function runtime(mode: "enforce" | "notify", config: Record<string, unknown> = {}) {
  const settings = loadSettings(
    runtimeEnv(moto, infra, {
      REMEDIATION_MODE: mode,
      IAM_DENY_POLICY_NAME: denyPolicyName(STACK),
      REMEDIATOR_CONFIG: JSON.stringify({ rules: { "iam-principal-root-on-file-systems": mode }, ...config }),
    }),
  );
  const clients = { ...motoClients(moto), iam: new IAMClient({ ...moto.clientConfig, maxAttempts: 1 }) };
  return buildRuntime(settings, clients, { sleep: async () => {} });
}

function iamEvent(eventName: string, requestParameters: Record<string, unknown>, eventId?: string) {
  return cloudTrailEvent(IAM_SOURCE, eventName, requestParameters, null, {
    region: "us-east-1",
    ...(eventId ? { eventId } : {}),
  });
}

async function records(eventId: string) {
  return (await auditRecordsIn(moto, infra.auditTable)).filter((r) => r.eventId === eventId);
}

async function attachedToRole(roleName: string): Promise<string[]> {
  const answer = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  return (answer.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? "");
}

/** A unique name per test: moto keeps IAM across tests in one server. */
function unique(name: string): string {
  prefix++;
  return `${name}-${prefix}`;
}

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  // moto serves the AWS managed policies (AdministratorAccess, AmazonS3FilesClientFullAccess, …) only when asked.
  process.env.MOTO_IAM_LOAD_MANAGED_POLICIES = "true";
  moto = await startMoto();
  infra = await createInfra(moto, "identity");
  iam = new IAMClient(moto.clientConfig);
  await iam.send(
    new CreatePolicyCommand({
      PolicyName: denyPolicyName(STACK),
      PolicyDocument: JSON.stringify(DENY_ROOT_POLICY_DOCUMENT),
    }),
  );
}, 60_000);
afterAll(async () => moto?.stop());

describe("the IAM adapter against moto", () => {
  it("reads a role's managed default version, inline policy and boundary, decoded from IAM's URL encoding", async () => {
    const role = unique("reader");
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST }));
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: role,
        PolicyArn: "arn:aws:iam::aws:policy/AmazonS3FilesClientFullAccess",
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: role,
        PolicyName: "files",
        PolicyDocument: policy({ Effect: "Allow", Action: "s3files:ClientMount", Resource: "*" }),
      }),
    );
    await iam.send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: role,
        PermissionsBoundary: "arn:aws:iam::aws:policy/AmazonS3FilesClientReadWriteAccess",
      }),
    );
    const adapter = new IamIdentityAdapter(new IAMClient(moto.clientConfig), {
      maxAttempts: 1,
      baseDelayMs: 1,
    });

    const principal = await adapter.principal("role", role);

    expect(principal?.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/${role}`);
    expect(principal?.policies.map((p) => p.label)).toEqual([
      `managed policy AmazonS3FilesClientFullAccess (attached to role ${role})`,
      `inline policy files of role ${role}`,
    ]);
    for (const p of principal?.policies ?? []) expect(() => JSON.parse(p.document)).not.toThrow();
    expect(principal?.policies[0]?.document).toContain("s3files:ClientRootAccess");
    expect(principal?.boundary?.arn).toBe("arn:aws:iam::aws:policy/AmazonS3FilesClientReadWriteAccess");
    expect(await adapter.principal("role", unique("missing"))).toBeUndefined();
  });
});

describe("iam-principal-root-on-file-systems, live", () => {
  beforeEach(() => {
    // Each test makes its own principals; the ledger is shared and read by eventId.
  });

  it("notify: a role given AmazonS3FilesClientFullAccess is a violation naming the policy and its safe replacement", async () => {
    const role = unique("app");
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST }));
    const arn = "arn:aws:iam::aws:policy/AmazonS3FilesClientFullAccess";
    await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
    const { pipeline } = runtime("notify");
    const event = iamEvent("AttachRolePolicy", { roleName: role, policyArn: arn });

    const result = await pipeline.handle(event, "test");

    expect(result.status).toBe("decided");
    const record = result.status === "decided" ? result.record : undefined;
    expect(record?.verdict).toBe("violation");
    expect(record?.outcome).toBe("notified");
    expect(record?.findings[0]?.message).toContain(`role ${role}`);
    expect(record?.findings[0]?.message).toContain("AmazonS3FilesClientFullAccess");
    expect(record?.findings[0]?.message).toContain("AmazonS3FilesClientReadWriteAccess");
    expect(await attachedToRole(role)).toEqual([arn]);
  });

  it("enforce: attaches the guardrail's deny policy, verifies, records it with its undo; the customer's policy stays", async () => {
    const role = unique("app");
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST }));
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: role,
        PolicyName: "everything-files",
        PolicyDocument: policy({ Sid: "Files", Effect: "Allow", Action: "s3files:*", Resource: "*" }),
      }),
    );
    const { pipeline } = runtime("enforce");
    const eventId = `evt-${role}`;
    const event = iamEvent(
      "PutRolePolicy",
      { roleName: role, policyName: "everything-files", policyDocument: "{}" },
      eventId,
    );
    // The event's own document is ignored live; a real record carries the text that was put.
    (event.detail as Record<string, any>).requestParameters.policyDocument = policy({
      Sid: "Files",
      Effect: "Allow",
      Action: "s3files:*",
      Resource: "*",
    });

    const result = await pipeline.handle(event, "test");

    const record = result.status === "decided" ? result.record : undefined;
    expect(record?.outcome).toBe("remediated");
    expect(record?.plan).toEqual([
      expect.objectContaining({
        api: "iam:AttachRolePolicy",
        params: { RoleName: role, PolicyArn: DENY_ARN },
      }),
    ]);
    expect(record?.requestIds.length).toBe(1);
    expect(record?.findings[0]?.message).toContain('statement "Files" of inline policy everything-files');
    expect(await attachedToRole(role)).toEqual([DENY_ARN]);
    expect(JSON.stringify(record?.after)).toContain(DENY_ARN);
    const text = renderPlainText(describeDecision(record as NonNullable<typeof record>));
    expect(text).toContain(`aws iam detach-role-policy --role-name ${role} --policy-arn ${DENY_ARN}`);

    // Duplicate delivery: nothing read, done or recorded again.
    const again = await pipeline.handle(event, "test");
    expect(again.status).toBe("duplicate");
    expect(await records(eventId)).toHaveLength(1);
  });

  it("a principal fixed before the event arrived is already compliant: nothing done", async () => {
    const role = unique("fixed");
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST }));
    const arn = "arn:aws:iam::aws:policy/AmazonS3FilesClientFullAccess";
    // Attached and detached again before the remediator sees the attach.
    await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
    await iam.send(new DetachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
    const { pipeline } = runtime("enforce");

    const result = await pipeline.handle(
      iamEvent("AttachRolePolicy", { roleName: role, policyArn: arn }),
      "test",
    );

    const record = result.status === "decided" ? result.record : undefined;
    expect(record?.verdict).toBe("compliant");
    expect(record?.outcome).toBe("already-compliant");
    expect(record?.plan).toEqual([]);
    expect(await attachedToRole(role)).toEqual([]);
  });

  it("a permissions boundary without root takes it away: compliant", async () => {
    const role = unique("bounded");
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST }));
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: role,
        PolicyArn: "arn:aws:iam::aws:policy/AmazonS3FilesFullAccess",
      }),
    );
    await iam.send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: role,
        PermissionsBoundary: "arn:aws:iam::aws:policy/AmazonS3FilesClientReadWriteAccess",
      }),
    );
    const { pipeline } = runtime("enforce");

    const result = await pipeline.handle(
      iamEvent("PutRolePermissionsBoundary", {
        roleName: role,
        permissionsBoundary: "arn:aws:iam::aws:policy/AmazonS3FilesClientReadWriteAccess",
      }),
      "test",
    );

    const record = result.status === "decided" ? result.record : undefined;
    expect(record?.verdict).toBe("compliant");
    expect(record?.reason).toContain("permissions boundary");
  });

  it("group membership: a user added to a group with s3files:* gets the deny policy; the group stays as it is", async () => {
    const user = unique("bob");
    const group = unique("developers");
    await iam.send(new CreateUserCommand({ UserName: user }));
    await iam.send(new CreateGroupCommand({ GroupName: group }));
    await iam.send(
      new AttachGroupPolicyCommand({
        GroupName: group,
        PolicyArn: "arn:aws:iam::aws:policy/AmazonS3FilesFullAccess",
      }),
    );
    await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: user }));
    const { pipeline } = runtime("enforce");

    const result = await pipeline.handle(
      iamEvent("AddUserToGroup", { groupName: group, userName: user }),
      "test",
    );

    const record = result.status === "decided" ? result.record : undefined;
    expect(record?.outcome).toBe("remediated");
    expect(record?.findings[0]?.message).toContain(`(attached to group ${group})`);
    const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: user }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([DENY_ARN]);
  });

  it("a new default version of a customer policy judges every role it is attached to", async () => {
    const [first, second] = [unique("web"), unique("batch")];
    const created = await iam.send(
      new CreatePolicyCommand({
        PolicyName: unique("app-files"),
        PolicyDocument: policy({
          Effect: "Allow",
          Action: ["s3files:ClientMount", "s3files:ClientWrite"],
          Resource: "*",
        }),
      }),
    );
    const policyArn = created.Policy?.Arn ?? "";
    for (const role of [first, second]) {
      await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST }));
      await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: policyArn }));
    }
    const document = policy({ Effect: "Allow", Action: "s3files:Client*", Resource: "*" });
    await iam.send(
      new CreatePolicyVersionCommand({ PolicyArn: policyArn, PolicyDocument: document, SetAsDefault: true }),
    );
    const { pipeline } = runtime("notify");

    const result = await pipeline.handle(
      iamEvent("CreatePolicyVersion", { policyArn, policyDocument: document, setAsDefault: true }),
      "test",
    );

    const record = result.status === "decided" ? result.record : undefined;
    expect(record?.verdict).toBe("violation");
    expect(record?.findings.map((f) => f.message.split(" (")[0]).sort()).toEqual(
      [`role ${first}`, `role ${second}`].sort(),
    );
  });
});

describe("the reconcile sweep of the identity layer", () => {
  it("judges every role and user page by page, records the ones with root, and reaches the end of the listing", async () => {
    const role = unique("swept");
    await iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: TRUST }));
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: role,
        PolicyArn: "arn:aws:iam::aws:policy/AmazonElasticFileSystemClientFullAccess",
      }),
    );
    const { reconciler } = runtime("notify");

    const summary = await reconciler.sweep(`run-${role}`);

    expect(summary.complete.iam).toBe(true);
    // moto does not speak S3 Files: that service's sweep fails on its own and the others go on.
    expect(summary.errors.iam).toBeUndefined();
    const swept = (await auditRecordsIn(moto, infra.auditTable)).filter((r) =>
      r.eventId.startsWith(`reconcile:run-${role}:`),
    );
    const mine = swept.find((r) => r.resource?.endsWith(`role/${role}`));
    expect(mine?.verdict).toBe("violation");
    expect(mine?.findings[0]?.message).toContain("AmazonElasticFileSystemClientReadWriteAccess");
    // Roles that were already given the deny policy (or never had root) are not recorded.
    expect(swept.every((r) => r.verdict !== "compliant")).toBe(true);
  });
});
