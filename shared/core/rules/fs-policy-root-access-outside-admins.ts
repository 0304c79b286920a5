import { fsPolicyRule } from "./fs-policy-rule.ts";

export const fsPolicyRootAccessOutsideAdmins = fsPolicyRule("root", {
  title: "File-system policy grants root access outside the admin principals",
  rationale:
    "ClientRootAccess makes an NFS client uid 0, which bypasses every POSIX permission check on the file system. Only the configured admin principals may have it (none by default). ClientRootAccess is taken out of the offending statement's actions; mount and write stay.",
});
