/** `remediator explain-policy`: who a file-system policy lets mount, write and be root, and why. */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { errorMessage, InvalidInputError } from "../../shared/core/errors.ts";
import {
  type ActionExplanation,
  explainPolicy,
  type PolicyDocument,
  type PolicyExplanation,
  type PolicyScope,
  parsePolicy,
} from "../../shared/core/policy/index.ts";
import { loadConfig } from "../../shared/io/load-config.ts";
import { type CliIo, EXIT, UsageError } from "../io.ts";
import { explainBucketPolicy, formatBucketExplanation } from "./explain-bucket-policy.ts";
import { explainIdentityPolicy } from "./explain-identity-policy.ts";

export const EXPLAIN_POLICY_USAGE = `Usage: remediator explain-policy [--kind file-system|identity] [--format text|json]
                                [--service s3files|efs] [--account ID] [--region REGION]
                                [--file-system-id ID] [--config FILE] [--boundary FILE]
                                [--fail-on unsafe] FILE
       remediator explain-policy --kind bucket --account ID [--bucket NAME] [--role ARN]...
                                [--reader ARN]... [--format text|json] [--config FILE]
                                [--fail-on unsafe] FILE

  FILE     a policy document (JSON), or - for stdin.
  --kind   file-system (default): FILE is a file-system policy (S3 Files or EFS).
           identity: FILE is an identity policy (attached to a role, user or group); says whether
           it gives root on file systems (s3files:ClientRootAccess, elasticfilesystem:ClientRootAccess),
           through which statement, or why that cannot be decided. --account limits it to one
           account's file systems; --boundary FILE intersects it with a permissions boundary.
  --service, --account, --region, --file-system-id
           the file system the policy guards; by default read from the policy's Resource ARN
           (the service also from its actions). A value that no file-system ARN of the policy
           agrees with is refused: the statements would not apply and every grant would vanish.
  --fail-on unsafe
           exit 1 when the verdict is UNSAFE (for pipelines).
  --config the configuration whose trustedAccounts and adminPrincipals apply.
  --format text (default) for people; json: the explanation as one JSON object.
  --kind   bucket: FILE is a bucket policy, judged public or not by S3's
           definition (with the request that shows it, or the proof), with the narrowing the
           guardrail would make.
  --bucket the bucket (by default the one the policy's Resource elements name).
  --role   a file system's role: the Deny statements that can block what S3 Files needs to sync.
  --reader a compute role that reads objects directly: the Deny statements that can block it.

Exit status: 0 explained; 1 --fail-on unsafe matched; 2 usage or configuration error; 3 the file
cannot be read or is not a policy.`;

const FS_ARN = /^arn:([^:]+):(s3files|elasticfilesystem):([^:]+):(\d{12}):file-system\/(fs-[0-9a-zA-Z]+)$/;

