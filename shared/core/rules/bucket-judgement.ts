/**
 * What the bucket rules share: one judgement of a bucket's state per change, and one combined plan.
 * `PutPublicAccessBlock` replaces all four settings at once, so the settings several rules want on
 * (the weakened ones restored, RestrictPublicBuckets for a policy no edit can fix, IgnorePublicAcls
 * for a public ACL) are merged into one call that also keeps every setting already on; the rule
 * that owns each step returns it, the others return the same findings without it.
 */
import { ruleModeOf } from "../config.ts";
import { partitionOf } from "../intake/cloudtrail-record.ts";
import { ALL_USERS_URI, AUTHENTICATED_USERS_URI } from "../intake/s3-buckets.ts";
import { parsePolicy, statementLabel } from "../policy/document.ts";
import type { Change, Finding, PlanStep, PublicAccessBlock, RuleMode, Severity } from "../types.ts";
import {
  type BucketScope,
  bucketDenials,
  judgeBucketPolicyPublic,
  narrowPublicStatements,
} from "./bucket-policy-engine.ts";
import type { BucketContext, JudgeContext } from "./rule.ts";

export type BucketProblem =
  | "versioning"
  | "publicAccessBlock"
  | "policyPublic"
  | "aclPublic"
  | "blocksFileSystem";

export const BUCKET_RULES: Readonly<
  Record<BucketProblem, { readonly id: string; readonly defaultMode: RuleMode; readonly severity: Severity }>
> = {
  versioning: { id: "bucket-versioning-not-enabled", defaultMode: "enforce", severity: "high" },
  publicAccessBlock: { id: "bucket-public-access-block-weakened", defaultMode: "enforce", severity: "high" },
  policyPublic: { id: "bucket-policy-public", defaultMode: "enforce", severity: "critical" },
  aclPublic: { id: "bucket-acl-public", defaultMode: "enforce", severity: "critical" },
  blocksFileSystem: { id: "bucket-policy-blocks-file-system", defaultMode: "notify", severity: "high" },
};

const PROBLEMS = Object.keys(BUCKET_RULES) as BucketProblem[];

export const ALL_ON: PublicAccessBlock = {
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
};

const NONE_ON: PublicAccessBlock = {
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: false,
  restrictPublicBuckets: false,
};

const FLAG_NAMES: Readonly<Record<keyof PublicAccessBlock, string>> = {
  blockPublicAcls: "BlockPublicAcls",
  ignorePublicAcls: "IgnorePublicAcls",
  blockPublicPolicy: "BlockPublicPolicy",
  restrictPublicBuckets: "RestrictPublicBuckets",
};
const FLAGS = Object.keys(FLAG_NAMES) as (keyof PublicAccessBlock)[];

/** What the file system's role needs to sync (S3 Files user guide), and what direct reads need. */
export const FILE_SYSTEM_ROLE_ACTIONS = [
  "s3:ListBucket",
  "s3:GetObject",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:AbortMultipartUpload",
];
export const DIRECT_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"];

export interface BucketJudgement {
  /** `undefined`: the rule has nothing to judge in what is known (not applicable). */
  readonly findings: Readonly<Record<BucketProblem, readonly Finding[] | undefined>>;
  readonly notes: Readonly<Record<BucketProblem, readonly string[]>>;
  readonly steps: readonly { readonly owner: BucketProblem; readonly step: PlanStep }[];
}

function empty<T>(make: () => T): Record<BucketProblem, T> {
  return Object.fromEntries(PROBLEMS.map((p) => [p, make()])) as Record<BucketProblem, T>;
}

function flagNames(flags: readonly (keyof PublicAccessBlock)[]): string {
  return flags.map((f) => FLAG_NAMES[f]).join(", ");
}

function owned(params: Record<string, unknown>, account: string | undefined): Record<string, unknown> {
  // ExpectedBucketOwner: a bucket name that now belongs to another account is never written to.
  return account ? { ...params, ExpectedBucketOwner: account } : params;
}

/** Everything one judgement reads besides the change: kept for the rules of the same change. */
let last: { change: Change; context: JudgeContext; judgement: BucketJudgement } | undefined;

/** Judges the bucket state of a `bucket-state` change once for all bucket rules. */
export function judgeBucket(change: Change, context: JudgeContext): BucketJudgement {
  if (last && last.change === change && last.context === context) return last.judgement;
  const judgement = judgeUncached(change, context);
  last = { change, context, judgement };
  return judgement;
}

