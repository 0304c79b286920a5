/**
 * Properties of the decision procedure on generated adversarial policies (no solver of our own):
 * every witness it gives is a request the evaluator allows; an edit it proves is never wider on
 * random concrete requests of every kind of caller; and wildcard matching does work linear in the
 * text, counted in automaton steps (never timed).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob, globMatches, startState, stepState } from "../../../shared/core/policy/glob.ts";
import { evaluatePolicy, policyFromJson, principalContext } from "../../../shared/core/policy/index.ts";
import {
  adversarialCaseArb,
  concreteRequestArb,
  generatedFileSystemArn,
} from "../../helpers/policy-arbitraries.ts";
import { engineScopeOf, QUESTIONS } from "../../oracle/differential.ts";
import { decisionEngine } from "../../oracle/engine-under-test.ts";

const RANK = { allowed: 2, "implicit-deny": 1, "explicit-deny": 0 } as const;

describe("decision procedure properties", () => {
  it("every witness is a request the evaluator allows", () => {
    let witnesses = 0;
    fc.assert(
      fc.property(adversarialCaseArb, (c) => {
        // Act
        const judgement = decisionEngine.judge(c.policy, engineScopeOf(c));
        // Assess
        for (const q of QUESTIONS) {
          const answer = judgement[q];
          if (answer.kind !== "witness" || !answer.request) continue;
          witnesses++;
          expect(decisionEngine.decide(c.policy, answer.request, generatedFileSystemArn(c.service))).toBe(
            "allowed",
          );
        }
      }),
      { numRuns: 150, seed: 81 },
    );
    expect(witnesses).toBeGreaterThan(50);
  });

  it("a proved edit is never wider, on random concrete requests of every kind of caller", () => {
    let edits = 0;
    const caseWithRequests = adversarialCaseArb.chain((c) =>
      fc.tuple(fc.constant(c), fc.array(concreteRequestArb(c.service), { minLength: 30, maxLength: 30 })),
    );
    fc.assert(
      fc.property(caseWithRequests, ([c, requests]) => {
        // Prepare
        const scope = engineScopeOf(c);
        let edit: ReturnType<typeof decisionEngine.edit>;
        try {
          edit = decisionEngine.edit(c.policy, scope);
        } catch {
          return; // left for a person (no account to narrow to, or undecided): nothing is applied
        }
        if (!edit?.proved) return;
        edits++;
        const before = policyFromJson(c.policy);
        const after = policyFromJson(edit.edited);
        // Act / Assess
        for (const r of requests) {
          const request = {
            principal: r.principal,
            action: r.action,
            resource: generatedFileSystemArn(c.service),
            context: principalContext(r.principal, Object.entries(r.context)),
          };
          const was = evaluatePolicy(before, request).decision;
          const now = evaluatePolicy(after, request).decision;
          expect(RANK[now], `${JSON.stringify(r)}: ${was} → ${now}`).toBeLessThanOrEqual(RANK[was]);
        }
      }),
      { numRuns: 120, seed: 82 },
    );
    expect(edits).toBeGreaterThan(10);
  });
});

/** Automaton steps to match `text`: the positions held after each character, summed. */
function stepsToMatch(pattern: string, text: string): { steps: number; matched: boolean } {
  const glob = compileGlob(pattern, "like");
  let state = startState(glob);
  let steps = state.length;
  for (const ch of text) {
    state = stepState(glob, state, ch);
    steps += state.length;
  }
  return { steps, matched: state.includes(glob.tokens.length) };
}

/** Reference matcher: dynamic programming over (pattern, text) prefixes, for `*` and `?`. */
function referenceMatch(pattern: string, text: string): boolean {
  let row = Array<boolean>(text.length + 1).fill(false);
  row[0] = true;
  for (const p of pattern) {
    const next = Array<boolean>(text.length + 1).fill(false);
    if (p === "*") next[0] = row[0] as boolean;
    for (let j = 1; j <= text.length; j++) {
      if (p === "*") next[j] = (row[j] as boolean) || (next[j - 1] as boolean);
      else next[j] = (row[j - 1] as boolean) && (p === "?" || p === text[j - 1]);
    }
    row = next;
  }
  return row[text.length] as boolean;
}

describe("wildcard matching is linear", () => {
  it("on `*a*a…*b` against `aaa…`, steps grow linearly with the text (at most pattern size per character)", () => {
    // Prepare: the shape that makes a backtracking RegExp take exponential time.
    const pattern = `${"*a".repeat(20)}*b`;
    const counts = [1_000, 2_000, 4_000, 8_000].map((n) => stepsToMatch(pattern, "a".repeat(n)));
    // Assess
    for (const [i, { steps, matched }] of counts.entries()) {
      const n = 1_000 * 2 ** i;
      expect(matched).toBe(false);
      expect(steps).toBeLessThanOrEqual((n + 1) * (pattern.length + 1));
    }
    for (let i = 1; i < counts.length; i++) {
      const ratio = (counts[i]?.steps as number) / (counts[i - 1]?.steps as number);
      expect(ratio).toBeLessThan(2.01);
    }
    expect(globMatches(compileGlob(pattern, "like"), `${"a".repeat(8_000)}b`)).toBe(true);
  });

  it("agrees with a reference matcher, within the step bound, on random patterns and texts", () => {
    const alphabet = fc.constantFrom("a", "b", ":", "*", "?");
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 12 }).map((p) => p.join("")),
        fc.array(fc.constantFrom("a", "b", ":"), { maxLength: 40 }).map((t) => t.join("")),
        (pattern, text) => {
          const { steps, matched } = stepsToMatch(pattern, text);
          expect(matched).toBe(referenceMatch(pattern, text));
          expect(globMatches(compileGlob(pattern, "like"), text)).toBe(matched);
          expect(steps).toBeLessThanOrEqual((text.length + 1) * (pattern.length + 1));
        },
      ),
      { numRuns: 1_000, seed: 83 },
    );
  });
});
