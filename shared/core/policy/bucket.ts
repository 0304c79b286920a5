/**
 * S3 bucket policies on the same engine: is a bucket policy public by S3's own definition (which
 * differs from EFS's), which Deny statements can block a given principal, and does an edit widen.
 */
import { type PolicyDocument, statementLabel } from "./document.ts";
import { evaluatePolicy } from "./evaluate.ts";
import {
  actionLike,
  and,
  anyDenyF,
  type Formula,
  type Frame,
  not,
  PRINCIPAL_KINDS,
  resourceLike,
  statementF,
  variablesOf,
} from "./formula.ts";
import { fixedPrincipalOf } from "./identity.ts";
import {
  BUCKET_PUBLIC,
  classF,
  confirmWitness,
  describeWitness,
  mentionsOf,
  witnessRequest,
} from "./questions.ts";
import { findRequest, multivaluedKeysOf, type Outcome, type Witness } from "./solver.ts";
import { findWidening } from "./widening.ts";

export interface BucketScope {
  readonly bucket: string;
  readonly ownerAccount: string;
  readonly partition: string;
}

export interface BucketWitness {
  readonly action: string;
  readonly resource: string;
  /** `statementLabel` of the statement the witness is about. */
  readonly statement: string;
  /** The caller: its ARN, `anonymous`, or the service principal. */
  readonly principal: string;
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  readonly description: string;
}

export type BucketPublicVerdict =
  | { readonly public: false; readonly proof: string }
  | { readonly public: true; readonly publicStatements: readonly string[]; readonly witness: BucketWitness }
  | { readonly public: "undecided"; readonly reason: string; readonly publicStatements: readonly string[] };

function bucketResources(scope: BucketScope): string[] {
  const arn = `arn:${scope.partition}:s3:::${scope.bucket}`;
  return [arn, `${arn}/*`];
}

function callerText(witness: Witness): string {
  const p = witness.principal;
  return p.kind === "anonymous" ? "anonymous" : p.kind === "service" ? p.service : p.arn;
}

function toBucketWitness(witness: Witness, statement: string): BucketWitness {
  return {
    action: witness.action,
    resource: witness.resource ?? "",
    statement,
    principal: callerText(witness),
    context: Object.fromEntries(witness.context),
    description: `${witness.action} on ${witness.resource} by ${describeWitness(witness)}`,
  };
}

/**
 * Public by S3's definition ("The meaning of public"): some Allow lets a caller no Principal names
 * (anonymous, or any principal of an unnamed account) do an S3 action on the bucket or its objects,
 * with no fixed value of a key on S3's list, and no Deny takes it back.
 */
export function judgeBucketPolicy(document: PolicyDocument, scope: BucketScope): BucketPublicVerdict {
  const mentions = mentionsOf([document], BUCKET_PUBLIC);
  const trust = { owner: scope.ownerAccount, trusted: [] };
  const resources = bucketResources(scope);
  const space = {
    partition: scope.partition,
    kinds: PRINCIPAL_KINDS.filter((k) => k !== "service"),
    actions: undefined,
    resource: undefined,
  };
  const publicStatements: string[] = [];
  let first: BucketWitness | undefined;
  let undecided: string | undefined;
  for (const statement of document.statements) {
    if (statement.effect !== "Allow") continue;
    const build = (frame: Frame): Formula =>
      and([
        actionLike(frame, ["s3:*"]),
        resourceLike(frame, resources, "like"),
        statementF(statement, frame, variablesOf(document)),
        not(anyDenyF(document, frame)),
        classF("public", frame, trust, mentions, BUCKET_PUBLIC),
      ]);
    const outcome = findRequest(space, build, {
      confirm: confirmWitness(
        [document],
        (w) => evaluatePolicy(document, witnessRequest(w)).decision === "allowed",
      ),
      multivalued: multivaluedKeysOf([document]),
    });
    if (outcome.status === "witness") {
      publicStatements.push(statementLabel(statement));
      first ??= toBucketWitness(outcome.witness, statementLabel(statement));
    } else if (outcome.status === "undecided") undecided = outcome.reason;
  }
  if (first) return { public: true, publicStatements, witness: first };
  if (undecided !== undefined) return { public: "undecided", reason: undecided, publicStatements };
  return {
    public: false,
    proof: `no S3 request on ${scope.bucket} by an anonymous caller or an unnamed account, without a fixed value of a key on S3's list, is allowed: proved over every action, object, caller and context value`,
  };
}

