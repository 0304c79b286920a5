import type { Finding, Severity } from "../types.ts";
import { NOT_APPLICABLE, type Rule } from "./rule.ts";

/** `/`, `//`, `/./` and the like all name the file system's root. */
function isFileSystemRoot(path: string): boolean {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  return parts.length === 0;
}

/** The "other" write bit of an octal mode such as `777`, `0777` or `1777`. */
function isWorldWritable(permissions: string): boolean {
  if (!/^[0-7]{3,4}$/.test(permissions)) return false;
  return (Number.parseInt(permissions.slice(-1), 8) & 0o2) !== 0;
}

/**
 * Access points cannot be updated (S3 Files and EFS): the only remediation is deleting one, which
 * breaks its clients, so the rule notifies by default and deletes only when set to enforce.
 */
export const accessPointUnsafePosix: Rule = {
  id: "access-point-unsafe-posix",
  title: "Access point with no POSIX user, root identity, the whole file system, or world-writable creation",
  severity: "high",
  defaultMode: "notify",
  rationale:
    "An access point enforces a POSIX identity and a root directory for every client that mounts through it. Without a POSIX user, clients keep their own uid (root included); uid or gid 0 makes every client root; a root directory of / exposes the whole file system; world-writable creation permissions let any user plant files. Access points cannot be updated, so the default is to notify; deleting the access point (DeleteAccessPoint) happens only when the rule is set to enforce.",
  docsUrl: "https://docs.aws.amazon.com/efs/latest/ug/efs-access-points.html",
  appliesTo: ["access-point-created"],
  evaluate(change) {
    const { detail } = change;
    if (detail.kind !== "access-point-created") return NOT_APPLICABLE;
    const name = detail.accessPointId ?? `new access point of ${detail.fileSystemId}`;
    const findings: Finding[] = [];
    const add = (severity: Severity, text: string) =>
      findings.push({ rule: this.id, severity, message: `${name}: ${text}` });
    const user = detail.posixUser;
    if (!user) add("high", "no POSIX user: clients keep their own uid and gid, root included");
    else {
      if (user.uid === 0)
        add("high", "POSIX user uid 0 (root): every client is root and bypasses permission checks");
      if (user.gid === 0) add("high", "POSIX group gid 0 (root group)");
      if (user.secondaryGids.includes(0)) add("medium", "secondary group 0 (root group)");
    }
    const path = detail.rootDirectory?.path;
    if (path === undefined || isFileSystemRoot(path)) {
      add(
        "medium",
        `root directory ${path === undefined ? "not set (defaults to /)" : `"${path}"`}: the access point exposes the whole file system`,
      );
    }
    const permissions = detail.rootDirectory?.creationPermissions?.permissions;
    if (permissions !== undefined && isWorldWritable(permissions)) {
      add("medium", `creation permissions ${permissions} are world-writable`);
    }
    if (findings.length === 0) return { status: "compliant" };
    const notes: string[] = [];
    const plan = [];
    if (detail.accessPointId) {
      const reason = "access points cannot be updated: delete the unsafe one (enforce mode only)";
      plan.push(
        detail.service === "s3files"
          ? { api: "s3files:DeleteAccessPoint", params: { accessPointId: detail.accessPointId }, reason }
          : {
              api: "elasticfilesystem:DeleteAccessPoint",
              params: { AccessPointId: detail.accessPointId },
              reason,
            },
      );
    } else {
      notes.push("the record does not give the access point id: it would be deleted by id once read live");
    }
    return { status: "violation", findings, plan, notes };
  },
};
