/**
 * Deployable on a real account on the first try, and safe against forged events and its own
 * failures: one assertion per way the templates could fail there, read from the synthesized
 * templates of both modes (single account; organization: central and member).
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { CENTRAL_STACK_ID, MEMBER_STACK_ID } from "../../infra/app.ts";
import { RUNTIME_METRICS, RUNTIME_METRICS_NAMESPACE } from "../../infra/constructs/alarms.ts";
import { PROTECTION_LABELS } from "../../infra/constructs/self-protection.ts";
import { secretRegion } from "../../shared/adapters/notify-slack.ts";
import { ORG_CONTEXT, type Synthesized, synthesize, type TemplateJson } from "./synth.ts";
import { identityStatements, render, resourcesOfType } from "./template-tools.ts";

let org: Synthesized;
let single: Synthesized;
let central: TemplateJson;
let member: TemplateJson;
let all: [string, TemplateJson][];

beforeAll(() => {
  org = synthesize(ORG_CONTEXT);
  single = synthesize({});
  central = org.templates[CENTRAL_STACK_ID] as TemplateJson;
  member = org.templates[MEMBER_STACK_ID] as TemplateJson;
  // Every template of both modes, including stacks added later.
  all = [
    ...Object.entries(single.templates).map(([id, t]) => [`single ${id}`, t] as [string, TemplateJson]),
    ...Object.entries(org.templates).map(([id, t]) => [`organization ${id}`, t] as [string, TemplateJson]),
  ];
}, 180_000);

type Resource = TemplateJson["Resources"][string] & { DeletionPolicy?: string };
type PolicyStatement = {
  Effect: string;
  Principal?: unknown;
  Action?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const statementsOf = (document: unknown): PolicyStatement[] =>
  ((document as { Statement?: PolicyStatement[] } | undefined)?.Statement ?? []) as PolicyStatement[];

describe("deploy blockers", () => {
  it("reserves no concurrency by default, and bounds the burst with the queue trigger's maximum concurrency", () => {
    let mappings = 0;
    for (const [mode, template] of all) {
      for (const fn of resourcesOfType(template, "AWS::Lambda::Function")) {
        // Lambda keeps 100 executions unreserved: any reservation fails in a new account (quota 10 or 50).
        expect(fn.properties, `${mode} ${fn.id}`).not.toHaveProperty("ReservedConcurrentExecutions");
      }
      for (const mapping of resourcesOfType(template, "AWS::Lambda::EventSourceMapping")) {
        if (!JSON.stringify(mapping.properties.EventSourceArn).includes("Queue")) continue;
        mappings += 1;
        expect(mapping.properties.ScalingConfig, `${mode} ${mapping.id}`).toEqual({ MaximumConcurrency: 2 });
      }
    }
    expect(mappings).toBe(2);
  });

  it("retains nothing with a fixed name that a failed first create would leave behind", () => {
    // A name property that, when set, makes a second create of the same stack fail with "already exists".
    const NAME_PROPERTIES = ["TableName", "LogGroupName", "BucketName", "AliasName", "KeyAlias", "QueueName"];
    for (const [mode, template] of all) {
      for (const [id, resource] of Object.entries(template.Resources) as [string, Resource][]) {
        if (resource.DeletionPolicy !== "Retain") continue;
        const named = NAME_PROPERTIES.filter((p) => resource.Properties?.[p] !== undefined);
        expect(named, `${mode} ${id} (${resource.Type}) is retained even after a failed create`).toEqual([]);
      }
    }
  });

  it("keeps the evidence on update and delete (tables retained, keys, buckets and logs except on a failed create)", () => {
    const policies = Object.fromEntries(
      Object.values(central.Resources as Record<string, Resource>)
        .filter((r) =>
          ["AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Logs::LogGroup"].includes(
            r.Type,
          ),
        )
        .map((r) => [r.Type, r.DeletionPolicy]),
    );
    expect(policies).toEqual({
      "AWS::DynamoDB::Table": "Retain",
      "AWS::KMS::Key": "RetainExceptOnCreate",
      "AWS::S3::Bucket": "RetainExceptOnCreate",
      "AWS::Logs::LogGroup": "RetainExceptOnCreate",
    });
  });

  it("gives no event bus a Description (refused in the GovCloud regions)", () => {
    for (const [mode, template] of all) {
      for (const bus of resourcesOfType(template, "AWS::Events::EventBus")) {
        expect(bus.properties, `${mode} ${bus.id}`).not.toHaveProperty("Description");
      }
    }
  });
});

describe("security of the guardrail itself", () => {
  it("watches every protection rule: disabling any one of them is reported by the EventBridge watchers", () => {
    const rules = resourcesOfType(central, "AWS::Events::Rule");
    const protectionNames = rules
      .map((r) => String(r.properties.Name))
      .filter((n) => n.includes("-protect-"));
    expect(protectionNames.length).toBe(PROTECTION_LABELS.length + 1); // and protect-members
    const watchers = rules.filter((r) =>
      JSON.stringify(r.properties.EventPattern ?? {}).includes('"eventSource":["events.amazonaws.com"]'),
    );
    const ownWatchers = watchers.filter((w) => String(w.properties.Name).includes("-protect-events-"));
    expect(ownWatchers).toHaveLength(2);
    for (const watcher of ownWatchers) {
      const pattern = JSON.stringify(watcher.properties.EventPattern);
      for (const name of protectionNames)
        expect(pattern, `${watcher.properties.Name} watches ${name}`).toContain(`"${name}"`);
    }
  });

  it("has two member protection rules, each matched by the other's pattern", () => {
    const protections = resourcesOfType(member, "AWS::Events::Rule").filter((r) =>
      String(r.properties.Name).includes("-forward-protect"),
    );
    expect(protections).toHaveLength(2);
    for (const rule of protections) {
      const prefixes = JSON.stringify(rule.properties.EventPattern).match(/"prefix":"([^"]+)"/g) ?? [];
      for (const other of protections) {
        expect(
          prefixes.some((p) => String(other.properties.Name).startsWith(p.slice(10, -1))),
          `${rule.properties.Name} watches ${other.properties.Name}`,
        ).toBe(true);
      }
    }
  });

  it("keeps the alerting path off the key it guards: topic and undelivered-events queue on their own key", () => {
    const [topic] = resourcesOfType(central, "AWS::SNS::Topic");
    const alertKey = render(topic?.properties.KmsMasterKeyId);
    const intake = resourcesOfType(central, "AWS::SQS::Queue").find(
      (q) => q.properties.QueueName === "s3files-remediator-intake",
    );
    const guardedKey = render(intake?.properties.KmsMasterKeyId);
    expect(alertKey).not.toBe(guardedKey);
    for (const table of resourcesOfType(central, "AWS::DynamoDB::Table")) {
      expect(JSON.stringify(table.properties.SSESpecification)).not.toContain(alertKey.slice(1, -5));
    }
    const undelivered = resourcesOfType(central, "AWS::SQS::Queue").find((q) =>
      String(q.properties.QueueName).endsWith("-undelivered-events"),
    );
    expect(render(undelivered?.properties.KmsMasterKeyId)).toBe(alertKey);
    // The guardrail key's own changes are watched and alerted through the other key.
    const kmsWatcher = resourcesOfType(central, "AWS::Events::Rule").find((r) =>
      String(r.properties.Name).endsWith("-protect-kms"),
    );
    const watched = JSON.stringify(kmsWatcher?.properties.EventPattern);
    expect(watched).toContain(guardedKey.slice(1).split(".")[0]);
    expect(watched).toContain(alertKey.slice(1).split(".")[0]);
  });

  it("gives every EventBridge target a dead-letter queue", () => {
    let targets = 0;
    for (const [mode, template] of all) {
      for (const rule of resourcesOfType(template, "AWS::Events::Rule")) {
        for (const target of (rule.properties.Targets ?? []) as Record<string, unknown>[]) {
          targets += 1;
          expect(target.DeadLetterConfig, `${mode} ${rule.properties.Name}`).toHaveProperty("Arn");
        }
      }
    }
    expect(targets).toBeGreaterThan(20);
  });

  it("grants events.amazonaws.com on keys, topic and queues only for this account's own rules", () => {
    let grants = 0;
    for (const [mode, template] of all) {
      const documents = [
        ...resourcesOfType(template, "AWS::KMS::Key").map((r) => [r.id, r.properties.KeyPolicy] as const),
        ...resourcesOfType(template, "AWS::SNS::TopicPolicy").map(
          (r) => [r.id, r.properties.PolicyDocument] as const,
        ),
        ...resourcesOfType(template, "AWS::SQS::QueuePolicy").map(
          (r) => [r.id, r.properties.PolicyDocument] as const,
        ),
      ];
      for (const [id, document] of documents) {
        for (const statement of statementsOf(document)) {
          if (
            statement.Effect !== "Allow" ||
            !JSON.stringify(statement.Principal).includes("events.amazonaws.com")
          )
            continue;
          grants += 1;
          // The account and this guardrail's rules, or one rule's exact ARN (which names the account).
          const conditions = statement.Condition ?? {};
          const exactRule = conditions.ArnEquals?.["aws:SourceArn"] !== undefined;
          expect(JSON.stringify(conditions), `${mode} ${id}`).toContain("aws:SourceArn");
          if (!exactRule) expect(JSON.stringify(conditions), `${mode} ${id}`).toContain("aws:SourceAccount");
        }
      }
    }
    expect(grants).toBeGreaterThanOrEqual(5);
  });

  it("lets the member role be assumed from the central account, narrowed by aws:PrincipalArn, not by role principals", () => {
    const [role] = resourcesOfType(member, "AWS::IAM::Role").filter((r) =>
      r.id.startsWith("RemediationRole"),
    );
    const [trust, ...more] = statementsOf(role?.properties.AssumeRolePolicyDocument);
    expect(more).toEqual([]);
    expect(render((trust?.Principal as { AWS?: unknown } | undefined)?.AWS)).toMatch(
      /:iam::111122223333:root$/,
    );
    expect(Object.keys(trust?.Condition?.ArnEquals ?? {})).toEqual(["aws:PrincipalArn"]);
  });
});

describe("works on paper, works in production", () => {
  it("reads a Slack secret in its own region, under a customer key, by a full or a partial ARN", () => {
    const arn = ORG_CONTEXT.slackSecretArn;
    expect(secretRegion(arn)).toBe("eu-west-1");
    expect(secretRegion("arn:aws-us-gov:secretsmanager:us-gov-east-1:111122223333:secret:hook-AbCdEf")).toBe(
      "us-gov-east-1",
    );
    expect(secretRegion("team/slack-webhook")).toBeUndefined();
    const statements = identityStatements(CENTRAL_STACK_ID, central).filter((s) =>
      s.where.includes("RemediateRole"),
    );
    const read = statements.find((s) => s.actions.includes("secretsmanager:GetSecretValue"));
    expect(read?.resources.sort()).toEqual([arn, `${arn}-??????`]);
    const decrypt = statements.find((s) => s.statement.Sid === "DecryptSlackWebhookUnderACustomerKey");
    expect(decrypt?.actions).toEqual(["kms:Decrypt"]);
    expect(decrypt?.resources).toEqual(["arn:aws:kms:eu-west-1:111122223333:key/*"]);
    expect(decrypt?.statement.Condition).toEqual({
      StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" },
      StringLike: { "kms:EncryptionContext:SecretARN": [arn, `${arn}-??????`] },
    });
  });

  it("alarms on the runtime's own failure metrics, and the runtime emits each of them", () => {
    const alarms = resourcesOfType(central, "AWS::CloudWatch::Alarm").map((a) =>
      JSON.stringify(a.properties),
    );
    const runtimeSource = ["shared/runtime/observability.ts", "functions/reconcile/index.ts"]
      .map((f) => readFileSync(new URL(`../../${f}`, import.meta.url), "utf8"))
      .join("\n");
    for (const metric of Object.values(RUNTIME_METRICS)) {
      expect(
        alarms.some((a) => a.includes(`"MetricName":"${metric}"`) && a.includes(RUNTIME_METRICS_NAMESPACE)),
        metric,
      ).toBe(true);
      // `outcome_failed` is `outcome_${record.outcome}` for the outcome "failed".
      const emitted = metric.startsWith("outcome_")
        ? ["`outcome_", "{record.outcome}`"].join("$")
        : `"${metric}"`;
      expect(runtimeSource, metric).toContain(emitted);
    }
    const singleAlarms = resourcesOfType(
      single.templates[CENTRAL_STACK_ID] as TemplateJson,
      "AWS::CloudWatch::Alarm",
    );
    expect(JSON.stringify(singleAlarms)).not.toContain(RUNTIME_METRICS.memberRoleUnavailable);
  });

  it("stops a member stack instance in a region without a central stack, before it creates anything", () => {
    const rules = (member as { Rules?: Record<string, { Assertions: { Assert: unknown }[] }> }).Rules ?? {};
    const assertions = Object.values(rules).flatMap((r) => r.Assertions);
    expect(assertions).toContainEqual(
      expect.objectContaining({
        Assert: { "Fn::Contains": [["eu-west-1", "us-east-1"], { Ref: "AWS::Region" }] },
      }),
    );
  });

  it("creates the member role in one region only by default (IAM is global)", () => {
    const parameter = (member.Parameters as Record<string, { Default?: string }>).RemediationRoleRegion;
    expect(parameter?.Default).toBe("eu-west-1");
    const conditions = (member as { Conditions?: Record<string, unknown> }).Conditions ?? {};
    expect(conditions.RemediationRoleHere).toEqual({
      "Fn::Equals": [{ Ref: "RemediationRoleRegion" }, { Ref: "AWS::Region" }],
    });
  });
});
