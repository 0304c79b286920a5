/**
 * Which rules a compliant decision speaks for. A finding raised on a resource by a rule is resolved
 * only by a later judgement of that same rule over the whole resource, never by one that saw part of
 * it: an event on a security group judges the rules of that call only, not the group's other rules.
 */
import { type Config, ruleModeOf } from "../core/config.ts";
import { RULES } from "../core/rules/index.ts";
import type { Change, ChangeKind } from "../core/types.ts";

/** Change kinds whose live view is only part of the resource (the rules named by one call). */
const PARTIAL_VIEWS: ReadonlySet<ChangeKind> = new Set([
  "sg-rules-added",
  "sg-rules-modified",
  "sg-rules-revoked",
  "sg-created",
  "sg-deleted",
]);

/** Every rule (not off) that judges one of these changes. */
export function rulesFor(changes: readonly Change[], config: Config): string[] {
  const kinds = new Set(changes.map((change) => change.detail.kind));
  return RULES.filter(
    (rule) =>
      rule.appliesTo.some((kind) => kinds.has(kind)) &&
      ruleModeOf(config, rule.id, rule.defaultMode) !== "off",
  ).map((rule) => rule.id);
}

/**
 * The rules that judged the whole resource, when the first change is the resource itself (its
 * policy, access point, mount target with each attached group's inbound rules, or file system).
 */
export function rulesJudgingWhole(changes: readonly Change[], config: Config): string[] {
  const [main] = changes;
  if (!main || PARTIAL_VIEWS.has(main.detail.kind)) return [];
  return rulesFor(changes, config);
}
