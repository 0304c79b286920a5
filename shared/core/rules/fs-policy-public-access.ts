import { fsPolicyRule } from "./fs-policy-rule.ts";

export const fsPolicyPublicAccess = fsPolicyRule("public", {
  title: "File-system policy grants client access to the public",
  rationale:
    "A statement that lets a wildcard principal (or NotPrincipal with Allow) mount, write or be root, with no condition that limits it to fixed values of aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn, aws:SourceIp (/8 or narrower), aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount, aws:userid or (EFS) elasticfilesystem:AccessedViaMountTarget, opens the file system's data to anyone who can reach it. Wildcards and policy variables limit nothing; a Deny that takes the access back counts. Every verdict is decided over the whole request space, with an example request. Only the offending statement is narrowed, through its Principal element (the owner's and trusted accounts' principals; clients that mount without IAM lose that grant), after proving over every request that the edit grants nothing new; without a known owner account nothing is edited.",
});
