/**
 * The deploy documentation (`docs/deploy.md`) against the templates it describes: every context key,
 * stack output, rule, bus, parameter and figure it names exists as written, so a newcomer's commands
 * work as shown.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { CENTRAL_STACK_ID, MEMBER_STACK_ID } from "../../infra/app.ts";
import { SETTING_KEYS } from "../../infra/settings.ts";
import { LINT_REGIONS } from "../../scripts/lint-templates.ts";
import { ORG_CONTEXT, type Synthesized, synthesize, type TemplateJson } from "./synth.ts";
import { resourcesOfType } from "./template-tools.ts";

const doc = readFileSync(new URL("../../docs/deploy.md", import.meta.url), "utf8");

let org: Synthesized;
let single: Synthesized;
let central: TemplateJson;
let member: TemplateJson;

beforeAll(() => {
  org = synthesize(ORG_CONTEXT);
  single = synthesize({});
  central = org.templates[CENTRAL_STACK_ID] as TemplateJson;
  member = org.templates[MEMBER_STACK_ID] as TemplateJson;
}, 180_000);

/** Rule name → bus name (`default` for the default bus), from a template. */
function rulesByName(template: TemplateJson): Map<string, string> {
  const buses = Object.fromEntries(
    resourcesOfType(template, "AWS::Events::EventBus").map((b) => [b.id, String(b.properties.Name)]),
  );
  return new Map(
    resourcesOfType(template, "AWS::Events::Rule").map((r) => {
      const bus = r.properties.EventBusName as { Ref?: string } | undefined;
      return [String(r.properties.Name), bus?.Ref ? (buses[bus.Ref] ?? "?") : "default"];
    }),
  );
}

describe("docs/deploy.md", () => {
  it("documents every context key the app reads, and no other", () => {
    const table = doc.slice(doc.indexOf("## Parameters"), doc.indexOf("## What it costs"));
    const documented = new Set(
      [...table.matchAll(/^\| ((?:`[A-Za-z]+`(?:, )?)+) \|/gm)].flatMap((m) =>
        [...(m[1] ?? "").matchAll(/`([A-Za-z]+)`/g)].map((k) => k[1]),
      ),
    );
    expect([...documented].sort()).toEqual([...SETTING_KEYS].sort());
  });

  it("reads only stack outputs the central stack has", () => {
    const outputs = [...doc.matchAll(/OutputKey=='(\w+)'|\bout (\w+)\)/g)].map((m) => m[1] ?? m[2]);
    expect(outputs.length).toBeGreaterThanOrEqual(3);
    for (const output of outputs) expect(Object.keys(central.Outputs ?? {}), output).toContain(output);
  });

  it("disables and enables rules that exist, on the bus it names", () => {
    const rules = rulesByName(central);
    const commands = [
      ...doc.matchAll(/(?:disable|enable)-rule --event-bus-name (\S+) --name "?([\w$-]+)"?/g),
    ];
    expect(commands.length).toBeGreaterThanOrEqual(3);
    for (const [, bus, name] of commands) {
      // The loop over the judged sources: `s3files-remediator-intake-$s` for s in ec2 s3files efs.
      const names = name?.includes("$s")
        ? ["ec2", "s3files", "efs"].map((s) => name.replace("$s", s))
        : [name];
      for (const n of names) expect(rules.get(n ?? ""), `${n} on ${bus}`).toBe(bus);
    }
  });

  it("names the member template's parameter, assertion and protection rules as they are", () => {
    expect(doc).toContain("RemediationRoleRegion");
    expect(Object.keys(member.Parameters ?? {})).toEqual(["RemediationRoleRegion"]);
    const rules = (member as { Rules?: Record<string, { Assertions: { AssertDescription: string }[] }> })
      .Rules;
    const description = Object.values(rules ?? {})[0]?.Assertions[0]?.AssertDescription ?? "";
    const quoted = /\("(This region has no central S3 Files remediator stack)"\)/.exec(doc)?.[1];
    expect(quoted).toBeDefined();
    expect(description.startsWith(quoted ?? "-")).toBe(true);
    expect(doc).toContain("cdk.out/S3FilesRemediatorMember.template.json");
    expect(org.stacks.map((s) => s.stackName)).toEqual(
      expect.arrayContaining([CENTRAL_STACK_ID, MEMBER_STACK_ID]),
    );
  });

  it("states the alarm counts of both modes, and the partitions linted", () => {
    const alarms = (t: TemplateJson) => resourcesOfType(t, "AWS::CloudWatch::Alarm").length;
    const singleCount = alarms(single.templates[CENTRAL_STACK_ID] as TemplateJson);
    expect(doc).toContain(`(${singleCount} alarms; ${alarms(central)} in organization mode)`);
    expect(doc).toContain(`${singleCount} alarms (${alarms(central)} in organization mode;`);
    for (const region of LINT_REGIONS) expect(doc).toContain(`\`${region}\``);
  });

  it("says the defaults the templates deploy: no reservation, 2 events in flight, batches of 10", () => {
    const [mapping] = resourcesOfType(central, "AWS::Lambda::EventSourceMapping");
    expect(mapping?.properties.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
    expect(mapping?.properties.BatchSize).toBe(10);
    expect(doc).toContain("| `remediateConcurrency` | `2` |");
    expect(doc).toContain("| `reserveConcurrency` | `false` |");
    expect(doc).toContain("**at most 2 events are in flight**");
  });
});
