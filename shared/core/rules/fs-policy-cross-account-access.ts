import { fsPolicyRule } from "./fs-policy-rule.ts";

export const fsPolicyCrossAccountAccess = fsPolicyRule("crossAccount", {
  title: "File-system policy grants client access to an untrusted account",
  rationale:
    "Principals of an account other than the owner and the configured trusted accounts must not mount or write. A fixed aws:PrincipalOrgID limit is the owner's own organization and is accepted. The untrusted principal is taken out of its statement (or an open Principal is narrowed to the owner's and trusted accounts' principals); every other statement stays.",
});
