/**
 * "Does the edited policy still allow what it must keep?" An edit must not lock out the people the
 * policy is for: every request the current policy allows to a principal of the owner's account or
 * of a trusted account must stay allowed, except what a goal of the edit takes away on purpose:
 * - `ClientRootAccess` by a caller outside the admin principals, when root outside the admins is a goal;
 * - requests without TLS, when enforcing TLS is a goal;
 * - whatever a restored protective Deny refuses.
 * Decided over the whole request space by the solver, like `findWidening`: a proof, or a witness
 * request the evaluator confirms (the current policy allows it, the edited one does not).
 *
 * Anonymous clients, AWS services, organization members and principals of other accounts are not
 * insiders: what an edit takes from them is the edit's purpose (or of no concern here), never a lockout.
 */
import { fileSystemAsker } from "./analysis.ts";
import {
  type PolicyDocument,
  type PolicyStatement,
  sameBesidesPrincipalAndAction,
  sameJson,
  samePrincipalElement,
} from "./document.ts";
import { actionApplies, evaluatePolicy } from "./evaluate.ts";
import {
  accountNamedBy,
  allowedF,
  and,
  anyAllowF,
  anyDenyF,
  type Formula,
  type Frame,
  keyEquals,
  not,
  or,
  type PrincipalKind,
  principalIn,
  sameStatement,
  statementF,
  variablesOf,
  wholeAccountOf,
} from "./formula.ts";
import { classF, FILE_SYSTEM_PUBLIC, type Mentions, type Trust, witnessRequest } from "./questions.ts";
import { clientActions, ownerAccountOf, type PolicyScope, rootActionOf } from "./scope.ts";
import type { Outcome, Witness } from "./solver.ts";

/** What the edit's goals take away on purpose (the fields of `EditGoals` the keep question reads). */
export interface KeepExceptions {
  readonly rootOutsideAdmins: boolean;
  readonly enforceTls: boolean;
  readonly restoreDenies: readonly Readonly<Record<string, unknown>>[];
}

/**
 * Insiders are callers with an account (no anonymous or service frame to ask about), role sessions
 * first: a witness then names the caller an NFS client most often is.
 */
const INSIDER_KINDS: readonly PrincipalKind[] = ["session", "user", "federated", "root"];

const NO_MENTIONS: Mentions = {
  namedAccounts: [],
  fixed: new Map(),
  orgIds: [],
  ipRanges: [],
  userIdRoles: [],
};

/** A Deny that applies only to requests without TLS (`Bool aws:SecureTransport false`, a key always present). */
function deniesOnlyWithoutTls(statement: PolicyStatement): boolean {
  return statement.conditions.some(
    (c) =>
      c.base === "Bool" &&
      c.set === undefined &&
      c.keyLower === "aws:securetransport" &&
      c.values.length > 0 &&
      c.values.every((v) => v.toLowerCase() === "false"),
  );
}

/**
 * Looks for a request of an insider (a principal of the owner's or a trusted account) that `before`
 * allows and `after` does not, outside what `exceptions` take away on purpose: "proved" means the
 * edit locks no insider out.
 *
 * The question is split where the split is exact, as in `findWidening`: a request is lost either
 * because a Deny of `after` not kept verbatim applies to it, or because no Deny of `after` applies
 * and no Allow of `after` does, while an Allow of `before` did; that Allow cannot be one kept
 * verbatim (it would still apply), so only changed and removed Allows are asked about. An Allow
 * that names only other accounts' principals needs no question; one whose edited counterpart
 * differs only in a Principal taking in every insider account and in actions taken out is asked
 * about those actions alone; one whose edited counterpart provably grants every insider request it
 * granted needs no more.
 */
