/**
 * Every judgement the bucket rules make of a bucket policy, behind three functions, each a question
 * to the policy engine's decision procedure (`shared/core/policy`): `judgeBucketPolicyPublic`
 * (public by S3's definition, with a witness request, or not, with a proof), `bucketDenials` (the
 * Deny statements that can deny a principal an action, each with a witness) and
 * `narrowPublicStatements` (the minimal edit, proved to allow nothing the current policy denies).
 * An engine answer of "undecided" (its budget ran out) is reported as such and never taken as safe.
 */
import {
  type BucketWitness,
  bucketDenies,
  judgeBucketPolicy,
  narrowToAccounts,
  type PolicyDocument,
  type PolicyStatement,
  proveBucketNoWidening,
  statementLabel,
} from "../policy/index.ts";
import { matchesAction } from "../policy/match.ts";

/** Whose bucket a policy guards. */
export interface BucketScope {
  readonly bucket: string;
  readonly ownerAccount: string | undefined;
  readonly partition: string;
  /** Accounts besides the owner whose principals a narrowed statement keeps. */
  readonly trustedAccounts: readonly string[];
}

export type PublicJudgement =
  | {
      readonly status: "public";
      /** The statements that make the policy public; the first carries the engine's witness. */
      readonly publicStatements: readonly {
        readonly statement: PolicyStatement;
        readonly witness?: string;
      }[];
      /** Statements that could not be decided either way (reported, never called safe). */
      readonly undecided: readonly { readonly statement: PolicyStatement; readonly reason: string }[];
    }
  | { readonly status: "not-public"; readonly proof: string }
  | {
      readonly status: "undecided";
      readonly undecided: readonly { readonly statement: PolicyStatement; readonly reason: string }[];
    };

function statementsLabelled(document: PolicyDocument, labels: readonly string[]): PolicyStatement[] {
  return document.statements.filter((s) => labels.includes(statementLabel(s)));
}

/** The bucket owner is needed to tell outsiders from the owner's own principals. */
function engineScope(scope: BucketScope) {
  return { bucket: scope.bucket, ownerAccount: scope.ownerAccount ?? "", partition: scope.partition };
}

/** Judges a bucket policy against S3's definition of public. */
export function judgeBucketPolicyPublic(document: PolicyDocument, scope: BucketScope): PublicJudgement {
  if (!scope.ownerAccount) {
    return {
      status: "undecided",
      undecided: document.statements
        .filter((s) => s.effect === "Allow")
        .map((statement) => ({ statement, reason: "the bucket owner's account is not known" })),
    };
  }
  const verdict = judgeBucketPolicy(document, engineScope(scope));
  if (verdict.public === false) return { status: "not-public", proof: verdict.proof };
  if (verdict.public === true) {
    const statements = statementsLabelled(document, verdict.publicStatements);
    return {
      status: "public",
      publicStatements: statements.map((statement) => ({
        statement,
        ...(statementLabel(statement) === verdict.witness.statement
          ? { witness: describeRequest(statement, verdict.witness) }
          : {}),
      })),
      undecided: [],
    };
  }
  // Undecided: the statements shown public so far, and the rest of the Allows, are left for a person.
  const shown = statementsLabelled(document, verdict.publicStatements);
  const rest = document.statements.filter((s) => s.effect === "Allow" && !shown.includes(s));
  return {
    status: "undecided",
    undecided: [...shown, ...rest].map((statement) => ({ statement, reason: verdict.reason })),
  };
}

/** Who a denial check is about, and how their requests reach the bucket. */
export interface DeniedPrincipal {
  readonly principalArn: string;
  readonly actions: readonly string[];
}

export interface Denial {
  readonly statement: PolicyStatement;
  /** The actions the statement names among those asked about. */
  readonly actions: readonly string[];
  /** `denies`: the engine found a request of that principal the statement denies; `may-deny`: undecided. */
  readonly status: "denies" | "may-deny";
  readonly detail: string;
}

function actionsOf(statement: PolicyStatement, asked: readonly string[]): string[] {
  const named = asked.filter((action) =>
    statement.actions
      ? statement.actions.some((p) => matchesAction(p, action))
      : !(statement.notActions ?? []).some((p) => matchesAction(p, action)),
  );
  return named.length > 0 ? named : [...asked];
}

