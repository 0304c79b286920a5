/**
 * The differential harness: the engine's answers against the Z3 oracle's, question by question,
 * on generated policies. Every engine witness is confirmed twice (by the engine's own concrete
 * evaluator and by Z3 with the witness substituted), every oracle witness is evaluated by the
 * engine's evaluator, and every edit the engine proves is re-proved by Z3. Each disagreement is
 * counted under a name that says which side is wrong.
 */
import type { PolicyScope } from "../../shared/core/policy/index.ts";
import type { GeneratedCase } from "../helpers/policy-arbitraries.ts";
import type { EngineAnswer, EngineRequest, EngineUnderTest } from "./engine-under-test.ts";
import {
  type OracleAnswer,
  type OracleRequest,
  type OracleScope,
  type PolicyOracle,
  type PrincipalKind,
  UnsupportedPolicyError,
} from "./z3-policy-oracle.ts";

export const QUESTIONS = ["publicAccess", "crossAccountAccess", "rootOutsideAdmins"] as const;
export type Question = (typeof QUESTIONS)[number];

export interface DisagreementExample {
  readonly kind: string;
  readonly policy: unknown;
  readonly scope: OracleScope;
  readonly detail: string;
}

export interface DifferentialReport {
  cases: number;
  /** Questions both sides answered (judgement, edit re-proofs, widening of mutants). */
  compared: number;
  agreements: number;
  /** Disagreements, by name. */
  disagreements: Record<string, number>;
  /** Answers left out of the comparison, by reason (oracle unknown, engine undecided, unsupported shape). */
  skipped: Record<string, number>;
  engineWitnesses: number;
  engineWitnessesConfirmedByEvaluator: number;
  engineWitnessesConfirmedByZ3: number;
  oracleWitnesses: number;
  oracleWitnessesAllowedByEvaluator: number;
  edits: number;
  editsProvedByEngine: number;
  editsConfirmedByZ3: number;
  engineMs: number;
  oracleMs: number;
  examples: DisagreementExample[];
}

export function emptyReport(): DifferentialReport {
  return {
    cases: 0,
    compared: 0,
    agreements: 0,
    disagreements: {},
    skipped: {},
    engineWitnesses: 0,
    engineWitnessesConfirmedByEvaluator: 0,
    engineWitnessesConfirmedByZ3: 0,
    oracleWitnesses: 0,
    oracleWitnessesAllowedByEvaluator: 0,
    edits: 0,
    editsProvedByEngine: 0,
    editsConfirmedByZ3: 0,
    engineMs: 0,
    oracleMs: 0,
    examples: [],
  };
}

const EXAMPLES_PER_KIND = 3;

/** The sum of several reports (runs over disjoint ranges of cases), keeping three examples per kind. */
export function mergeReports(reports: readonly DifferentialReport[]): DifferentialReport {
  const total = emptyReport();
  const counts = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  };
  for (const r of reports) {
    for (const key of Object.keys(total) as (keyof DifferentialReport)[]) {
      const value = r[key];
      if (typeof value === "number") (total[key] as number) += value;
    }
    counts(total.disagreements, r.disagreements);
    counts(total.skipped, r.skipped);
    for (const example of r.examples)
      if (total.examples.filter((e) => e.kind === example.kind).length < EXAMPLES_PER_KIND)
        total.examples.push(example);
  }
  return total;
}

export function engineScopeOf(c: GeneratedCase): PolicyScope {
  return {
    service: c.service,
    ownerAccount: "111122223333",
    partition: "aws",
    region: c.service === "efs" ? "eu-west-1" : "us-west-2",
    fileSystemId: c.service === "efs" ? "fs-2" : "fs-1",
    trustedAccounts: c.trustedAccounts,
    adminPrincipals: c.adminPrincipals,
  };
}

export function oracleScopeOf(scope: PolicyScope): OracleScope {
  return {
    service: scope.service,
    ownerAccount: scope.ownerAccount ?? "111122223333",
    region: scope.region ?? "us-west-2",
    fileSystemId: scope.fileSystemId ?? "fs-1",
    trustedAccounts: scope.trustedAccounts,
    adminPrincipals: scope.adminPrincipals,
  };
}

