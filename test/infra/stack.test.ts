/**
 * What the central stack and the member template deploy, read from the synthesized templates.
 * One synthesis per mode is shared by every assertion in this file.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp, CENTRAL_STACK_ID, MEMBER_STACK_ID } from "../../infra/app.ts";
import { MissingBundleError } from "../../infra/bundles.ts";
import { CLOUDTRAIL_DETAIL_TYPE } from "../../infra/constructs/event-routing.ts";
import { PROTECTED_CHANGES } from "../../infra/constructs/self-protection.ts";
import { parseSettings, type SettingKey, SettingsError } from "../../infra/settings.ts";
import { IAM_SOURCE } from "../../shared/core/intake/iam.ts";
import { JUDGED_EVENTS } from "../../shared/core/intake/intake.ts";
import { loadSettings } from "../../shared/runtime/settings.ts";
import { ORG_CONTEXT, type Synthesized, synthesize, type TemplateJson } from "./synth.ts";
import { logicalIdOf, render, resourcesOfType } from "./template-tools.ts";

let org: Synthesized;
let single: Synthesized;
let central: TemplateJson;
let member: TemplateJson;
let singleTemplate: TemplateJson;

beforeAll(() => {
  org = synthesize(ORG_CONTEXT);
  single = synthesize({});
  central = org.templates[CENTRAL_STACK_ID] as TemplateJson;
  member = org.templates[MEMBER_STACK_ID] as TemplateJson;
  singleTemplate = single.templates[CENTRAL_STACK_ID] as TemplateJson;
}, 120_000);

const queueId = () =>
  logicalIdOf(central, "AWS::SQS::Queue", (p) => p.QueueName === "s3files-remediator-intake");
const dlqId = () =>
  logicalIdOf(central, "AWS::SQS::Queue", (p) => p.QueueName === "s3files-remediator-intake-dlq");
const topicId = () => logicalIdOf(central, "AWS::SNS::Topic", () => true);
const keyId = () =>
  logicalIdOf(central, "AWS::KMS::Key", (p) => String(p.Description).includes("intake queues, tables"));
const alertKeyId = () =>
  logicalIdOf(central, "AWS::KMS::Key", (p) => String(p.Description).includes("alert topic"));
const functionId = (name: string) =>
  logicalIdOf(central, "AWS::Lambda::Function", (p) => p.FunctionName === `s3files-remediator-${name}`);

interface RulePattern {
  "detail-type"?: string[];
  detail?: { eventSource?: string[]; eventName?: unknown[]; requestParameters?: unknown; $or?: unknown };
}

function rulesOn(template: TemplateJson, bus: "default" | "custom") {
  return resourcesOfType(template, "AWS::Events::Rule")
    .filter((r) => (bus === "default" ? r.properties.EventBusName === undefined : r.properties.EventBusName))
    .map((r) => ({
      id: r.id,
      pattern: r.properties.EventPattern as RulePattern | undefined,
      targets: (r.properties.Targets as { Arn: unknown; RoleArn?: unknown }[]) ?? [],
    }));
}

/** The rules that route an (eventSource, eventName) into the given target. */
function routesOf(template: TemplateJson, bus: "default" | "custom", source: string, name: string) {
  return rulesOn(template, bus).filter(
    (r) =>
      r.pattern?.["detail-type"]?.includes(CLOUDTRAIL_DETAIL_TYPE) &&
      r.pattern.detail?.eventSource?.includes(source) &&
      r.pattern.detail.eventName?.includes(name) &&
      // A route takes every such call; a self-protection alert matches only the guardrail's own resources.
      r.pattern.detail.requestParameters === undefined &&
      r.pattern.detail.$or === undefined,
  );
}

