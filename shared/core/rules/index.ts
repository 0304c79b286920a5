/**
 * The rule catalogue: every rule the engine runs, in the order it runs them.
 * Add a rule by writing `<rule-id>.ts` next to this file and listing it here.
 */
import type { Rule } from "./rule.ts";
import { sgEgressInternetSensitivePort } from "./sg-egress-internet-sensitive-port.ts";
import { sgIngressInternetSensitivePort } from "./sg-ingress-internet-sensitive-port.ts";

export const RULES: readonly Rule[] = [sgIngressInternetSensitivePort, sgEgressInternetSensitivePort];

export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id);

export function ruleById(id: string): Rule | undefined {
  return RULES.find((rule) => rule.id === id);
}