function judgeUncached(change: Change, context: JudgeContext): BucketJudgement {
  const { detail } = change;
  if (detail.kind !== "bucket-state") throw new Error("judgeBucket needs a bucket-state change");
  const { bucket, state } = detail;
  const account = change.meta.account;
  const bucketContext: BucketContext | undefined = context.facts.buckets?.get(bucket);
  const findings: Record<BucketProblem, Finding[] | undefined> = empty(() => undefined);
  const notes = empty<string[]>(() => []);
  const finding = (problem: BucketProblem, message: string, severity = BUCKET_RULES[problem].severity) => {
    const list = findings[problem] ?? [];
    list.push({ rule: BUCKET_RULES[problem].id, severity, message: `${bucket}: ${message}` });
    findings[problem] = list;
  };
  const compliant = (problem: BucketProblem) => {
    findings[problem] ??= [];
  };
  const enforced = (problem: BucketProblem) =>
    (findings[problem]?.length ?? 0) > 0 &&
    ruleModeOf(context.config, BUCKET_RULES[problem].id, BUCKET_RULES[problem].defaultMode) === "enforce" &&
    context.isExempt?.(BUCKET_RULES[problem].id) !== true;
  if (!bucketContext) {
    for (const problem of PROBLEMS)
      notes[problem].push(`${bucket}: whether the bucket backs a file system is checked live`);
  }
  const steps: { owner: BucketProblem; step: PlanStep }[] = [];
  const wantedFlags = new Map<BucketProblem, (keyof PublicAccessBlock)[]>();
  const live = state.publicAccessBlock;

  // Versioning: S3 Files needs it enabled; re-enabling needs MFA when MFA delete is on.
  if (state.versioning) {
    const { status, mfaDelete } = state.versioning;
    if (status === "Enabled") compliant("versioning");
    else {
      finding(
        "versioning",
        `versioning is ${status}: S3 Files needs it enabled, and objects overwritten or deleted now lose their earlier versions`,
      );
      if (mfaDelete) {
        notes.versioning.push(
          "MFA delete is enabled: changing the versioning state needs the bucket owner's MFA device, so versioning is left for a person to re-enable",
        );
      } else if (enforced("versioning")) {
        steps.push({
          owner: "versioning",
          step: {
            api: "s3:PutBucketVersioning",
            params: owned({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }, account),
            reason: "re-enable versioning (S3 Files needs it)",
          },
        });
      }
    }
  }

  // Block Public Access: compared with the last known good settings, else all four on.
  if (live !== undefined) {
    const known = bucketContext?.lastKnownGood?.publicAccessBlock;
    const reference = known ?? ALL_ON;
    const weakened = FLAGS.filter((flag) => reference[flag] && !(live?.[flag] ?? false));
    if (weakened.length === 0) compliant("publicAccessBlock");
    else {
      finding(
        "publicAccessBlock",
        `Block Public Access ${live === null ? "removed" : "weakened"}: ${flagNames(weakened)} off (${known ? "on in the last known good settings" : "no earlier settings known: all four expected on"})`,
      );
      if (enforced("publicAccessBlock")) wantedFlags.set("publicAccessBlock", weakened);
    }
  }

  // The bucket policy: public by S3's definition, judged with a witness or a proof.
  const scope: BucketScope = {
    bucket,
    ownerAccount: account,
    partition: partitionOf(change.meta.region),
    trustedAccounts: context.config.trustedAccounts,
  };
  const policy = typeof state.policyText === "string" ? parsePolicy(state.policyText) : undefined;
  if (state.policyText === null) compliant("policyPublic");
  if (policy) {
    const verdict = judgeBucketPolicyPublic(policy, scope);
    if (verdict.status === "not-public") compliant("policyPublic");
    else if (live?.restrictPublicBuckets === true) {
      compliant("policyPublic");
      notes.policyPublic.push(
        `${bucket}: RestrictPublicBuckets is on, so S3 limits a public policy to AWS services and the bucket owner's account`,
      );
    } else {
      if (verdict.status === "public") {
        for (const { statement, witness } of verdict.publicStatements) {
          finding(
            "policyPublic",
            `bucket policy ${statementLabel(statement)} is public by S3's definition${witness ? `: it allows ${witness}` : ""}`,
          );
        }
      }
      for (const { statement, reason } of verdict.undecided) {
        finding(
          "policyPublic",
          `bucket policy ${statementLabel(statement)} could not be proved non-public (${reason}): left for a person to confirm`,
          "high",
        );
      }
      if (enforced("policyPublic")) {
        const edit =
          verdict.status === "public" && verdict.undecided.length === 0
            ? narrowPublicStatements(
                policy,
                verdict.publicStatements.map((p) => p.statement),
                scope,
              )
            : {
                failure:
                  "some statements could not be decided, so no edit can be shown to remove public access",
              };
        if (edit.edit) {
          steps.push({
            owner: "policyPublic",
            step: {
              api: "s3:PutBucketPolicy",
              params: owned({ Bucket: bucket, Policy: edit.edit.text }, account),
              reason: `narrow only the public statements (${edit.edit.changes.join("; ")}); ${edit.edit.proof}`,
            },
          });
        } else {
          notes.policyPublic.push(
            `no policy edit could be proved (${edit.failure}): Block Public Access (BlockPublicPolicy, RestrictPublicBuckets) is put on instead; the policy itself is never deleted`,
          );
          wantedFlags.set("policyPublic", ["blockPublicPolicy", "restrictPublicBuckets"]);
        }
      }
    }
  }

  // The ACL: a grant to everyone or to every AWS account is public (S3 user guide).
  if (state.aclGrants) {
    const open = state.aclGrants.filter(
      (g) => g.grantee === ALL_USERS_URI || g.grantee === AUTHENTICATED_USERS_URI,
    );
    if (open.length === 0) compliant("aclPublic");
    else if (live?.ignorePublicAcls === true) {
      compliant("aclPublic");
      notes.aclPublic.push(`${bucket}: IgnorePublicAcls is on, so S3 ignores the public ACL grants`);
    } else {
      for (const grant of open) {
        const who =
          grant.grantee === ALL_USERS_URI ? "everyone (AllUsers)" : "every AWS account (AuthenticatedUsers)";
        finding("aclPublic", `the bucket ACL grants ${grant.permission} to ${who}`);
      }
      // The guardrail may not rewrite ACLs (no s3:PutBucketAcl): S3 is told to ignore public ones.
      if (enforced("aclPublic")) wantedFlags.set("aclPublic", ["blockPublicAcls", "ignorePublicAcls"]);
    }
  }

  // A Deny that blocks the file system's role or the clients' direct reads: notify.
  if (policy && bucketContext) {
    judgeDenials(policy, scope, bucketContext, context, finding, notes.blocksFileSystem);
    findings.blocksFileSystem ??= [];
  } else if (state.policyText === null) compliant("blocksFileSystem");
  else if (policy)
    notes.blocksFileSystem.push(
      `${bucket}: Deny statements are checked live against each file system's role`,
    );

  const flagOwner = (["publicAccessBlock", "policyPublic", "aclPublic"] as const).find((p) =>
    wantedFlags.has(p),
  );
  if (flagOwner) {
    const wanted = new Set([...wantedFlags.values()].flat());
    // Every setting on now stays on; unknown settings (offline) are all put on.
    const base: PublicAccessBlock = live === undefined ? ALL_ON : (live ?? NONE_ON);
    const target = Object.fromEntries(FLAGS.map((f) => [FLAG_NAMES[f], base[f] || wanted.has(f)]));
    steps.push({
      owner: flagOwner,
      step: {
        api: "s3:PutPublicAccessBlock",
        params: owned({ Bucket: bucket, PublicAccessBlockConfiguration: target }, account),
        reason: `put Block Public Access on (${flagNames([...wanted])}), keeping every setting already on`,
      },
    });
  }
  return { findings, notes, steps };
}

