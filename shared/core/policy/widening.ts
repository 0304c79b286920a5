/**
 * "Does the edited policy allow any request the current one does not?" over the whole request
 * space, for any policy kind. Decisions are ranked allowed > implicitly denied > explicitly denied:
 * an explicit Deny must stay one, since without it an identity policy could allow the request
 * (dropping a Deny counts as widening).
 */
import type { PolicyDocument } from "./document.ts";
import { decisionRank, evaluatePolicy } from "./evaluate.ts";
import { allowedF, and, anyDenyF, type Formula, type Frame, not, or } from "./formula.ts";
import { confirmWitness, describeWitness, witnessRequest } from "./questions.ts";
import { findRequest, multivaluedKeysOf, type Outcome, type SearchSpace, type Witness } from "./solver.ts";

/** A request that `after` decides more permissively than `before`, in words. */
export function describeWidening(before: PolicyDocument, after: PolicyDocument, witness: Witness): string {
  const request = witnessRequest(witness);
  const was = evaluatePolicy(before, request).decision;
  const now = evaluatePolicy(after, request).decision;
  return `${witness.action} by ${describeWitness(witness)} would be ${now} instead of ${was}`;
}

/**
 * Looks for a request of `space` (restricted by `domain`) that `after` decides more permissively
 * than `before`: "proved" means the edit grants nothing new.
 */
export function findWidening(
  before: PolicyDocument,
  after: PolicyDocument,
  space: SearchSpace,
  domain: (frame: Frame) => Formula = () => true,
): Outcome {
  const build = (frame: Frame): Formula =>
    and([
      domain(frame),
      or([
        and([allowedF(after, frame), not(allowedF(before, frame))]),
        and([anyDenyF(before, frame), not(anyDenyF(after, frame))]),
      ]),
    ]);
  const confirm = confirmWitness([before, after], (witness) => {
    const request = witnessRequest(witness);
    return (
      decisionRank(evaluatePolicy(after, request).decision) >
      decisionRank(evaluatePolicy(before, request).decision)
    );
  });
  return findRequest(space, build, { confirm, multivalued: multivaluedKeysOf([before, after]) });
}
