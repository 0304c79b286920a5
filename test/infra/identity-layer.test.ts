/**
 * The identity layer's infrastructure: the IAM forwarding stack in the IAM event region (single account
 * and organization member), the bus it writes to and that bus's policy, the deny policy, and the IAM
 * grants of the roles (least privilege: attach only the deny policy, no policy writes). cfn-lint on the
 * templates this test synthesizes (the organization ones are linted in checks.test.ts).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CENTRAL_STACK_ID,
  IAM_FORWARDING_STACK_ID,
  MEMBER_IAM_FORWARDING_STACK_ID,
  MEMBER_STACK_ID,
} from "../../infra/app.ts";
import { forwardedIamEvents } from "../../infra/constructs/identity-layer.ts";
import { parseSettings, type SettingKey, SettingsError } from "../../infra/settings.ts";
import { DENY_ROOT_POLICY_DOCUMENT } from "../../shared/core/iam/deny-policy.ts";
import { IAM_JUDGED_EVENTS, IAM_SOURCE } from "../../shared/core/intake/iam.ts";
import { ORG_CONTEXT, type Synthesized, synthesize, type TemplateJson } from "./synth.ts";
import { identityStatements, render, resourcesOfType } from "./template-tools.ts";

let single: Synthesized;
let org: Synthesized;
const template = (app: Synthesized, id: string) => app.templates[id] as TemplateJson;

beforeAll(() => {
  single = synthesize({ iamRegion: "eu-west-1" });
  org = synthesize({ ...ORG_CONTEXT, iamRegion: "eu-west-1" });
}, 120_000);

function rules(t: TemplateJson) {
  return resourcesOfType(t, "AWS::Events::Rule").map((r) => ({
    name: r.properties.Name as string,
    bus: r.properties.EventBusName,
    pattern: r.properties.EventPattern as {
      source?: string[];
      detail?: { eventSource?: string[]; eventName?: string[] };
    },
    targets: (r.properties.Targets as { Arn: unknown; RoleArn?: unknown }[]) ?? [],
    state: r.properties.State,
  }));
}

describe("the IAM forwarding stack (single account)", () => {
  it("is synthesized for the IAM event region, us-east-1 by default", () => {
    const stack = single.iamForwarding.find((s) => s.stackName === IAM_FORWARDING_STACK_ID);
    expect(stack?.region).toBe("us-east-1");
  });

  it("forwards every judged IAM call (source aws.iam) to the guardrail's IAM bus in the judging region, through a role", () => {
    const forward = rules(template(single, IAM_FORWARDING_STACK_ID)).find(
      (r) => r.name === "s3files-remediator-iam-forward",
    );
    expect(forward?.pattern.source).toEqual(["aws.iam"]);
    expect(forward?.pattern.detail?.eventSource).toEqual([IAM_SOURCE]);
    for (const name of IAM_JUDGED_EVENTS) expect(forward?.pattern.detail?.eventName).toContain(name);
    expect(forward?.pattern.detail?.eventName).toEqual(forwardedIamEvents());
    expect(forward?.targets.map((t) => render(t.Arn))).toEqual([
      "arn:<Ref:AWS::Partition>:events:eu-west-1:<Ref:AWS::AccountId>:event-bus/s3files-remediator-iam-intake",
    ]);
    expect(forward?.targets[0]?.RoleArn).toBeDefined();
  });

  it("lets its role put events on that bus only", () => {
    const allows = identityStatements(IAM_FORWARDING_STACK_ID, template(single, IAM_FORWARDING_STACK_ID));
    expect(allows.map((s) => [s.actions, s.resources])).toEqual([
      [
        ["events:PutEvents"],
        [
          "arn:<Ref:AWS::Partition>:events:eu-west-1:<Ref:AWS::AccountId>:event-bus/s3files-remediator-iam-intake",
        ],
      ],
    ]);
  });

  it("forwards changes to the forwarding rule itself (self-protection)", () => {
    const protect = rules(template(single, IAM_FORWARDING_STACK_ID)).filter((r) =>
      r.name.includes("-protect-"),
    );
    expect(protect.map((r) => r.name).sort()).toEqual([
      "s3files-remediator-iam-forward-protect-a",
      "s3files-remediator-iam-forward-protect-b",
    ]);
    for (const rule of protect) {
      expect(rule.pattern.detail?.eventSource).toEqual(["events.amazonaws.com"]);
      // The prefix covers the forwarding rule and both protection rules: each watches the other.
      expect(JSON.stringify(rule.pattern)).toContain('{"prefix":"s3files-remediator-iam-forward"}');
    }
  });
});

describe("the guardrail's IAM bus and its policy", () => {
  it("single account: only this account's forwarding rule, by its ARN, may put events", () => {
    const policies = resourcesOfType(template(single, CENTRAL_STACK_ID), "AWS::Events::EventBusPolicy");
    const statements = policies.map((p) => p.properties.Statement as Record<string, any>);
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toBe("events:PutEvents");
    expect(render(statements[0]?.Condition.ArnEquals["aws:SourceArn"])).toBe(
      "arn:<Ref:AWS::Partition>:events:us-east-1:<Ref:AWS::AccountId>:rule/s3files-remediator-iam-forward",
    );
  });

  it("organization: members' forwarding rules too, only from inside the organization", () => {
    const policies = resourcesOfType(template(org, CENTRAL_STACK_ID), "AWS::Events::EventBusPolicy")
      .filter((p) => p.properties.StatementId === "cdk-MembersIamForwardingRulesOnly")
      .map((p) => p.properties.Statement as Record<string, any>);
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Condition.StringEquals).toEqual({ "aws:PrincipalOrgID": "o-a1b2c3d4e5" });
    expect(render(policies[0]?.Condition.ArnLike["aws:SourceArn"])).toBe(
      "arn:<Ref:AWS::Partition>:events:us-east-1:*:rule/s3files-remediator-iam-forward",
    );
  });

  it("routes the judged IAM calls from that bus into the intake queue, and alerts on changes to the guardrail's roles", () => {
    const central = rules(template(single, CENTRAL_STACK_ID)).filter((r) => r.bus !== undefined);
    const intake = central.find((r) => r.name === "s3files-remediator-iam-intake");
    expect(intake?.pattern.detail?.eventName).toEqual([...IAM_JUDGED_EVENTS].sort());
    expect(render(intake?.targets[0]?.Arn)).toMatch(/IntakeQueue.*\.Arn>$/);
    const protect = central.find((r) => r.name === "s3files-remediator-protect-iam");
    expect(JSON.stringify(protect?.pattern)).toContain('{"prefix":"s3files-remediator-remediate-"}');
    expect(JSON.stringify(protect?.pattern)).toContain(
      '{"suffix":":policy/s3files-remediator-deny-file-system-root"}',
    );
  });

  it("enables the default-bus IAM route only in the region that judges IAM (no event judged twice)", () => {
    const route = rules(template(single, CENTRAL_STACK_ID)).find(
      (r) => r.name === "s3files-remediator-intake-iam",
    );
    expect(route?.state).toEqual({
      "Fn::If": [expect.stringMatching(/JudgesIdentityHere/), "ENABLED", "DISABLED"],
    });
  });
});

describe("the deny policy and the IAM grants", () => {
  it("creates the deny policy of the two root actions in the judging region only", () => {
    const [policy] = resourcesOfType(template(single, CENTRAL_STACK_ID), "AWS::IAM::ManagedPolicy");
    expect(policy?.properties.ManagedPolicyName).toBe("s3files-remediator-deny-file-system-root");
    expect(policy?.properties.PolicyDocument).toEqual(DENY_ROOT_POLICY_DOCUMENT);
    expect(policy?.condition).toMatch(/JudgesIdentityHere/);
  });

  it("lets the functions and the member role attach that one policy, and write nothing else in IAM", () => {
    for (const [app, stack] of [
      [single, CENTRAL_STACK_ID],
      [org, MEMBER_STACK_ID],
    ] as const) {
      const iamAllows = identityStatements(stack, template(app, stack)).filter(
        (s) => s.statement.Effect === "Allow" && s.actions.some((a) => a.startsWith("iam:")),
      );
      expect(iamAllows.length).toBeGreaterThan(0);
      for (const s of iamAllows) {
        const writes = s.actions.filter((a) => !/^iam:(Get|List)/.test(a));
        if (writes.length === 0) continue;
        expect(writes.sort()).toEqual(["iam:AttachRolePolicy", "iam:AttachUserPolicy"]);
        expect(render(s.statement.Condition?.ArnEquals?.["iam:PolicyARN"])).toMatch(
          /:iam::<Ref:AWS::AccountId>:policy\/s3files-remediator-deny-file-system-root$/,
        );
      }
      const all = iamAllows.flatMap((s) => s.actions);
      for (const forbidden of ["iam:PutRolePolicy", "iam:CreatePolicyVersion", "iam:DetachRolePolicy"])
        expect(all).not.toContain(forbidden);
    }
  });

  it("tells each function which policy to attach and which region sweeps IAM", () => {
    const fn = resourcesOfType(template(single, CENTRAL_STACK_ID), "AWS::Lambda::Function").find(
      (f) => f.properties.FunctionName === "s3files-remediator-remediate",
    );
    const variables =
      (fn?.properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(variables.IAM_DENY_POLICY_NAME).toBe("s3files-remediator-deny-file-system-root");
    expect(variables.IAM_RECONCILE_REGION).toBe("eu-west-1");
  });
});

describe("the organization member IAM forwarding template", () => {
  it("forwards to the central account's IAM bus, and the regional member rules no longer carry IAM", () => {
    const forward = rules(template(org, MEMBER_IAM_FORWARDING_STACK_ID)).find(
      (r) => r.name === "s3files-remediator-iam-forward",
    );
    expect(render(forward?.targets[0]?.Arn)).toBe(
      "arn:<Ref:AWS::Partition>:events:eu-west-1:111122223333:event-bus/s3files-remediator-iam-intake",
    );
    const regional = rules(template(org, MEMBER_STACK_ID));
    expect(regional.some((r) => r.pattern.detail?.eventSource?.includes(IAM_SOURCE))).toBe(false);
  });
});

describe("settings", () => {
  const parse = (values: Record<string, unknown>) => parseSettings((key: SettingKey) => values[key]);

  it("refuses forwarding in GovCloud and China, where cross-region bus targets do not exist", () => {
    expect(() => parse({ iamEventRegion: "us-gov-west-1", iamRegion: "us-gov-east-1" })).toThrow(
      SettingsError,
    );
    expect(() => parse({ iamEventRegion: "cn-north-1", iamRegion: "cn-northwest-1" })).toThrow(/China/);
    expect(parse({ iamEventRegion: "us-gov-west-1" }).identity).toEqual({
      iamRegion: "us-gov-west-1",
      iamEventRegion: "us-gov-west-1",
      forwarded: false,
    });
  });

  it("needs the judging region to run a central stack in organization mode", () => {
    expect(() =>
      parse({ organizationId: "o-a1b2c3d4e5", centralRegions: ["eu-west-1"], iamRegion: "eu-central-1" }),
    ).toThrow(/not one of centralRegions/);
  });
});

describe("cfn-lint", () => {
  it("reports no error on the templates with IAM forwarding", () => {
    const templates = [single, org].flatMap((app) =>
      readdirSync(app.outdir)
        .filter((f) => f.endsWith(".template.json"))
        .map((f) => join(app.outdir, f)),
    );
    // Single account: central, IAM forwarding. Organization: central, member, IAM forwarding, member IAM forwarding.
    expect(templates).toHaveLength(6);
    const run = spawnSync("cfn-lint", ["--format", "json", "--", ...templates], { encoding: "utf8" });
    if (run.error) throw new Error(`cfn-lint could not run (is it on PATH?): ${run.error.message}`);
    const findings = JSON.parse(run.stdout || "[]") as {
      Level: string;
      Rule: { Id: string };
      Message: string;
      Filename: string;
    }[];
    expect(
      findings.filter((f) => f.Level === "Error").map((f) => `${f.Filename}: ${f.Rule.Id} ${f.Message}`),
    ).toEqual([]);
  }, 120_000);
});
