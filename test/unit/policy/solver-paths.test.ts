/**
 * The value solver's direct paths (fixed values checked as texts, patterns united in one automaton,
 * numbers, dates and addresses decided by one sweep) give the general path's answers: on generated
 * condition clauses (parsed from synthetic policies, each clause possibly negated as a Deny would
 * be), both paths agree on "some value" or "none", every value found holds for every atom by the
 * evaluator's own comparison, and a value a brute-force enumeration finds is never missed. Never
 * timed: the large cases are decided within a step budget, the guard the solver keeps.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ElemAtom, KeyLit } from "../../../shared/core/policy/formula.ts";
import { atomHolds, clauseLit, not } from "../../../shared/core/policy/formula.ts";
import { Automaton, compileGlob, globMatches } from "../../../shared/core/policy/glob.ts";
import { policyFromJson } from "../../../shared/core/policy/index.ts";
import { solveValue, type ValueCheck } from "../../../shared/core/policy/solver.ts";

const KEY = "aws:SourceVpce";

interface GeneratedClause {
  readonly operator: string;
  readonly values: readonly string[];
  /** Negated as a Deny's condition is in "no Deny applies". */
  readonly negate: boolean;
}

/** The clause as the solver sees it: the key literal parsed from a one-statement policy. */
function literalOf(clause: GeneratedClause): KeyLit {
  const policy = policyFromJson({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: "*",
        Action: "*",
        Condition: { [clause.operator]: { [KEY]: clause.values } },
      },
    ],
  });
  const lit = clauseLit(policy.statements[0]?.conditions[0] as never, false);
  return clause.negate ? (not(lit) as KeyLit) : lit;
}

/** A present single value: an AND literal's atoms all hold (units), an OR literal's one of them (a clause). */
function cnfOf(clauses: readonly GeneratedClause[]) {
  const units: ElemAtom[] = [];
  const cnf: ElemAtom[][] = [];
  for (const clause of clauses) {
    const lit = literalOf(clause);
    if (lit.and || lit.atoms.length === 1) units.push(...lit.atoms);
    else cnf.push([...lit.atoms]);
  }
  return { units, clauses: cnf };
}

function holdsAll(units: readonly ElemAtom[], clauses: readonly (readonly ElemAtom[])[], value: string) {
  return units.every((a) => atomHolds(a, value)) && clauses.every((c) => c.some((a) => atomHolds(a, value)));
}

function expectSameAnswer(units: readonly ElemAtom[], clauses: readonly (readonly ElemAtom[])[]): ValueCheck {
  // Act
  const direct = solveValue(units, clauses, "direct");
  const general = solveValue(units, clauses, "general");
  // Assess
  expect(direct.status).toBe(general.status);
  if (direct.status === "sat") expect(holdsAll(units, clauses, direct.value as string)).toBe(true);
  if (general.status === "sat") expect(holdsAll(units, clauses, general.value as string)).toBe(true);
  return direct;
}

const clauseArb = (operators: readonly string[], values: readonly string[]) =>
  fc.record({
    operator: fc.constantFrom(...operators),
    values: fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 4 }),
    negate: fc.boolean(),
  });

const STRING_OPERATORS = [
  "StringEquals",
  "StringNotEquals",
  "StringLike",
  "StringNotLike",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "ArnLike",
  "ArnNotLike",
  "ArnEquals",
];
const STRING_VALUES = [
  "a",
  "ab",
  "b",
  "A",
  "aB",
  "ba",
  "a*",
  "*b",
  "?",
  "a?",
  "*",
  "a*b",
  "*a*",
  "??",
  "a:b:c:d:e:f",
  "a:*:c:*:e:*",
  "*:*:*:*:*:f*",
  "*:b:*",
  "a:b:c:d:e:f:g",
];

/** Every string over a small alphabet up to `length` characters (the patterns' letters, both cases, `:` and one other). */
function* shortStrings(length: number): Generator<string> {
  const alphabet = ["a", "b", "A", "B", ":", "x"];
  let layer = [""];
  yield "";
  for (let n = 1; n <= length; n++) {
    const next: string[] = [];
    for (const prefix of layer) for (const ch of alphabet) next.push(prefix + ch);
    yield* next;
    layer = next;
  }
}