async function readText(path: string, io: CliIo): Promise<string> {
  if (path !== "-") return readFile(path, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

interface ScopeHint {
  service?: "s3files" | "efs";
  partition?: string;
  region?: string;
  account?: string;
  fileSystemId?: string;
}

/** Every file system the policy names in its Resource elements. */
function namedFileSystems(policy: PolicyDocument): ScopeHint[] {
  const named: ScopeHint[] = [];
  for (const statement of policy.statements) {
    for (const resource of statement.resources ?? []) {
      const match = FS_ARN.exec(resource);
      if (match) {
        named.push({
          partition: match[1],
          service: match[2] === "s3files" ? "s3files" : "efs",
          region: match[3],
          account: match[4],
          fileSystemId: match[5],
        });
      }
    }
  }
  return named;
}

/** The file system a policy names first in its Resource elements, else the service its actions name. */
function scopeHints(policy: PolicyDocument): ScopeHint {
  const [first] = namedFileSystems(policy);
  if (first) return first;
  const actions = policy.statements.flatMap((s) => [...(s.actions ?? []), ...(s.notActions ?? [])]);
  if (actions.some((a) => a.toLowerCase().startsWith("elasticfilesystem:"))) return { service: "efs" };
  return {};
}

/**
 * A flag that no file-system ARN of the policy agrees with: explaining the policy for another file
 * system would drop every statement scoped to its own and call a public policy safe.
 */
function disagreement(policy: PolicyDocument, flags: ScopeHint): string | undefined {
  const named = namedFileSystems(policy);
  if (named.length === 0) return undefined;
  const checks: [keyof ScopeHint, string][] = [
    ["fileSystemId", "--file-system-id"],
    ["region", "--region"],
    ["account", "--account"],
    ["service", "--service"],
  ];
  for (const [key, flag] of checks) {
    const given = flags[key];
    if (given === undefined || named.some((hint) => hint[key] === given)) continue;
    const found = [...new Set(named.map((hint) => hint[key]))].join(", ");
    return `${flag} ${given} disagrees with the policy's Resource ARN(s) (${found}): its statements would not apply to that file system. Leave ${flag} out to use the policy's own, or fix the policy's Resource`;
  }
  return undefined;
}

const CLASS_LABEL: Record<string, string> = {
  public: "PUBLIC",
  "cross-account": "CROSS-ACCOUNT",
  organization: "organization",
  restricted: "fixed source",
  trusted: "trusted",
  owner: "owner",
  "aws-service": "AWS service",
};

function formatAction(action: ActionExplanation): string {
  const lines = [`${action.action}`];
  if (action.grants.length === 0) lines.push("  nobody, through this policy");
  for (const grant of action.grants) {
    lines.push(`  ${(CLASS_LABEL[grant.accessClass] ?? grant.accessClass).padEnd(14)} ${grant.who}`);
    lines.push(`  ${"".padEnd(14)} allowed by ${grant.allowedBy.join(", ")}; when ${grant.when.join(" | ")}`);
  }
  for (const back of action.takenBack) {
    lines.push(
      `  taken back by ${back.statement} from: ${back.from.map((c) => CLASS_LABEL[c] ?? c).join(", ")}`,
    );
  }
  return lines.join("\n");
}

function formatText(explanation: PolicyExplanation): string {
  const { scope } = explanation;
  const service = scope.service === "s3files" ? "S3 Files" : "EFS";
  const header = [
    `File-system policy of ${scope.fileSystemId ?? "an unnamed file system"} (${service}) in account ${scope.ownerAccount ?? "unknown"}${scope.region ? `, ${scope.region}` : ""}`,
    `Trusted accounts: ${scope.trustedAccounts.length > 0 ? scope.trustedAccounts.join(", ") : "none besides the owner"}. Admin principals: ${scope.adminPrincipals.length > 0 ? scope.adminPrincipals.join(", ") : "none"}.`,
  ];
  const body = explanation.actions.map(formatAction);
  const tls =
    explanation.tlsEnforced === undefined
      ? []
      : [`TLS: ${explanation.tlsEnforced ? "enforced (clients without TLS are denied)" : "not enforced"}`];
  const verdict =
    explanation.problems.length === 0
      ? ["Verdict: safe"]
      : ["Verdict: UNSAFE", ...explanation.problems.map((p) => `  - ${p}`)];
  return `${[...header, "", ...body.flatMap((b) => [b, ""]), ...tls, ...verdict, explanation.complete ? "(decided over every request: every kind of caller, client action and condition value)" : "(some questions were too complex to decide: left for a person)"].join("\n")}\n`;
}

export async function explainPolicyCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "text" },
      service: { type: "string" },
      account: { type: "string" },
      region: { type: "string" },
      "file-system-id": { type: "string" },
      config: { type: "string" },
      kind: { type: "string", default: "file-system" },
      boundary: { type: "string" },
      "fail-on": { type: "string" },
      bucket: { type: "string" },
      role: { type: "string", multiple: true, default: [] },
      reader: { type: "string", multiple: true, default: [] },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.stdout.write(`${EXPLAIN_POLICY_USAGE}\n`);
    return EXIT.ok;
  }
  if (values.format !== "text" && values.format !== "json") {
    throw new UsageError(`--format must be text or json, got "${values.format}"`);
  }
  if (values.service !== undefined && values.service !== "s3files" && values.service !== "efs") {
    throw new UsageError(`--service must be s3files or efs, got "${values.service}"`);
  }
  if (values.account !== undefined && !/^\d{12}$/.test(values.account)) {
    throw new UsageError(`--account must be a 12-digit account id, got "${values.account}"`);
  }
  if (values["fail-on"] !== undefined && values["fail-on"] !== "unsafe") {
    throw new UsageError(`--fail-on takes unsafe, got "${values["fail-on"]}"`);
  }
  // "filesystem" is accepted as well: the spelling the bucket kind was first documented with.
  if (values.kind === "filesystem") values.kind = "file-system";
  if (values.kind !== "file-system" && values.kind !== "identity" && values.kind !== "bucket") {
    throw new UsageError(`--kind must be file-system, identity or bucket, got "${values.kind}"`);
  }
  if (positionals.length !== 1) throw new UsageError("give exactly one policy FILE (or - for stdin)");
  if (values.boundary !== undefined && values.kind !== "identity") {
    throw new UsageError("--boundary applies to --kind identity only");
  }
  const path = positionals[0] as string;
  if (values.kind === "identity") {
    try {
      const text = await readText(path, io);
      const boundary = values.boundary === undefined ? undefined : await readText(values.boundary, io);
      explainIdentityPolicy(
        text,
        { format: values.format, account: values.account, partition: "aws", boundary },
        io,
      );
    } catch (error) {
      const why =
        error instanceof InvalidInputError ? error.message : `cannot read ${path}: ${errorMessage(error)}`;
      io.stderr.write(`remediator explain-policy: ${why}\n`);
      return EXIT.unreadableInput;
    }
    return EXIT.ok;
  }
  const config = loadConfig({ file: values.config, env: io.env });
  let policy: PolicyDocument;
  try {
    const text = await readText(path, io);
    policy = parsePolicy(text.trim());
  } catch (error) {
    const why =
      error instanceof InvalidInputError ? error.message : `cannot read ${path}: ${errorMessage(error)}`;
    io.stderr.write(`remediator explain-policy: ${why}\n`);
    return EXIT.unreadableInput;
  }
  if (values.kind === "bucket") {
    const bucket = explainBucketPolicy(policy, {
      bucket: values.bucket,
      account: values.account,
      roles: values.role,
      readers: values.reader,
      trustedAccounts: config.trustedAccounts,
    });
    io.stdout.write(
      values.format === "json" ? `${JSON.stringify(bucket)}\n` : formatBucketExplanation(bucket),
    );
    return values["fail-on"] === "unsafe" && bucket.unsafe ? EXIT.failOn : EXIT.ok;
  }
  const conflict = disagreement(policy, {
    fileSystemId: values["file-system-id"],
    region: values.region,
    account: values.account,
    service: values.service as ScopeHint["service"],
  });
  if (conflict) throw new UsageError(conflict);
  const hints = scopeHints(policy);
  const scope: PolicyScope = {
    service: (values.service as "s3files" | "efs" | undefined) ?? hints.service ?? "s3files",
    ownerAccount: values.account ?? hints.account,
    partition: hints.partition ?? "aws",
    region: values.region ?? hints.region,
    fileSystemId: values["file-system-id"] ?? hints.fileSystemId,
    trustedAccounts: config.trustedAccounts,
    adminPrincipals: config.adminPrincipals,
  };
  const explanation = explainPolicy(policy, scope);
  if (values.format === "json") {
    io.stdout.write(`${JSON.stringify({ safe: explanation.problems.length === 0, ...explanation })}\n`);
  } else {
    io.stdout.write(formatText(explanation));
  }
  return values["fail-on"] === "unsafe" && explanation.problems.length > 0 ? EXIT.failOn : EXIT.ok;
}