function judgeDenials(
  policy: ReturnType<typeof parsePolicy>,
  scope: BucketScope,
  bucketContext: BucketContext,
  context: JudgeContext,
  finding: (problem: BucketProblem, message: string, severity?: Severity) => void,
  notes: string[],
): void {
  const report = (who: string, denials: ReturnType<typeof bucketDenials>) => {
    for (const d of denials) {
      finding(
        "blocksFileSystem",
        d.status === "denies"
          ? `bucket policy Deny ${statementLabel(d.statement)} blocks ${who}: it can deny ${d.actions.join(", ")} (for example ${d.detail})`
          : `bucket policy Deny ${statementLabel(d.statement)} may block ${who} (${d.actions.join(", ")}): ${d.detail}`,
      );
    }
  };
  for (const fs of bucketContext.fileSystems) {
    if (!fs.roleArn) {
      notes.push(`${fs.fileSystemId}: its role is not known, so its sync access was not judged`);
      continue;
    }
    const denials = bucketDenials(policy, scope, {
      principalArn: fs.roleArn,
      actions: FILE_SYSTEM_ROLE_ACTIONS,
    });
    report(`the role of file system ${fs.fileSystemId} (${fs.roleArn}), which S3 Files syncs with`, denials);
  }
  const computeRoles = context.config.computeRoleArns.map((arn) =>
    arn.replace(/::\*:/, `::${scope.ownerAccount ?? "*"}:`),
  );
  if (computeRoles.length === 0) {
    notes.push(
      "no compute role is configured (computeRoleArns): the clients' direct reads (s3:GetObject, s3:GetObjectVersion) were not judged; only each file system's own role was",
    );
  }
  for (const role of computeRoles) {
    report(
      `direct reads by the compute role ${role}`,
      bucketDenials(policy, scope, { principalArn: role, actions: DIRECT_READ_ACTIONS }),
    );
  }
}
