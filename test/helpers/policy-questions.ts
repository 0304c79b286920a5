/** The public-mount question as the solver tests ask it, and the witness of an outcome. */
import { expect } from "vitest";
import { allowedF, and, PRINCIPAL_KINDS } from "../../shared/core/policy/formula.ts";
import { evaluatePolicy, type PolicyDocument } from "../../shared/core/policy/index.ts";
import {
  classF,
  confirmWitness,
  FILE_SYSTEM_PUBLIC,
  mentionsOf,
  witnessRequest,
} from "../../shared/core/policy/questions.ts";
import { findRequest, multivaluedKeysOf, type Outcome } from "../../shared/core/policy/solver.ts";
import { OWNER, S3FS_ARN } from "./policies.ts";

export const MOUNT = "s3files:ClientMount";

/** "Is some outsider without a fixed-value limit allowed to mount?" with the witness checked by the evaluator. */
export function publicMount(doc: PolicyDocument): Outcome {
  const mentions = mentionsOf([doc], FILE_SYSTEM_PUBLIC);
  const outcome = findRequest(
    { partition: "aws", kinds: PRINCIPAL_KINDS, actions: [MOUNT], resource: S3FS_ARN },
    (frame) =>
      and([
        allowedF(doc, frame),
        classF("public", frame, { owner: OWNER, trusted: [] }, mentions, FILE_SYSTEM_PUBLIC),
      ]),
    {
      multivalued: multivaluedKeysOf([doc]),
      confirm: confirmWitness([doc], (w) => evaluatePolicy(doc, witnessRequest(w)).decision === "allowed"),
    },
  );
  if (outcome.status === "witness")
    expect(evaluatePolicy(doc, witnessRequest(outcome.witness)).decision).toBe("allowed");
  return outcome;
}

export function witnessOf(outcome: Outcome) {
  if (outcome.status !== "witness") throw new Error(`expected a witness, got ${JSON.stringify(outcome)}`);
  return outcome.witness;
}
