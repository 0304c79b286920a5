/**
 * Small readers over synthesized CloudFormation JSON: intrinsic functions rendered as readable
 * strings (`Fn::Join` joined, `Ref` as `<Ref:X>`, `Fn::GetAtt` as `<X.Attr>`), and the identity
 * policies of a template, statement by statement.
 */
import type { TemplateJson } from "./synth.ts";

export function render(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map(render).join(",");
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if ("Ref" in o) return `<Ref:${String(o.Ref)}>`;
    if ("Fn::GetAtt" in o) return `<${(o["Fn::GetAtt"] as string[]).join(".")}>`;
    if ("Fn::Join" in o) {
      const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    if ("Fn::Select" in o) return `<Select:${JSON.stringify(o["Fn::Select"])}>`;
    if ("Fn::Split" in o) return `<Split:${JSON.stringify(o["Fn::Split"])}>`;
  }
  return JSON.stringify(value);
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface LocatedStatement {
  /** `<stack>/<logical id>`. */
  readonly where: string;
  readonly statement: Statement;
  readonly actions: string[];
  readonly resources: string[];
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every identity policy (inline role policies, policies, managed policies). */
export function identityStatements(stack: string, template: TemplateJson): LocatedStatement[] {
  const out: LocatedStatement[] = [];
  const add = (where: string, document: unknown) => {
    const statements = list((document as { Statement?: Statement | Statement[] } | undefined)?.Statement);
    for (const statement of statements) {
      out.push({
        where: `${stack}/${where}`,
        statement,
        actions: list(statement.Action),
        resources: list(statement.Resource as unknown).map(render),
      });
    }
  };
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resource.Properties ?? {};
    if (resource.Type === "AWS::IAM::Policy" || resource.Type === "AWS::IAM::ManagedPolicy")
      add(id, p.PolicyDocument);
    if (resource.Type === "AWS::IAM::Role") {
      for (const policy of list(p.Policies as { PolicyDocument: unknown }[] | undefined))
        add(id, policy.PolicyDocument);
    }
  }
  return out;
}

export function resourcesOfType(template: TemplateJson, type: string) {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => ({ id, properties: r.Properties ?? {}, condition: r.Condition }));
}

/** The logical id of the one resource of a type whose properties satisfy `test`. */
export function logicalIdOf(
  template: TemplateJson,
  type: string,
  test: (p: Record<string, unknown>) => boolean,
) {
  const found = resourcesOfType(template, type).filter((r) => test(r.properties));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return (found[0] as { id: string }).id;
}