/** The oracle's kind of caller for an engine request (a role named as the caller stands for its sessions). */
export function kindOf(request: EngineRequest): PrincipalKind {
  const p = request.principal;
  if (p.kind === "anonymous") return "anonymous";
  if (p.kind === "service") return "service";
  if (p.arn.endsWith(":root")) return "root";
  if (p.arn.includes(":user/")) return "user";
  if (p.arn.includes(":federated-user/")) return "federated-user";
  return "role-session";
}

export function toOracleRequest(request: EngineRequest, resource: string): OracleRequest {
  const p = request.principal;
  const principal =
    p.kind === "aws" && p.arn.includes(":role/") && p.roleArn === undefined
      ? { ...p, roleArn: p.arn, arn: p.arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") }
      : p;
  return { kind: kindOf(request), principal, action: request.action, resource, context: request.context };
}

const RANK = { allowed: 2, "implicit-deny": 1, "explicit-deny": 0 } as const;

/** A policy one step away from `policy`: a statement dropped, a Deny's condition dropped, or an Allow's action widened. */
export function mutate(policy: GeneratedCase["policy"], choice: number): GeneratedCase["policy"] {
  const statements = policy.Statement.map((s) => ({ ...s }));
  const i = choice % statements.length;
  const target = statements[i] as Record<string, unknown>;
  switch (Math.floor(choice / statements.length) % 3) {
    case 0:
      if (statements.length > 1) statements.splice(i, 1);
      else target.Effect = target.Effect === "Allow" ? "Deny" : "Allow";
      break;
    case 1:
      if (target.Condition !== undefined) delete target.Condition;
      else target.Effect = "Allow";
      break;
    default:
      delete target.NotAction;
      target.Action = "*";
  }
  return { ...policy, Statement: statements };
}

export class Differential {
  constructor(
    private readonly oracle: PolicyOracle,
    private readonly engine: EngineUnderTest,
    /** The figures so far (a resumed run passes the report it continues). */
    readonly report: DifferentialReport = emptyReport(),
  ) {}

  private disagree(kind: string, policy: unknown, scope: OracleScope, detail: string): void {
    this.report.disagreements[kind] = (this.report.disagreements[kind] ?? 0) + 1;
    if (this.report.examples.filter((e) => e.kind === kind).length < EXAMPLES_PER_KIND)
      this.report.examples.push({ kind, policy, scope, detail });
  }

  private skip(reason: string): void {
    this.report.skipped[reason] = (this.report.skipped[reason] ?? 0) + 1;
  }

  private async ask<T>(question: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await question();
    } finally {
      this.report.oracleMs += performance.now() - start;
    }
  }

  private timeEngine<T>(answer: () => T): T {
    const start = performance.now();
    try {
      return answer();
    } finally {
      this.report.engineMs += performance.now() - start;
    }
  }

  /** Compares one generated case: the three judgements, the edit, and the widening of one mutant. */
  async compare(c: GeneratedCase, index: number): Promise<void> {
    this.report.cases++;
    const scope = engineScopeOf(c);
    const oscope = oracleScopeOf(scope);
    const resource = `arn:aws:${c.service === "efs" ? "elasticfilesystem" : "s3files"}:${oscope.region}:${oscope.ownerAccount}:file-system/${oscope.fileSystemId}`;
    try {
      let judgement: ReturnType<EngineUnderTest["judge"]>;
      try {
        judgement = this.timeEngine(() => this.engine.judge(c.policy, scope));
      } catch (error) {
        this.disagree("engine-error", c.policy, oscope, String(error));
        return;
      }
      for (const q of QUESTIONS) {
        const theirs = await this.ask(() => this.oracle[q](c.policy, oscope));
        await this.judge(q, c.policy, oscope, resource, judgement[q], theirs);
      }
      await this.checkEdit(c, scope, oscope, resource);
      const mutant = mutate(c.policy, index);
      const engineSays = this.timeEngine(() => this.engine.widening(c.policy, mutant, scope));
      const oracleSays = await this.ask(() => this.oracle.widening(c.policy, mutant, oscope));
      await this.compareWidening(c.policy, mutant, oscope, resource, engineSays, oracleSays, "mutant");
    } catch (error) {
      if (error instanceof UnsupportedPolicyError) this.skip(`unsupported shape: ${error.message}`);
      else throw error;
    }
  }

  private async judge(
    q: Question,
    policy: unknown,
    scope: OracleScope,
    resource: string,
    ours: EngineAnswer,
    theirs: OracleAnswer,
  ): Promise<void> {
    if (theirs.verdict === "sat") await this.confirmOracleWitness(policy, scope, theirs.witness, q);
    if (ours.kind === "undecided") return this.skip(`engine undecided (${ours.reason})`);
    if (theirs.verdict === "unknown") return this.skip("oracle unknown (timeout)");
    this.report.compared++;
    if (ours.kind === "witness") {
      await this.confirmEngineWitness(q, policy, scope, resource, ours);
      if (theirs.verdict === "sat") this.report.agreements++;
      else this.disagree(`false-alarm:${q}`, policy, scope, `engine: ${ours.text}; Z3: no such request`);
      return;
    }
    if (theirs.verdict === "unsat") this.report.agreements++;
    else
      this.disagree(
        `missed:${q}`,
        policy,
        scope,
        `engine proves none; Z3 witness: ${describeOracleRequest(theirs.witness)}`,
      );
  }

  private async confirmOracleWitness(
    policy: unknown,
    scope: OracleScope,
    witness: OracleRequest,
    q: string,
  ): Promise<void> {
    this.report.oracleWitnesses++;
    const decision = this.engine.decide(policy, witness, witness.resource);
    if (decision === "allowed") this.report.oracleWitnessesAllowedByEvaluator++;
    else
      this.disagree(
        `evaluator-denies-oracle-witness:${q}`,
        policy,
        scope,
        `${describeOracleRequest(witness)}: evaluator ${decision}`,
      );
  }

  private async confirmEngineWitness(
    q: Question,
    policy: unknown,
    scope: OracleScope,
    resource: string,
    ours: Extract<EngineAnswer, { kind: "witness" }>,
  ): Promise<void> {
    if (!ours.request) return;
    this.report.engineWitnesses++;
    const decision = this.engine.decide(policy, ours.request, resource);
    if (decision === "allowed") this.report.engineWitnessesConfirmedByEvaluator++;
    else this.disagree(`witness-not-allowed:${q}`, policy, scope, `${ours.text}: evaluator ${decision}`);
    const pinned = await this.ask(() =>
      this.oracle[q](policy, scope, toOracleRequest(ours.request as EngineRequest, resource)),
    );
    if (pinned.verdict === "sat") this.report.engineWitnessesConfirmedByZ3++;
    else if (pinned.verdict === "unsat")
      this.disagree(
        `witness-rejected-by-z3:${q}`,
        policy,
        scope,
        `${ours.text} (context ${contextText(ours.request.context)})`,
      );
  }

  private async checkEdit(c: GeneratedCase, scope: PolicyScope, oscope: OracleScope, resource: string) {
    let edit: ReturnType<EngineUnderTest["edit"]>;
    try {
      edit = this.timeEngine(() => this.engine.edit(c.policy, scope));
    } catch (error) {
      return this.skip(`engine declined to edit (${String(error).slice(0, 60)})`);
    }
    if (!edit) return;
    this.report.edits++;
    const widening = await this.ask(() => this.oracle.widening(c.policy, edit.edited, oscope));
    const left: string[] = [];
    for (const q of edit.goals) {
      const answer = await this.ask(() => this.oracle[q](edit.edited, oscope));
      if (answer.verdict === "sat") left.push(`${q}: ${describeOracleRequest(answer.witness)}`);
      if (answer.verdict === "unknown") return this.skip("oracle unknown (timeout)");
    }
    if (widening.verdict === "unknown") return this.skip("oracle unknown (timeout)");
    const zSaysGood = widening.verdict === "unsat" && left.length === 0;
    this.report.compared++;
    if (edit.proved) this.report.editsProvedByEngine++;
    if (zSaysGood) this.report.editsConfirmedByZ3++;
    if (edit.proved === zSaysGood) {
      this.report.agreements++;
      return;
    }
    if (!edit.proved) {
      this.disagree("edit-proof-incomplete", c.policy, oscope, `engine: ${edit.failure}; Z3 proves the edit`);
      return;
    }
    if (widening.verdict === "sat") {
      const w = widening.witness;
      const before = this.engine.decide(c.policy, w, resource);
      const after = this.engine.decide(edit.edited, w, resource);
      this.disagree(
        "proved-edit-widens",
        c.policy,
        oscope,
        `${describeOracleRequest(w)}: ${before} before, ${after} after (evaluator); edited ${JSON.stringify(edit.edited)}`,
      );
    } else
      this.disagree(
        "proved-edit-leaves-violation",
        c.policy,
        oscope,
        `${left.join("; ")}; edited ${JSON.stringify(edit.edited)}`,
      );
  }

  private async compareWidening(
    before: unknown,
    after: unknown,
    scope: OracleScope,
    resource: string,
    ours: EngineAnswer,
    theirs: OracleAnswer,
    label: string,
  ): Promise<void> {
    if (theirs.verdict === "sat") {
      const w = theirs.witness;
      const a = this.engine.decide(before, w, resource);
      const b = this.engine.decide(after, w, resource);
      if (RANK[b] <= RANK[a])
        this.disagree(
          "evaluator-denies-oracle-widening",
          before,
          scope,
          `${describeOracleRequest(w)}: ${a} before, ${b} after; after ${JSON.stringify(after)}`,
        );
    }
    if (ours.kind === "undecided") return this.skip(`engine undecided (${ours.reason})`);
    if (theirs.verdict === "unknown") return this.skip("oracle unknown (timeout)");
    this.report.compared++;
    const engineWidens = ours.kind === "witness";
    if (engineWidens === (theirs.verdict === "sat")) {
      this.report.agreements++;
      if (ours.kind === "witness" && ours.request) {
        this.report.engineWitnesses++;
        const a = this.engine.decide(before, ours.request, resource);
        const b = this.engine.decide(after, ours.request, resource);
        if (RANK[b] > RANK[a]) this.report.engineWitnessesConfirmedByEvaluator++;
        else this.disagree("widening-witness-not-wider", before, scope, `${ours.text}: ${a} → ${b}`);
      }
      return;
    }
    if (engineWidens)
      this.disagree(
        `false-widening:${label}`,
        before,
        scope,
        `engine: ${(ours as { text: string }).text}; after ${JSON.stringify(after)}`,
      );
    else
      this.disagree(
        `missed-widening:${label}`,
        before,
        scope,
        `Z3: ${describeOracleRequest((theirs as { witness: OracleRequest }).witness)}; after ${JSON.stringify(after)}`,
      );
  }
}