describe("event routing", () => {
  const judged = Object.entries(JUDGED_EVENTS).flatMap(([source, names]) =>
    names.map((name) => [source, name] as const),
  );

  it("routes the engine's judged events (there are some to route)", () => {
    expect(judged.length).toBeGreaterThan(10);
  });

  it.each(judged)("routes %s %s from the default bus into the intake queue", (source, name) => {
    const routes = routesOf(central, "default", source, name);
    expect(routes).toHaveLength(1);
    expect(routes[0]?.targets.map((t) => render(t.Arn))).toEqual([`<${queueId()}.Arn>`]);
  });

  // IAM events arrive only in the IAM event region; members forward them to the identity layer's own
  // bus (see identity-layer.test.ts), not through the regional forwarding rules.
  const regional = judged.filter(([source]) => source !== IAM_SOURCE);

  it.each(regional)("routes %s %s forwarded by member accounts into the same queue", (source, name) => {
    const routes = routesOf(central, "custom", source, name);
    expect(routes).toHaveLength(1);
    expect(routes[0]?.targets.map((t) => render(t.Arn))).toEqual([`<${queueId()}.Arn>`]);
  });

  it.each(regional)("forwards %s %s from a member account to the central bus", (source, name) => {
    const routes = routesOf(member, "default", source, name);
    expect(routes).toHaveLength(1);
    expect(render(routes[0]?.targets[0]?.Arn)).toBe(
      "arn:<Ref:AWS::Partition>:events:<Ref:AWS::Region>:111122223333:event-bus/s3files-remediator-intake",
    );
    expect(routes[0]?.targets[0]?.RoleArn).toBeDefined();
  });

  it("matches on detail-type, detail.eventSource and an AWS source (aws.*), which nobody else can put", () => {
    const rules = [
      ...rulesOn(central, "default"),
      ...rulesOn(central, "custom"),
      ...rulesOn(member, "default"),
    ];
    const cloudTrail = rules.filter((rule) => rule.pattern?.detail?.eventSource);
    expect(cloudTrail.length).toBeGreaterThan(10);
    for (const rule of cloudTrail) {
      expect(rule.pattern, rule.id).toHaveProperty("source", [{ prefix: "aws." }]);
      expect(rule.pattern?.["detail-type"]).toEqual([CLOUDTRAIL_DETAIL_TYPE]);
    }
  });

  it("lets queue messages in only from the remediator's own rules", () => {
    const policy = resourcesOfType(central, "AWS::SQS::QueuePolicy")
      .map((p) => p.properties.PolicyDocument as { Statement: Record<string, unknown>[] })
      .flatMap((d) => d.Statement)
      .filter((s) => s.Effect === "Allow");
    expect(policy.length).toBeGreaterThan(0);
    for (const statement of policy) {
      expect(statement.Principal).toEqual({ Service: "events.amazonaws.com" });
      // Same account and the guardrail's own rules only.
      expect(JSON.stringify(statement.Condition)).toMatch(/aws:SourceAccount/);
      expect(JSON.stringify(statement.Condition)).toMatch(/aws:SourceArn/);
    }
  });
});