export function findLockout(
  before: PolicyDocument,
  after: PolicyDocument,
  scope: PolicyScope,
  exceptions: KeepExceptions,
): Outcome {
  const vBefore = variablesOf(before);
  const vAfter = variablesOf(after);
  const verbatim = (statement: PolicyStatement, others: readonly PolicyStatement[]) =>
    vBefore === vAfter && others.some((o) => sameStatement(o, statement));
  const restored = after.statements.filter(
    (s) => s.effect === "Deny" && exceptions.restoreDenies.some((d) => sameJson(d, s.raw)),
  );
  // Denies the edit adds on purpose: whatever they refuse is excepted by definition.
  const onPurpose = (deny: PolicyStatement) =>
    restored.includes(deny) || (exceptions.enforceTls && deniesOnlyWithoutTls(deny));
  const newDenies = after.statements.filter(
    (s) => s.effect === "Deny" && !verbatim(s, before.statements) && !onPurpose(s),
  );
  const changedAllows = before.statements.filter(
    (s) => s.effect === "Allow" && !verbatim(s, after.statements),
  );
  if (newDenies.length === 0 && changedAllows.length === 0) return { status: "proved" };

  const trust: Trust = { owner: ownerAccountOf(before, scope), trusted: scope.trustedAccounts };
  if (trust.owner === undefined && trust.trusted.length === 0) return { status: "proved" };
  // The owner and trusted classes read no mentions of the policy.
  const mentions = NO_MENTIONS;
  const insider = (frame: Frame) =>
    or([
      classF("owner", frame, trust, mentions, FILE_SYSTEM_PUBLIC),
      classF("trusted", frame, trust, mentions, FILE_SYSTEM_PUBLIC),
    ]);
  const root = rootActionOf(scope.service);
  const excepted = (frame: Frame): Formula =>
    or([
      exceptions.rootOutsideAdmins && frame.action?.toLowerCase() === root.toLowerCase()
        ? not(principalIn(frame, scope.adminPrincipals))
        : false,
      exceptions.enforceTls ? keyEquals("aws:securetransport", ["false"]) : false,
      ...restored.map((deny) => statementF(deny, frame, vAfter)),
    ]);
  const kept = (frame: Frame) => and([insider(frame), not(excepted(frame))]);
  const insiders = [...(trust.owner ? [trust.owner] : []), ...trust.trusted];
  // No Allow of `before` can reach an insider (each names only other accounts' principals): it
  // allowed no insider anything, so nothing can be taken from one.
  if (before.statements.every((s) => s.effect !== "Allow" || namesOnlyOutsiders(s, insiders)))
    return { status: "proved" };
  const confirm = (witness: Witness) => {
    const { principal } = witness;
    if (principal.kind !== "aws" || !insiders.includes(principal.account)) return false;
    const request = witnessRequest(witness);
    if (evaluatePolicy(before, request).decision !== "allowed") return false;
    const now = evaluatePolicy(after, request);
    if (now.decision === "allowed") return false;
    if (now.deniedBy.some((d) => restored.includes(d))) return false;
    return !(exceptions.enforceTls && witness.context.get("aws:securetransport") === "false");
  };
  // What every question shares (the space, the witness check) is worked out once per kind of check.
  let proves: ReturnType<typeof fileSystemAsker> | undefined;
  let finds: ReturnType<typeof fileSystemAsker> | undefined;
  const ask = (build: (frame: Frame) => Formula, confirmed: boolean, actions?: readonly string[]) => {
    if (confirmed) finds ??= fileSystemAsker([before, after], scope, confirm);
    else proves ??= fileSystemAsker([before, after], scope, () => true);
    const asker = (confirmed ? finds : proves) as ReturnType<typeof fileSystemAsker>;
    // Every question is about requests to keep; a frame with none (e.g. root when it is taken
    // from everyone) builds nothing more.
    return asker(
      (frame) => {
        const keep = kept(frame);
        return keep === false ? false : and([keep, build(frame)]);
      },
      { kinds: INSIDER_KINDS, ...(actions ? { actions } : {}) },
    );
  };
  // Root by an insider is all taken on purpose when no admin principal is an insider.
  const rootAllTaken =
    exceptions.rootOutsideAdmins &&
    !scope.adminPrincipals.some((arn) => {
      const account = accountNamedBy(arn);
      return account === undefined || insiders.includes(account);
    });

  let undecided: Outcome | undefined;
  const settle = (outcome: Outcome): Outcome | undefined => {
    if (outcome.status === "witness") return outcome;
    if (outcome.status === "undecided") undecided = outcome;
    return undefined;
  };
  for (const deny of newDenies) {
    const found = settle(
      ask((frame) => and([statementF(deny, frame, vAfter), allowedF(before, frame)]), true),
    );
    if (found) return found;
  }
  const changedAfter = after.statements.filter(
    (s) => s.effect === "Allow" && !verbatim(s, before.statements),
  );
  for (const allow of changedAllows) {
    // Its Principal names only other accounts' principals: it granted no insider anything.
    if (namesOnlyOutsiders(allow, insiders)) continue;
    const counterparts = changedAfter.filter((s) => s.sid === allow.sid);
    // An edited counterpart that differs only in a Principal taking in every insider account and in
    // actions taken out grants every insider request the statement did, but for those actions
    // (the usual narrowing and root removal): only they are asked about, or none.
    let actions: readonly string[] | undefined;
    if (vBefore === vAfter)
      for (const edited of counterparts) {
        const lost = actionsTakenOut(allow, edited, insiders, clientActions(scope.service));
        if (lost !== undefined && (actions === undefined || lost.length < actions.length)) actions = lost;
      }
    if (rootAllTaken) actions = actions?.filter((a) => a.toLowerCase() !== root.toLowerCase());
    if (actions?.length === 0) continue;
    // Covered by its edited counterpart: a proof is enough, so no evaluator is spent on a request
    // it finds.
    if (
      actions === undefined &&
      counterparts.some(
        (edited) =>
          ask(
            (frame) => and([statementF(allow, frame, vBefore), not(statementF(edited, frame, vAfter))]),
            false,
          ).status === "proved",
      )
    )
      continue;
    const found = settle(
      ask(
        (frame) =>
          and([
            statementF(allow, frame, vBefore),
            not(anyDenyF(before, frame)),
            not(anyDenyF(after, frame)),
            not(anyAllowF(after, frame)),
          ]),
        true,
        actions,
      ),
    );
    if (found) return found;
  }
  return undecided ?? { status: "proved" };
}

