/**
 * The rule catalogue: every rule the engine runs, in the order it runs them.
 * Add a rule by writing `<rule-id>.ts` next to this file and listing it here.
 */
import { accessPointUnsafePosix } from "./access-point-unsafe-posix.ts";
import { bucketAclPublic } from "./bucket-acl-public.ts";
import { bucketPolicyBlocksFileSystem } from "./bucket-policy-blocks-file-system.ts";
import { bucketPolicyPublic } from "./bucket-policy-public.ts";
import { bucketPublicAccessBlockWeakened } from "./bucket-public-access-block-weakened.ts";
import { bucketVersioningNotEnabled } from "./bucket-versioning-not-enabled.ts";
import { fsCreatedWithoutCmk } from "./fs-created-without-cmk.ts";
import { fsPolicyCrossAccountAccess } from "./fs-policy-cross-account-access.ts";
import { fsPolicyDeleted } from "./fs-policy-deleted.ts";
import { fsPolicyProtectiveDenyDropped } from "./fs-policy-protective-deny-dropped.ts";
import { fsPolicyPublicAccess } from "./fs-policy-public-access.ts";
import { fsPolicyRootAccessOutsideAdmins } from "./fs-policy-root-access-outside-admins.ts";
import { fsPolicyTlsNotEnforced } from "./fs-policy-tls-not-enforced.ts";
import { iamPrincipalRootOnFileSystems } from "./iam-principal-root-on-file-systems.ts";
import { mountTargetNfsOutsideVpc } from "./mount-target-nfs-outside-vpc.ts";
import type { Rule } from "./rule.ts";
import { sgEgressInternetSensitivePort } from "./sg-egress-internet-sensitive-port.ts";
import { sgIngressInternetSensitivePort } from "./sg-ingress-internet-sensitive-port.ts";
import { sgIngressMountTargetNfsOutsideVpc } from "./sg-ingress-mount-target-nfs-outside-vpc.ts";

export const RULES: readonly Rule[] = [
  sgIngressInternetSensitivePort,
  sgEgressInternetSensitivePort,
  sgIngressMountTargetNfsOutsideVpc,
  fsPolicyPublicAccess,
  fsPolicyCrossAccountAccess,
  fsPolicyRootAccessOutsideAdmins,
  fsPolicyTlsNotEnforced,
  fsPolicyProtectiveDenyDropped,
  fsPolicyDeleted,
  accessPointUnsafePosix,
  mountTargetNfsOutsideVpc,
  fsCreatedWithoutCmk,
  iamPrincipalRootOnFileSystems,
  bucketVersioningNotEnabled,
  bucketPublicAccessBlockWeakened,
  bucketPolicyPublic,
  bucketAclPublic,
  bucketPolicyBlocksFileSystem,
];

export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id);

export function ruleById(id: string): Rule | undefined {
  return RULES.find((rule) => rule.id === id);
}