describe("intake queue and remediate function", () => {
  it("encrypts the queue and its dead-letter queue with the stack key, TLS only", () => {
    const t = Template.fromJSON(central);
    for (const id of [queueId(), dlqId()]) {
      expect(central.Resources[id]?.Properties?.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [keyId(), "Arn"] });
    }
    t.hasResourceProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  it("sends a message to the dead-letter queue after a bounded number of receives", () => {
    const redrive = central.Resources[queueId()]?.Properties?.RedrivePolicy as Record<string, unknown>;
    expect(redrive.deadLetterTargetArn).toEqual({ "Fn::GetAtt": [dlqId(), "Arn"] });
    expect(redrive.maxReceiveCount).toBe(5);
    // Visibility timeout six times the function timeout, as Lambda recommends for SQS sources.
    expect(central.Resources[queueId()]?.Properties?.VisibilityTimeout).toBe(360);
  });

  it("consumes the queue in batches and reports partial batch failures", () => {
    Template.fromJSON(central).hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [queueId(), "Arn"] },
      FunctionName: { Ref: functionId("remediate") },
      BatchSize: 10,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it("reserves no concurrency unless asked: remediate as configured, reconcile one sweep at a time", () => {
    expect(central.Resources[functionId("remediate")]?.Properties).not.toHaveProperty(
      "ReservedConcurrentExecutions",
    );
    expect(central.Resources[functionId("reconcile")]?.Properties).not.toHaveProperty(
      "ReservedConcurrentExecutions",
    );
    const reserved = synthesize({ reserveConcurrency: true, remediateConcurrency: 4 }).templates[
      CENTRAL_STACK_ID
    ] as TemplateJson;
    const fn = (name: string) =>
      resourcesOfType(reserved, "AWS::Lambda::Function").find(
        (r) => r.properties.FunctionName === `s3files-remediator-${name}`,
      )?.properties;
    expect(fn("remediate")?.ReservedConcurrentExecutions).toBe(4);
    expect(fn("reconcile")?.ReservedConcurrentExecutions).toBe(1);
    Template.fromJSON(reserved).hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  }, 60_000);

  it("deploys the built bundles on nodejs22.x with handler index.handler", () => {
    for (const name of ["remediate", "reconcile"]) {
      const p = central.Resources[functionId(name)]?.Properties ?? {};
      expect(p.Runtime).toBe("nodejs22.x");
      expect(p.Handler).toBe("index.handler");
      expect(p.Code).toHaveProperty("S3Key");
    }
  });

  it("gives each function a log group with retention", () => {
    for (const name of ["remediate", "reconcile"]) {
      const logging = central.Resources[functionId(name)]?.Properties?.LoggingConfig as Record<
        string,
        unknown
      >;
      const groupId = (logging.LogGroup as { Ref: string }).Ref;
      expect(central.Resources[groupId]?.Type).toBe("AWS::Logs::LogGroup");
      expect(central.Resources[groupId]?.Properties?.RetentionInDays).toBe(365);
    }
  });

  it("passes the runtime's settings contract to both functions", () => {
    for (const name of ["remediate", "reconcile"]) {
      const fn = central.Resources[functionId(name)];
      const env =
        (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
      for (const key of [
        "AUDIT_TABLE_NAME",
        "STATE_TABLE_NAME",
        "NOTIFY_TOPIC_ARN",
        "EVENT_BUS_NAME",
        "REMEDIATION_MODE",
        "SELF_ROLE_ARNS",
        "REMEDIATOR_CONFIG",
      ]) {
        expect(env, key).toHaveProperty(key);
      }
      expect(env.REMEDIATION_MODE).toBe("notify");
      expect(JSON.parse(env.REMEDIATOR_CONFIG as string)).toEqual({
        adminPrincipals: ["arn:aws:iam::111122223333:role/StorageAdmin"],
      });
      // The loop guard knows the member role in every account.
      expect(render(env.SELF_ROLE_ARNS)).toContain(":iam::*:role/s3files-remediator-member");
      expect(env.MEMBER_ROLE_NAME).toBe("s3files-remediator-member");
      expect(env.SECURITY_HUB_ENABLED).toBe("true");
      expect(env.SLACK_WEBHOOK_SECRET_ARN).toBe(ORG_CONTEXT.slackSecretArn);
      // Only the sweep needs the list of member accounts; events name their own account.
      expect(env.MEMBER_ACCOUNT_IDS).toBe(name === "reconcile" ? "222233334444,333344445555" : undefined);
    }
  });

  it("passes settings the runtime itself accepts at cold start", () => {
    // Resolve the template's references the way CloudFormation would in eu-west-1 / 111122223333.
    const resolve = (value: unknown): string => {
      if (typeof value === "string") return value;
      const o = value as Record<string, unknown>;
      if ("Fn::Join" in o) {
        const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
        return parts.map(resolve).join(sep);
      }
      if ("Fn::GetAtt" in o) {
        const [id, attribute] = o["Fn::GetAtt"] as [string, string];
        if (central.Resources[id]?.Type === "AWS::KMS::Key" && attribute === "Arn") {
          return "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        }
      }
      const ref = o.Ref as string;
      const pseudo: Record<string, string> = {
        "AWS::Partition": "aws",
        "AWS::Region": "eu-west-1",
        "AWS::AccountId": "111122223333",
      };
      if (pseudo[ref]) return pseudo[ref];
      const resource = central.Resources[ref];
      const p = resource?.Properties ?? {};
      // An unnamed table gets a generated name: stack, logical id and a suffix.
      if (resource?.Type === "AWS::DynamoDB::Table") return `S3FilesRemediator-${ref}-1A2B3C4D5E6F`;
      if (resource?.Type === "AWS::Events::EventBus") return p.Name as string;
      if (resource?.Type === "AWS::SNS::Topic") return `arn:aws:sns:eu-west-1:111122223333:${p.TopicName}`;
      // An unnamed bucket gets a generated name: stack, logical id and a suffix, lower case.
      if (resource?.Type === "AWS::S3::Bucket") return `s3filesremediator-${ref.toLowerCase()}-1a2b3c4d5e6f`;
      throw new Error(`cannot resolve ${JSON.stringify(value)}`);
    };
    for (const name of ["remediate", "reconcile"]) {
      const variables =
        (
          central.Resources[functionId(name)]?.Properties?.Environment as {
            Variables: Record<string, unknown>;
          }
        )?.Variables ?? {};
      const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v)]));
      const settings = loadSettings(env);
      expect(settings.mode).toBe("notify");
      expect(settings.slackWebhookSecretArn).toBe(ORG_CONTEXT.slackSecretArn);
      expect(settings.securityHubEnabled).toBe(true);
      expect(settings.selfRoleArns).toContain(
        "arn:aws:iam::111122223333:role/s3files-remediator-remediate-eu-west-1",
      );
      expect(settings.config.adminPrincipals).toEqual(ORG_CONTEXT.adminPrincipals);
      expect(settings.auditArchiveBucket).toMatch(/^s3filesremediator-auditstorearchivebucket/);
      expect(settings.auditArchiveKmsKeyArn).toMatch(/^arn:aws:kms:eu-west-1:111122223333:key\//);
    }
  });

  it("runs reconcile on a schedule", () => {
    Template.fromJSON(central).hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 hour)",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId("reconcile"), "Arn"] } })],
    });
  });
});