/**
 * The Deny statements that can deny the principal one of the actions on the bucket or its objects.
 * A key the request does not carry is absent, and a negated operator on an absent key is true: the
 * file system's own requests never come through a VPC endpoint of the account, so a Deny "unless
 * aws:SourceVpce is ours" denies them.
 */
export function bucketDenials(document: PolicyDocument, scope: BucketScope, who: DeniedPrincipal): Denial[] {
  const arn = `arn:${scope.partition}:s3:::${scope.bucket}`;
  const found = bucketDenies(document, {
    principalArn: who.principalArn,
    actions: who.actions,
    resources: [arn, `${arn}/*`],
  });
  return found.flatMap((deny): Denial[] => {
    const statement = document.statements[deny.index];
    if (!statement) return [];
    const actions = actionsOf(statement, who.actions);
    return "witness" in deny
      ? [{ statement, actions, status: "denies" as const, detail: withAbsentKeys(statement, deny.witness) }]
      : [{ statement, actions, status: "may-deny" as const, detail: `not decided: ${deny.undecided}` }];
  });
}

/** Context keys every request carries or the caller already names: left out of the words. */
const IMPLIED_KEYS = new Set([
  "aws:principalarn",
  "aws:principalaccount",
  "aws:principaltype",
  "aws:userid",
  "aws:username",
]);

/**
 * A witness request in words: the action (spelt as the statement spells it), the resource, the
 * caller and the context values that matter; `aws:SecureTransport` only when it is false.
 */
function describeRequest(statement: PolicyStatement, witness: BucketWitness): string {
  const lower = witness.action.toLowerCase();
  const action = statement.actions?.find((a) => a.toLowerCase() === lower) ?? witness.action;
  const caller = witness.principal === "anonymous" ? "an anonymous caller" : `${witness.principal}`;
  const values = Object.entries(witness.context)
    .filter(([key, value]) => !IMPLIED_KEYS.has(key) && !(key === "aws:securetransport" && value === "true"))
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(",") : value}`);
  return `${action} on ${witness.resource} by ${caller}${values.length > 0 ? ` with ${values.join(", ")}` : ""}`;
}

/**
 * A Deny's witness in words, naming the condition keys of the statement the witness request does
 * not carry: the reason a negated condition on them holds.
 */
function withAbsentKeys(statement: PolicyStatement, witness: BucketWitness): string {
  const carried = new Set(Object.keys(witness.context).map((k) => k.toLowerCase()));
  const absent = [...new Set(statement.conditions.filter((c) => !carried.has(c.keyLower)).map((c) => c.key))];
  const request = describeRequest(statement, witness);
  return absent.length === 0
    ? request
    : `${request}, with ${absent.join(", ")} absent from the request (a negated condition on an absent key is true)`;
}

export interface BucketPolicyEdit {
  /** The edited policy as it will be sent (compact JSON). */
  readonly text: string;
  readonly changes: readonly string[];
  /** Why the edit cannot widen access, and why it meets its goal. */
  readonly proof: string;
}

/**
 * Narrows the public statements (and nothing else) to the owner and trusted accounts through their
 * Principal element, proves the edit allows no S3 request on the bucket that the current policy
 * denies (a dropped Deny counts), and that the edited policy is not public. `failure` says why no
 * edit could be proved.
 */
export function narrowPublicStatements(
  document: PolicyDocument,
  statements: readonly PolicyStatement[],
  scope: BucketScope,
): { readonly edit?: BucketPolicyEdit; readonly failure?: string } {
  if (!scope.ownerAccount) return { failure: "the bucket owner's account is not known" };
  const accounts = [scope.ownerAccount, ...scope.trustedAccounts];
  const narrowed = narrowToAccounts(
    document,
    statements.map((s) => s.index),
    accounts,
    scope.partition,
  );
  if (!narrowed) return { failure: "the edited policy would exceed the size S3 accepts" };
  const widening = proveBucketNoWidening(document, narrowed.policy, engineScope(scope));
  if (!widening.ok) return { failure: `the edit could widen access: ${widening.failure}` };
  const after = judgeBucketPolicy(narrowed.policy, engineScope(scope));
  if (after.public !== false) {
    return {
      failure:
        after.public === true
          ? `after the edit ${after.publicStatements.join(", ")} would still be public`
          : `the edited policy could not be proved non-public (${after.reason})`,
    };
  }
  return {
    edit: {
      text: narrowed.text,
      changes: narrowed.changes,
      proof:
        "proved over every S3 request on the bucket to allow nothing the current policy denies, and no longer public",
    },
  };
}
