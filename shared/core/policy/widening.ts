/**
 * "Does the edited policy allow any request the current one does not?" over the whole request
 * space, for any policy kind. Decisions are ranked allowed > implicitly denied > explicitly denied:
 * an explicit Deny must stay one, since without it an identity policy could allow the request
 * (dropping a Deny counts as widening).
 */
import {
  type PolicyDocument,
  type PolicyStatement,
  sameBesidesPrincipalAndAction,
  samePrincipalElement,
} from "./document.ts";
import { actionApplies, decisionRank, evaluatePolicy } from "./evaluate.ts";
import {
  andThen,
  anyAllowF,
  anyDenyF,
  type Formula,
  type Frame,
  not,
  sameStatement,
  statementF,
  variablesOf,
} from "./formula.ts";
import { confirmWitness, describeWitness, witnessRequest } from "./questions.ts";
import { findRequest, multivaluedKeysOf, type Outcome, type SearchSpace, type Witness } from "./solver.ts";

/** A request that `after` decides more permissively than `before`, in words. */
export function describeWidening(before: PolicyDocument, after: PolicyDocument, witness: Witness): string {
  const request = witnessRequest(witness);
  const was = evaluatePolicy(before, request).decision;
  const now = evaluatePolicy(after, request).decision;
  return `${witness.action} by ${describeWitness(witness)} would be ${now} instead of ${was}`;
}

/** `narrowed` names no caller `original` does not: `original` names everyone, or both name the same. */
function principalsCovered(narrowed: PolicyStatement, original: PolicyStatement): boolean {
  if (original.principals?.some((entry) => entry.type === "AWS" && entry.value === "*"))
    return narrowed.principals !== undefined;
  return samePrincipalElement(narrowed, original);
}

/**
 * `narrowed` applies to no action `original` does not: each of its Action patterns is one of
 * `original`'s or a single action `original` applies to; or it excludes every action `original`'s
 * NotAction does (and maybe more).
 */
function actionsCovered(narrowed: PolicyStatement, original: PolicyStatement): boolean {
  if (narrowed.actions && original.actions) {
    const patterns = original.actions;
    return narrowed.actions.every(
      (p) => patterns.includes(p) || (!p.includes("*") && !p.includes("?") && actionApplies(original, p)),
    );
  }
  if (narrowed.notActions && original.notActions) {
    const excluded = narrowed.notActions;
    return original.notActions.every((p) => excluded.includes(p));
  }
  return false;
}

/**
 * `narrowed` applies to no request `original` does not, read off the two texts: they are equal but
 * for the Principal and Action elements, and those of `narrowed` are covered by `original`'s (see
 * above). This is the shape of every edit of a statement (a Principal narrowed, root access taken
 * out of its actions); anything else is left to the solver.
 */
function coveredByElements(narrowed: PolicyStatement, original: PolicyStatement): boolean {
  return (
    narrowed.effect === original.effect &&
    principalsCovered(narrowed, original) &&
    actionsCovered(narrowed, original) &&
    sameBesidesPrincipalAndAction(narrowed, original)
  );
}

/**
 * Looks for a request of `space` (restricted by `domain`) that `after` decides more permissively
 * than `before`: "proved" means the edit grants nothing new.
 *
 * The question is split where the split is exact, so an edit of a few statements is proved with
 * small questions: `after` drops an explicit Deny exactly when some Deny of `before` applies and no
 * Deny of `after` does (a Deny kept verbatim cannot); once no Deny is dropped, `after` allows more
 * exactly when one of its Allows applies, no Deny of `after` applies and no Allow of `before` does
 * (an Allow kept verbatim cannot, and an Allow covered by one Allow of `before` cannot either).
 */
export function findWidening(
  before: PolicyDocument,
  after: PolicyDocument,
  space: SearchSpace,
  domain: (frame: Frame) => Formula = () => true,
): Outcome {
  const confirm = confirmWitness([before, after], (witness) => {
    const request = witnessRequest(witness);
    return (
      decisionRank(evaluatePolicy(after, request).decision) >
      decisionRank(evaluatePolicy(before, request).decision)
    );
  });
  const options = { confirm, multivalued: multivaluedKeysOf([before, after]) };
  const vBefore = variablesOf(before);
  const vAfter = variablesOf(after);
  const ask = (build: (frame: Frame) => Formula) =>
    findRequest(space, (frame) => andThen(domain(frame), () => [build(frame)]), options);
  // Whether one Allow covers another needs only a proof: any request found ends the question, and
  // confirming it with the evaluator (both whole policies, for every kind of caller) would be spent.
  const proves = (build: (frame: Frame) => Formula) =>
    findRequest(space, (frame) => andThen(domain(frame), () => [build(frame)]), {
      multivalued: options.multivalued,
    }).status === "proved";
  let undecided: Outcome | undefined;
  const denies = (doc: PolicyDocument) => doc.statements.filter((s) => s.effect === "Deny");
  const allows = (doc: PolicyDocument) => doc.statements.filter((s) => s.effect === "Allow");
  const deniesAfter = denies(after);
  const allowsBefore = allows(before);
  for (const deny of denies(before)) {
    if (deniesAfter.some((d) => sameStatement(d, deny) && vBefore === vAfter)) continue;
    const outcome = ask((frame) =>
      andThen(statementF(deny, frame, vBefore), () => [not(anyDenyF(after, frame))]),
    );
    if (outcome.status === "witness") return outcome;
    if (outcome.status === "undecided") undecided = outcome;
  }
  for (const allow of allows(after)) {
    if (allowsBefore.some((a) => sameStatement(a, allow) && vBefore === vAfter)) continue;
    const grants = (frame: Frame) =>
      andThen(statementF(allow, frame, vAfter), () => [not(anyDenyF(after, frame))]);
    // Covered by one Allow of `before` (e.g. the statement it was narrowed from): nothing new.
    const candidates = [...allowsBefore].sort(
      (a, b) =>
        Number(b.sid === allow.sid && b.index === allow.index) -
        Number(a.sid === allow.sid && a.index === allow.index),
    );
    let covered = candidates.some((original) => vBefore === vAfter && coveredByElements(allow, original));
    for (const original of covered ? [] : candidates) {
      if (proves((frame) => andThen(grants(frame), () => [not(statementF(original, frame, vBefore))]))) {
        covered = true;
        break;
      }
    }
    if (covered) continue;
    const outcome = ask((frame) => andThen(grants(frame), () => [not(anyAllowF(before, frame))]));
    if (outcome.status === "witness") return outcome;
    if (outcome.status === "undecided") undecided = outcome;
  }
  return undecided ?? { status: "proved" };
}