export interface BucketDenyQuery {
  /** The principal that must not be blocked (e.g. the file system's role). */
  readonly principalArn: string;
  readonly actions: readonly string[];
  /** Bucket and object ARNs (a `*` in one is read as "some object"). */
  readonly resources: readonly string[];
}

export type BucketDeny =
  | { readonly statement: string; readonly index: number; readonly witness: BucketWitness }
  | { readonly statement: string; readonly index: number; readonly undecided: string };

/**
 * The Deny statements that can deny this principal one of these actions on one of these resources,
 * each with a witness request. Absent keys count as absent: `StringNotEquals` on a key the request
 * does not carry is true, so such a Deny is reported (the safe reading for "can it block?").
 */
export function bucketDenies(document: PolicyDocument, query: BucketDenyQuery): readonly BucketDeny[] {
  const principal = fixedPrincipalOf(query.principalArn);
  const partition = query.principalArn.split(":")[1] ?? "aws";
  const out: BucketDeny[] = [];
  for (const statement of document.statements) {
    if (statement.effect !== "Deny") continue;
    const label = statementLabel(statement);
    const space = {
      partition,
      kinds: principal ? [principal.kind] : PRINCIPAL_KINDS,
      ...(principal ? { fixedPrincipal: principal } : {}),
      actions: query.actions,
      resource: undefined,
    };
    const build = (frame: Frame): Formula =>
      and([
        resourceLike(frame, query.resources, "like"),
        statementF(statement, frame, variablesOf(document)),
      ]);
    const outcome = findRequest(space, build, {
      confirm: confirmWitness([document], (w) =>
        evaluatePolicy(document, witnessRequest(w)).deniedBy.includes(statement),
      ),
      multivalued: multivaluedKeysOf([document]),
    });
    if (outcome.status === "witness")
      out.push({
        statement: label,
        index: statement.index,
        witness: toBucketWitness(outcome.witness, label),
      });
    else if (outcome.status === "undecided")
      out.push({ statement: label, index: statement.index, undecided: outcome.reason });
  }
  return out;
}

/**
 * Does `after` allow any S3 request on the bucket that `before` does not (or drop a Deny that
 * applied)? Over every principal kind, every S3 action, the bucket and every object.
 */
export function proveBucketNoWidening(
  before: PolicyDocument,
  after: PolicyDocument,
  scope: BucketScope,
):
  | { readonly ok: true }
  | { readonly ok: false; readonly failure: string; readonly witness?: BucketWitness } {
  const outcome: Outcome = findWidening(
    before,
    after,
    { partition: scope.partition, kinds: PRINCIPAL_KINDS, actions: undefined, resource: undefined },
    (frame) => and([actionLike(frame, ["s3:*"]), resourceLike(frame, bucketResources(scope), "like")]),
  );
  if (outcome.status === "proved") return { ok: true };
  if (outcome.status === "undecided") return { ok: false, failure: outcome.reason };
  const w = outcome.witness;
  const request = witnessRequest(w);
  const was = evaluatePolicy(before, request).decision;
  const now = evaluatePolicy(after, request).decision;
  return {
    ok: false,
    failure: `${w.action} on ${w.resource} by ${describeWitness(w)} would be ${now} instead of ${was}`,
    witness: toBucketWitness(w, ""),
  };
}
