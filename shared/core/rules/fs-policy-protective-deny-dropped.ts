import { fsPolicyRule } from "./fs-policy-rule.ts";

export const fsPolicyProtectiveDenyDropped = fsPolicyRule("droppedDeny", {
  title: "A Deny that protected write or root access was dropped from the file-system policy",
  rationale:
    "A Deny in the last known good policy that kept callers from writing or being root protects the file system even where identity policies allow more. When the new policy drops it, the Deny is put back as it was; adding a Deny never widens access. Needs the last known good policy, which the runtime keeps; offline the rule says what it would check.",
});