function contextText(context: ReadonlyMap<string, string | readonly string[]>): string {
  return [...context].map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(",")}]` : v}`).join(", ");
}

export function describeOracleRequest(request: OracleRequest): string {
  const p = request.principal;
  const who = p.kind === "aws" ? `${request.kind} ${p.arn}` : p.kind === "service" ? p.service : "anonymous";
  return `${request.action} by ${who} with {${contextText(request.context)}}`;
}

/** One line per figure, for scripts and test logs. */
export function formatReport(report: DifferentialReport, title: string): string {
  const pct = (n: number, d: number) => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(2)}%`);
  const lines = [
    `${title}: ${report.cases} policies, ${report.compared} answers compared, ${report.agreements} agree (${pct(report.agreements, report.compared)})`,
    `  disagreements: ${Object.entries(report.disagreements).length === 0 ? "none" : ""}`,
    ...Object.entries(report.disagreements)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `    ${k.padEnd(48)} ${n}`),
    `  not compared: ${Object.entries(report.skipped).length === 0 ? "none" : ""}`,
    ...Object.entries(report.skipped).map(([k, n]) => `    ${k.padEnd(48)} ${n}`),
    `  engine witnesses: ${report.engineWitnesses}, allowed by the evaluator ${report.engineWitnessesConfirmedByEvaluator}, confirmed by Z3 ${report.engineWitnessesConfirmedByZ3}`,
    `  oracle witnesses: ${report.oracleWitnesses}, allowed by the evaluator ${report.oracleWitnessesAllowedByEvaluator}`,
    `  edits: ${report.edits}, proved by the engine ${report.editsProvedByEngine}, proved by Z3 ${report.editsConfirmedByZ3}`,
    `  time: engine ${report.engineMs.toFixed(0)} ms, oracle ${report.oracleMs.toFixed(0)} ms`,
  ];
  return lines.join("\n");
}