describe("alarms", () => {
  const alarms = () =>
    resourcesOfType(central, "AWS::CloudWatch::Alarm").map((a) => ({
      metric: a.properties.MetricName,
      namespace: a.properties.Namespace,
      dimensions: ((a.properties.Dimensions as { Value: unknown }[] | undefined) ?? [])
        .map((d) => render(d.Value))
        .join(","),
      threshold: a.properties.Threshold,
      actions: render(a.properties.AlarmActions),
    }));

  it.each([
    [
      "dead-letter queue not empty",
      "ApproximateNumberOfMessagesVisible",
      "AWS/SQS",
      () => `<${dlqId()}.QueueName>`,
    ],
    ["remediate errors", "Errors", "AWS/Lambda", () => `<Ref:${functionId("remediate")}>`],
    ["remediate throttles", "Throttles", "AWS/Lambda", () => `<Ref:${functionId("remediate")}>`],
    ["reconcile failures", "Errors", "AWS/Lambda", () => `<Ref:${functionId("reconcile")}>`],
  ])("alarms on %s, to the alert topic", (_label, metric, namespace, dimension) => {
    const found = alarms().filter(
      (a) => a.metric === metric && a.namespace === namespace && a.dimensions.includes(dimension()),
    );
    expect(found).toHaveLength(1);
    expect(found[0]?.threshold).toBe(1);
    expect(found[0]?.actions).toBe(`<Ref:${topicId()}>`);
  });

  it("alarms when an audit record misses the archive, from either function", () => {
    const archive = resourcesOfType(central, "AWS::CloudWatch::Alarm").filter((a) =>
      String(a.properties.AlarmName ?? "").endsWith("audit-archive-failures"),
    );
    expect(archive).toHaveLength(1);
    const metrics = JSON.stringify(archive[0]?.properties.Metrics);
    for (const service of ["remediate", "reconcile"]) {
      expect(metrics).toContain(`"Value":"${service}"`);
    }
    expect(metrics).toContain('"MetricName":"audit_archive_failed"');
    expect(metrics).toContain('"Namespace":"S3FilesRemediator"');
    expect(render(archive[0]?.properties.AlarmActions)).toBe(`<Ref:${topicId()}>`);
  });

  it("alarms when EventBridge fails to deliver to the queue, for every routing rule", () => {
    const routingRules = resourcesOfType(central, "AWS::Events::Rule")
      .map((r) => r.properties.Name as string)
      .filter((name) => name.includes("-intake-"));
    // One per judged event family on the default bus, and on the bus member accounts forward to
    // every family but IAM (IAM events are forwarded to a bus of their own).
    expect(routingRules).toHaveLength(Object.keys(JUDGED_EVENTS).length * 2 - 1);
    const failed = alarms().filter((a) => a.metric === "FailedInvocations");
    for (const rule of routingRules) {
      const alarm = failed.find((a) => a.dimensions.split(",").includes(rule));
      expect(alarm, rule).toBeDefined();
      expect(alarm?.actions).toBe(`<Ref:${topicId()}>`);
    }
  });

  it("lets CloudWatch publish to the encrypted topic", () => {
    const keyPolicy = central.Resources[alertKeyId()]?.Properties?.KeyPolicy as {
      Statement: Record<string, unknown>[];
    };
    expect(
      keyPolicy.Statement.some((s) => JSON.stringify(s.Principal).includes("cloudwatch.amazonaws.com")),
    ).toBe(true);
  });
});