describe("the value solver's direct paths agree with its general path", () => {
  it("patterns and fixed values, matched and not, case-insensitive and ARN-shaped", () => {
    let sat = 0;
    let unsat = 0;
    fc.assert(
      fc.property(
        fc.array(clauseArb(STRING_OPERATORS, STRING_VALUES), { minLength: 1, maxLength: 4 }),
        (generated) => {
          // Prepare
          const { units, clauses } = cnfOf(generated);
          // Act / Assess
          const answer = expectSameAnswer(units, clauses);
          if (answer.status === "sat") sat++;
          else {
            unsat++;
            // Nothing short that the evaluator accepts was missed.
            for (const text of shortStrings(4)) expect(holdsAll(units, clauses, text), text).toBe(false);
          }
        },
      ),
      { numRuns: 300, seed: 91 },
    );
    expect(sat).toBeGreaterThan(50);
    expect(unsat).toBeGreaterThan(30);
  });

  it("fixed values among many (the direct path enumerates them)", () => {
    const values = [...Array(12).keys()].map((i) => `v${i}`);
    fc.assert(
      fc.property(
        fc.array(
          clauseArb(
            ["StringEquals", "StringNotEquals", "StringLike", "StringNotLike"],
            [...values, "v1*", "*1", "v?"],
          ),
          {
            minLength: 2,
            maxLength: 5,
          },
        ),
        (generated) => {
          const { units, clauses } = cnfOf(generated);
          expectSameAnswer(units, clauses);
        },
      ),
      { numRuns: 200, seed: 92 },
    );
  });

  it("numbers: equalities and inequalities, matched and not", () => {
    const operators = [
      "NumericEquals",
      "NumericNotEquals",
      "NumericLessThan",
      "NumericLessThanEquals",
      "NumericGreaterThan",
      "NumericGreaterThanEquals",
    ];
    fc.assert(
      fc.property(
        fc.array(clauseArb(operators, ["-1", "0", "1", "1.5", "2", "10", "1e3", " 7 "]), {
          minLength: 1,
          maxLength: 5,
        }),
        (generated) => {
          const { units, clauses } = cnfOf(generated);
          expectSameAnswer(units, clauses);
        },
      ),
      { numRuns: 300, seed: 93 },
    );
  });

  it("dates, ISO 8601 and epoch seconds", () => {
    const operators = [
      "DateEquals",
      "DateNotEquals",
      "DateLessThan",
      "DateLessThanEquals",
      "DateGreaterThan",
      "DateGreaterThanEquals",
    ];
    const dates = [
      "2020-01-01T00:00:00Z",
      "2020-01-01",
      "1577836800",
      "1577836801",
      "2021-06-01T12:00:00Z",
      "1577836800.5",
    ];
    fc.assert(
      fc.property(fc.array(clauseArb(operators, dates), { minLength: 1, maxLength: 5 }), (generated) => {
        const { units, clauses } = cnfOf(generated);
        expectSameAnswer(units, clauses);
      }),
      { numRuns: 300, seed: 94 },
    );
  });

  it("addresses: ranges of both versions, matched and not", () => {
    const ranges = [
      "10.0.0.0/8",
      "10.1.0.0/16",
      "10.1.2.3",
      "0.0.0.0/0",
      "::/0",
      "2001:db8::/32",
      "2001:db8::1",
      "192.168.0.0/24",
      "10.255.255.255/32",
      "0.0.0.0/1",
    ];
    fc.assert(
      fc.property(
        fc.array(clauseArb(["IpAddress", "NotIpAddress"], ranges), { minLength: 1, maxLength: 5 }),
        (generated) => {
          const { units, clauses } = cnfOf(generated);
          expectSameAnswer(units, clauses);
        },
      ),
      { numRuns: 300, seed: 95 },
    );
  });
});

describe("large clauses are decided within a small step budget", () => {
  const cnf = (...clauses: GeneratedClause[]) => cnfOf(clauses);
  const many = (n: number, f: (i: number) => string) => [...Array(n).keys()].map(f);

  it("700 fixed values allowed and the same 700 denied: no value, in a few thousand steps", () => {
    const values = many(700, (i) => `vpc-${i.toString(16).padStart(8, "0")}`);
    const { units, clauses } = cnf(
      { operator: "StringEquals", values, negate: false },
      { operator: "StringEquals", values, negate: true },
    );
    expect(solveValue(units, clauses, "direct", 5_000).status).toBe("unsat");
  });

  it("300 patterns allowed, 300 others required: a value both allow", () => {
    const allowed = many(300, (i) => (i % 2 === 0 ? `vpc-${i}*` : `*-${i}?e`));
    const required = many(300, (i) => (i % 2 === 0 ? `vpc-?${i}*` : `*${i}-*`));
    const { units, clauses } = cnf(
      { operator: "StringLike", values: allowed, negate: false },
      { operator: "StringNotLike", values: required, negate: true },
    );
    const answer = solveValue(units, clauses, "direct", 200_000);
    expect(answer.status).toBe("sat");
    if (answer.status === "sat") expect(holdsAll(units, clauses, answer.value as string)).toBe(true);
  });

  it("300 patterns required and the same 300 excluded: no value, without searching", () => {
    const patterns = many(300, (i) => `*${i}*-${i}?`);
    const { units, clauses } = cnf(
      { operator: "StringLike", values: patterns, negate: false },
      { operator: "StringLike", values: patterns, negate: true },
    );
    expect(solveValue(units, clauses, "direct", 100).status).toBe("unsat");
  });

  it("1,000 address ranges on both sides: decided by one sweep", () => {
    const ranges = many(1_000, (i) => `10.${i >> 8}.${i & 255}.0/24`);
    const { units, clauses } = cnf(
      { operator: "IpAddress", values: ranges.slice(0, 500), negate: false },
      { operator: "NotIpAddress", values: ranges.slice(500), negate: true },
    );
    expect(solveValue(units, clauses, "direct", 5_000).status).toBe("unsat");
  });
});

describe("union automata", () => {
  it("accept a text exactly when one of their globs matches it, and 'accepts everything' only when every rest is accepted", () => {
    const pattern = fc
      .array(fc.constantFrom("a", "b", ":", "*", "?"), { maxLength: 6 })
      .map((p) => p.join(""));
    const text = fc.array(fc.constantFrom("a", "b", ":", "A"), { maxLength: 10 }).map((t) => t.join(""));
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ pattern, mode: fc.constantFrom("like", "arn", "resource"), ignoreCase: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        text,
        fc.array(text, { minLength: 3, maxLength: 3 }),
        (specs, value, rests) => {
          // Prepare
          const globs = specs.map((s) => compileGlob(s.pattern, s.mode as "like", s.ignoreCase));
          const automaton = new Automaton(globs);
          // Act
          let state = automaton.start;
          for (const ch of value) state = automaton.step(state, ch);
          // Assess
          expect(automaton.accepts(state)).toBe(globs.some((g) => globMatches(g, value)));
          if (automaton.acceptsEverything(state))
            for (const rest of rests) expect(globs.some((g) => globMatches(g, value + rest))).toBe(true);
        },
      ),
      { numRuns: 1_000, seed: 96 },
    );
  });
});
