/**
 * Exemptions read live from a resource tag (`remediator:exempt` unless configured otherwise).
 * Value: `reason=<text>;expires=<YYYY-MM-DD or ISO time>[;owner=<who>]`. A tag that does not say
 * why and until when does not exempt anything: a bare `remediator:exempt=true` is exactly the
 * permanent, unexplained exception the exemption model exists to prevent. The pipeline records
 * the malformed tag in the audit reason.
 */
import type { Exemption } from "../core/config.ts";

/** The tag key read unless `EXEMPT_TAG_KEY` names another. */
export const DEFAULT_EXEMPT_TAG_KEY = "remediator:exempt";

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/;

export type TagExemption =
  | { readonly status: "none" }
  | { readonly status: "valid"; readonly exemption: Exemption }
  | { readonly status: "malformed"; readonly problem: string };

/** Reads the exemption tag of one resource (the first of `tagSets` that carries the key wins). */
export function exemptionFromTags(
  tagSets: readonly { readonly resource: string; readonly tags: Readonly<Record<string, string>> }[],
  key: string,
): TagExemption {
  for (const { resource, tags } of tagSets) {
    const value = tags[key];
    if (value === undefined) continue;
    const fields = new Map<string, string>();
    for (const part of value.split(";")) {
      const at = part.indexOf("=");
      if (at <= 0) continue;
      fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
    }
    const reason = fields.get("reason");
    const expires = fields.get("expires");
    if (!reason) return { status: "malformed", problem: `tag ${key} on ${resource} gives no reason=` };
    if (!expires || !ISO_DATE.test(expires) || Number.isNaN(Date.parse(expires))) {
      return { status: "malformed", problem: `tag ${key} on ${resource} gives no valid expires=YYYY-MM-DD` };
    }
    return {
      status: "valid",
      exemption: { resource, reason, expires, owner: fields.get("owner") || `tag ${key} on ${resource}` },
    };
  }
  return { status: "none" };
}