/** A statement whose Principal names only fixed principals of accounts outside `insiders`. */
function namesOnlyOutsiders(statement: PolicyStatement, insiders: readonly string[]): boolean {
  if (statement.principals === undefined) return false;
  return statement.principals.every((entry) => {
    if (entry.type !== "AWS") return true;
    if (entry.value.includes("*") || entry.value.includes("?")) return false;
    const account = accountNamedBy(entry.value);
    return account !== undefined && !insiders.includes(account);
  });
}

/**
 * When `edited` is `original` with at most its Principal (or NotPrincipal) replaced by one that
 * takes in every principal of every insider account, and its actions changed: the client actions
 * `original` applied to and `edited` no longer does (for insiders it applies wherever `original`
 * did, for every other action). Undefined when the two differ in anything else.
 */
function actionsTakenOut(
  original: PolicyStatement,
  edited: PolicyStatement,
  insiders: readonly string[],
  actions: readonly string[],
): string[] | undefined {
  if (!sameBesidesPrincipalAndAction(original, edited)) return undefined;
  const samePrincipal = samePrincipalElement(original, edited);
  const principals = edited.principals;
  const takesInInsiders =
    principals !== undefined &&
    insiders.every((account) =>
      principals.some(
        (entry) => entry.type === "AWS" && (entry.value === "*" || wholeAccountOf(entry.value) === account),
      ),
    );
  if (!samePrincipal && !takesInInsiders) return undefined;
  return actions.filter((action) => actionApplies(original, action) && !actionApplies(edited, action));
}