describe("encryption at rest", () => {
  it("rotates the stack's customer-managed keys", () => {
    expect(central.Resources[keyId()]?.Properties?.EnableKeyRotation).toBe(true);
    expect(central.Resources[alertKeyId()]?.Properties?.EnableKeyRotation).toBe(true);
  });

  it("encrypts the topic with the alerting key, TLS only", () => {
    const topic = central.Resources[topicId()]?.Properties ?? {};
    expect(topic.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [alertKeyId(), "Arn"] });
    Template.fromJSON(central).hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("encrypts both tables with the stack key", () => {
    for (const table of resourcesOfType(central, "AWS::DynamoDB::Table")) {
      expect(table.properties.SSESpecification).toEqual({
        SSEEnabled: true,
        SSEType: "KMS",
        KMSMasterKeyId: { "Fn::GetAtt": [keyId(), "Arn"] },
      });
    }
  });

  it("encrypts every bucket (the archive with the stack key)", () => {
    const buckets = resourcesOfType(central, "AWS::S3::Bucket");
    expect(buckets).toHaveLength(2);
    for (const bucket of buckets) expect(bucket.properties.BucketEncryption).toBeDefined();
  });
});

describe("audit tables", () => {
  it.each(["AuditStoreAuditTable", "AuditStoreStateTable"])(
    "%s: pk/sk, point-in-time recovery, deletion protection, retained",
    (name) => {
      const [found] = resourcesOfType(central, "AWS::DynamoDB::Table").filter((t) => t.id.startsWith(name));
      if (!found) throw new Error(`no table ${name}`);
      const p = found.properties;
      expect(p.KeySchema).toEqual([
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ]);
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(p.DeletionProtectionEnabled).toBe(true);
      expect((central.Resources[found.id] as { DeletionPolicy?: string }).DeletionPolicy).toBe("Retain");
    },
  );
});

describe("audit archive bucket", () => {
  const archive = () => {
    const found = resourcesOfType(central, "AWS::S3::Bucket").filter((b) => b.properties.ObjectLockEnabled);
    expect(found).toHaveLength(1);
    return found[0] as { id: string; properties: Record<string, unknown> };
  };

  it("has Object Lock with a default retention of at least one year, and versioning", () => {
    const p = archive().properties;
    const rule = (p.ObjectLockConfiguration as { Rule: { DefaultRetention: { Days: number; Mode: string } } })
      .Rule;
    expect(rule.DefaultRetention.Days).toBeGreaterThanOrEqual(365);
    expect(rule.DefaultRetention.Mode).toBe("GOVERNANCE");
    expect(p.VersioningConfiguration).toEqual({ Status: "Enabled" });
  });

  it("blocks every form of public access", () => {
    expect(archive().properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it("refuses requests without TLS (and below TLS 1.2)", () => {
    const policy = resourcesOfType(central, "AWS::S3::BucketPolicy").find(
      (p) => render(p.properties.Bucket) === `<Ref:${archive().id}>`,
    );
    const document = policy?.properties.PolicyDocument as
      | { Statement: Record<string, unknown>[] }
      | undefined;
    const statements = document?.Statement ?? [];
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
    expect(JSON.stringify(statements)).toContain("s3:TlsVersion");
  });

  it("is encrypted with the stack key and logs its access", () => {
    const p = archive().properties;
    expect(JSON.stringify(p.BucketEncryption)).toContain(keyId());
    expect(p.LoggingConfiguration).toBeDefined();
  });
});

describe("self-protection", () => {
  const protections = () =>
    rulesOn(central, "default").filter((r) => r.targets.some((t) => render(t.Arn) === `<Ref:${topicId()}>`));

  it.each([
    ["events.amazonaws.com", "DisableRule"],
    ["events.amazonaws.com", "DeleteRule"],
    ["events.amazonaws.com", "RemoveTargets"],
    ["events.amazonaws.com", "PutRule"],
    ["lambda.amazonaws.com", "DeleteFunction"],
    ["lambda.amazonaws.com", "PutFunctionConcurrency"],
    ["lambda.amazonaws.com", "DeleteEventSourceMapping"],
    ["lambda.amazonaws.com", "UpdateFunctionConfiguration"],
    ["sqs.amazonaws.com", "DeleteQueue"],
    ["sqs.amazonaws.com", "PurgeQueue"],
    ["dynamodb.amazonaws.com", "DeleteTable"],
    ["dynamodb.amazonaws.com", "UpdateContinuousBackups"],
    ["kms.amazonaws.com", "ScheduleKeyDeletion"],
    ["s3.amazonaws.com", "PutBucketPolicy"],
  ])("alerts at once on %s %s", (source, name) => {
    const matching = protections().filter(
      (r) =>
        r.pattern?.detail?.eventSource?.includes(source) &&
        r.pattern.detail.eventName?.some((n) =>
          typeof n === "string" ? n === name : (n as { prefix?: string }).prefix === name,
        ),
    );
    expect(matching.length).toBeGreaterThanOrEqual(1);
  });

  it("watches the remediator's own resources, not every resource of the account", () => {
    const byLabel = (label: string) =>
      JSON.stringify(protections().find((r) => r.pattern?.detail?.eventSource?.includes(label))?.pattern);
    expect(byLabel("events.amazonaws.com")).toContain("s3files-remediator-intake-ec2");
    expect(byLabel("events.amazonaws.com")).toContain("s3files-remediator-reconcile-schedule");
    expect(byLabel("lambda.amazonaws.com")).toContain(functionId("remediate"));
    expect(byLabel("lambda.amazonaws.com")).toContain(functionId("reconcile"));
    expect(byLabel("sqs.amazonaws.com")).toContain(queueId());
    expect(byLabel("sqs.amazonaws.com")).toContain(dlqId());
    expect(byLabel("dynamodb.amazonaws.com")).toContain("AuditStoreAuditTable");
    expect(byLabel("kms.amazonaws.com")).toContain(keyId());
    expect(byLabel("events.amazonaws.com")).not.toContain("DO-NOT-DELETE");
  });

  it("watches every protected change it declares", () => {
    const covered = new Set(
      protections().flatMap((r) =>
        (r.pattern?.detail?.eventName ?? []).map(
          (n) =>
            `${r.pattern?.detail?.eventSource?.[0]} ${typeof n === "string" ? n : (n as { prefix: string }).prefix}`,
        ),
      ),
    );
    for (const [source, names] of Object.entries(PROTECTED_CHANGES)) {
      for (const name of names) expect(covered, `${source} ${name}`).toContain(`${source} ${name}`);
    }
  });

  it("has two EventBridge watchers that watch each other", () => {
    const watchers = protections().filter((r) =>
      r.pattern?.detail?.eventSource?.includes("events.amazonaws.com"),
    );
    expect(watchers).toHaveLength(2);
    for (const w of watchers) {
      const text = JSON.stringify(w.pattern);
      expect(text).toContain("s3files-remediator-protect-events-a");
      expect(text).toContain("s3files-remediator-protect-events-b");
    }
  });
});

describe("organization mode", () => {
  it("accepts events on the intake bus from the organization only", () => {
    // The identity layer's bus has its own policy (identity-layer.test.ts).
    const policies = resourcesOfType(central, "AWS::Events::EventBusPolicy").filter(
      (p) => !String(p.properties.StatementId).includes("IamForwarding"),
    );
    expect(policies).toHaveLength(1);
    const statement = policies[0]?.properties.Statement as Record<string, unknown>;
    expect(statement.Action).toBe("events:PutEvents");
    expect(statement.Condition).toEqual({ StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } });
  });

  it("has a member remediation role only the central function roles can assume, from the organization", () => {
    const role = resourcesOfType(member, "AWS::IAM::Role").find(
      (r) => r.properties.RoleName === "s3files-remediator-member",
    );
    expect(role?.condition).toBe("RemediationRoleHere");
    const document = role?.properties.AssumeRolePolicyDocument as
      | { Statement: Record<string, unknown>[] }
      | undefined;
    const trust = document?.Statement ?? [];
    expect(trust).toHaveLength(1);
    const [statement] = trust as [
      { Principal: { AWS: unknown }; Action: string; Condition: Record<string, Record<string, unknown>> },
    ];
    // The central account, narrowed to its remediator roles by aws:PrincipalArn (not the roles as
    // principals: IAM would refuse a trust naming a role that does not exist yet).
    expect(render(statement.Principal.AWS)).toBe("arn:<Ref:AWS::Partition>:iam::111122223333:root");
    expect(statement.Action).toBe("sts:AssumeRole");
    expect(
      ((statement.Condition.ArnEquals?.["aws:PrincipalArn"] ?? []) as unknown[]).map(render).sort(),
    ).toEqual([
      "arn:<Ref:AWS::Partition>:iam::111122223333:role/s3files-remediator-reconcile-eu-west-1",
      "arn:<Ref:AWS::Partition>:iam::111122223333:role/s3files-remediator-reconcile-us-east-1",
      "arn:<Ref:AWS::Partition>:iam::111122223333:role/s3files-remediator-remediate-eu-west-1",
      "arn:<Ref:AWS::Partition>:iam::111122223333:role/s3files-remediator-remediate-us-east-1",
    ]);
    expect(statement.Condition.StringEquals).toEqual({ "aws:PrincipalOrgID": "o-a1b2c3d4e5" });
  });

  it("names the central remediate role as the member template expects", () => {
    const roleId = logicalIdOf(central, "AWS::IAM::Role", (p) => render(p.RoleName).includes("-remediate-"));
    expect(render(central.Resources[roleId]?.Properties?.RoleName)).toBe(
      "s3files-remediator-remediate-<Ref:AWS::Region>",
    );
  });

  it("is a plain template for StackSets: no bootstrap parameter, no assets", () => {
    expect(Object.keys(member.Parameters ?? {})).toEqual(["RemediationRoleRegion"]);
    expect(resourcesOfType(member, "AWS::Lambda::Function")).toHaveLength(0);
    const manifest = org.artifacts.find((a) => a.stackName === MEMBER_STACK_ID);
    expect(manifest?.assets ?? []).toHaveLength(0);
  });
});

describe("member self-protection", () => {
  it("forwards changes to the member's forwarding rules (and to itself) to the central bus", () => {
    const protect = rulesOn(member, "default").filter((r) => r.id.startsWith("ForwardingProtection"));
    // Two, each watching the other: the rule being disabled cannot report itself.
    expect(protect).toHaveLength(2);
    for (const rule of protect) {
      const text = JSON.stringify(rule.pattern);
      for (const name of ["DisableRule", "DeleteRule", "RemoveTargets"]) expect(text).toContain(name);
      expect(text).toContain('{"prefix":"s3files-remediator-forward"}');
      expect(render(rule.targets[0]?.Arn)).toContain("event-bus/s3files-remediator-intake");
    }
    const names = resourcesOfType(member, "AWS::Events::Rule")
      .filter((r) => r.id.startsWith("ForwardingProtection"))
      .map((r) => String(r.properties.Name));
    expect(names.sort()).toEqual([
      "s3files-remediator-forward-protect-a",
      "s3files-remediator-forward-protect-b",
    ]);
    for (const name of names) expect(name.startsWith("s3files-remediator-forward")).toBe(true);
  });

  it("alerts centrally, at once, when a member account changes its forwarding", () => {
    const alert = rulesOn(central, "custom").filter((r) =>
      JSON.stringify(r.pattern).includes("s3files-remediator-forward"),
    );
    expect(alert).toHaveLength(1);
    expect(alert[0]?.targets.map((t) => render(t.Arn))).toEqual([`<Ref:${topicId()}>`]);
  });
});

describe("single-account mode", () => {
  it("has no intake bus, no member role to assume and no member template", () => {
    expect(single.member).toBeUndefined();
    expect(
      resourcesOfType(singleTemplate, "AWS::Events::EventBusPolicy").filter(
        (p) => !String(p.properties.StatementId).includes("IamForwarding"),
      ),
    ).toHaveLength(0);
    expect(JSON.stringify(singleTemplate)).not.toContain("aws:ResourceOrgID");
    expect(JSON.stringify(singleTemplate)).not.toContain("MEMBER_ROLE_NAME");
  });

  it("still routes every judged event", () => {
    for (const [source, names] of Object.entries(JUDGED_EVENTS)) {
      for (const name of names)
        expect(routesOf(singleTemplate, "default", source, name), name).toHaveLength(1);
    }
  });
});

describe("settings (CDK context) are validated at synth time", () => {
  const settings = (values: Record<string, unknown>) => () =>
    parseSettings((key: SettingKey) => values[key] as unknown);

  it.each([
    [{ mode: "yolo" }, /mode: Invalid option/],
    [{ archiveRetentionDays: 30 }, /archiveRetentionDays: must be at least 365 days/],
    [{ logRetentionDays: 17 }, /logRetentionDays: must be one of/],
    [{ sensitivePorts: [70000] }, /sensitivePorts\.0/],
    [{ rules: { "no-such-rule": "enforce" } }, /unknown rule id \(rules\.no-such-rule\)/],
    [{ organizationId: "my-org" }, /organizationId: must be an organization id/],
    [{ centralAccount: "111122223333" }, /centralAccount: only meaningful with organizationId/],
    [
      { reconcileMemberAccounts: ["222233334444"] },
      /reconcileMemberAccounts: only meaningful with organizationId/,
    ],
    [
      { organizationId: "o-a1b2c3d4e5", reconcileMemberAccounts: ["2222"] },
      /reconcileMemberAccounts.*12-digit account id/,
    ],
    [{ notificationEmail: "not-an-address" }, /notificationEmail: must be an e-mail address/],
    [{ slackSecretArn: "https://hooks.slack.com/x" }, /slackSecretArn: must be a Secrets Manager secret ARN/],
    [{ sensitivePorts: "[2049," }, /sensitivePorts: .* is not valid JSON/],
    [{ remediateConcurrency: 1 }, /remediateConcurrency: Too small/],
    [
      { reconcileEveryMinutes: 5 },
      /reconcileEveryMinutes: 5 is shorter than a sweep may run.*sweeps would overlap/,
    ],
  ])("rejects %j with a message naming the key", (values, message) => {
    expect(settings(values)).toThrowError(SettingsError);
    expect(settings(values)).toThrowError(message);
  });

  it("lets sweeps run more often than their timeout only when one sweep at a time is reserved", () => {
    expect(settings({ reconcileEveryMinutes: 5, reserveConcurrency: true })().reconcileEveryMinutes).toBe(5);
    expect(settings({ reconcileEveryMinutes: 15 })().reserveConcurrency).toBe(false);
  });

  it("reads -c values given as strings", () => {
    const s = parseSettings(
      (key: SettingKey) =>
        ({
          sensitivePorts: "[2049, 22]",
          securityHub: "true",
          archiveRetentionDays: "400",
          centralAccount: "011122223333",
          organizationId: "o-a1b2c3d4e5",
        })[key as string],
    );
    expect(JSON.parse(s.configDocument)).toEqual({ sensitivePorts: [2049, 22] });
    expect(s.securityHub).toBe(true);
    expect(s.archiveRetentionDays).toBe(400);
    expect(s.organization?.centralAccount).toBe("011122223333");
  });
});

describe("function bundles", () => {
  it("fails the synth with the fix when a bundle is missing", () => {
    const empty = mkdtempSync(join(tmpdir(), "no-bundles-"));
    expect(() => buildApp({ context: {}, functionsDir: empty })).toThrowError(MissingBundleError);
    expect(() => buildApp({ context: {}, functionsDir: empty })).toThrowError(/run `npm run build` first/);
  });
});
