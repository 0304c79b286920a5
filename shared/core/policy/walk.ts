/**
 * Decisions of one or more policies over every request of a representative universe, without
 * evaluating each request from scratch.
 *
 * A statement applies when its principal, action, resource and every condition clause match. Only
 * the clauses depend on the context, and a clause without policy variables reads one key only: for
 * a key the universe varies, its value is one of that dimension's few candidates; for any other key
 * it is fixed by the caller. So for each caller every clause is evaluated once per candidate (with
 * the very same `clauseMatches`, `principalApplies`, ... as `evaluatePolicy`), and a request's
 * decision is a few table look-ups. Clauses and resources with policy variables depend on the whole
 * context and are evaluated on it, request by request, as before.
 *
 * The walk visits exactly the requests of `universeRequests`, in the same order, and builds the
 * same context maps on demand, so whatever is derived from it (grants, examples, counts) is
 * unchanged.
 */
import { clauseMatches } from "./conditions.ts";
import type { ConditionClause, PolicyDocument, PolicyStatement } from "./document.ts";
import {
  actionApplies,
  type Decision,
  principalApplies,
  principalContext,
  type RequestPrincipal,
  resourceApplies,
} from "./evaluate.ts";
import { MAX_CONTEXTS, type Universe } from "./universe.ts";

type Context = Map<string, string | readonly string[]>;

/** Keys a caller without an AWS identity never carries (`universeRequests` skips such contexts). */
const AWS_CALLER_ONLY = new Set(["aws:principalorgid", "aws:userid"]);

/** One statement that can apply to the current caller for some action. */
interface LiveStatement {
  /** Position in the policy's `statements`. */
  readonly position: number;
  readonly deny: boolean;
  /** Per action of the walk: principal, action, fixed resource and caller-fixed clauses all match. */
  readonly byAction: readonly boolean[];
  /** Dimensions some clause reads, and per dimension whether every such clause matches, by candidate. */
  readonly dimensions: readonly number[];
  readonly tables: readonly (readonly boolean[])[];
  /** Clauses with policy variables: evaluated on the whole context. */
  readonly dynamicClauses: readonly ConditionClause[];
  readonly dynamicResource: boolean;
}

/** What a policy decides, per action, when a given set of its statements matches the context. */
interface Outcome {
  readonly decisions: readonly Decision[];
  readonly allow: readonly (readonly PolicyStatement[])[];
  readonly deny: readonly (readonly PolicyStatement[])[];
}

/** One statement's caller-independent parts, for one walk. */
interface StatementShape {
  readonly statement: PolicyStatement;
  readonly position: number;
  readonly byAction: readonly boolean[];
  readonly dynamicResource: boolean;
  /** Clauses on keys the universe does not vary. */
  readonly fixedClauses: ConditionClause[];
  readonly dimensionClauses: { readonly clause: ConditionClause; readonly dimension: number }[];
  readonly dynamicClauses: ConditionClause[];
}

function hasVariable(values: readonly string[] | undefined): boolean {
  return values?.some((value) => value.includes("${")) ?? false;
}

function buildContext(
  universe: Universe,
  overrides: ReadonlyMap<string, string>,
  base: Context,
  indexes: readonly number[],
): Context {
  const context = new Map(base);
  const { dimensions } = universe;
  for (let d = 0; d < dimensions.length; d++) {
    const dimension = dimensions[d] as (typeof dimensions)[number];
    const value = dimension.candidates[indexes[d] as number];
    if (value !== undefined) context.set(dimension.key, value);
  }
  for (const [key, value] of overrides) context.set(key, value);
  return context;
}

type ContextValue = string | readonly string[];

/**
 * One request's context, read-only: `get` answers from the universe directly, and the map itself
 * (in the insertion order `universeRequests` gives it) is built on first iteration.
 */
export class DeferredContext implements ReadonlyMap<string, ContextValue> {
  constructor(
    private readonly universe: Universe,
    private readonly overrides: ReadonlyMap<string, string>,
    private readonly base: Context,
    private readonly indexes: readonly number[],
    private built: Context | undefined,
  ) {}

  private map(): Context {
    if (!this.built) this.built = buildContext(this.universe, this.overrides, this.base, this.indexes);
    return this.built;
  }

  get(key: string): ContextValue | undefined {
    if (this.built) return this.built.get(key);
    const override = this.overrides.get(key);
    if (override !== undefined) return override;
    const { dimensions } = this.universe;
    for (let d = 0; d < dimensions.length; d++) {
      const dimension = dimensions[d] as (typeof dimensions)[number];
      // A dimension left absent keeps whatever the caller itself carries for the key.
      if (dimension.key === key) return dimension.candidates[this.indexes[d] as number] ?? this.base.get(key);
    }
    return this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  get size(): number {
    return this.map().size;
  }

  forEach(
    callback: (value: ContextValue, key: string, map: ReadonlyMap<string, ContextValue>) => void,
    thisArg?: unknown,
  ): void {
    for (const [key, value] of this.map()) callback.call(thisArg, value, key, this);
  }

  entries(): MapIterator<[string, ContextValue]> {
    return this.map().entries();
  }

  keys(): MapIterator<string> {
    return this.map().keys();
  }

  values(): MapIterator<ContextValue> {
    return this.map().values();
  }

  [Symbol.iterator](): MapIterator<[string, ContextValue]> {
    return this.map()[Symbol.iterator]();
  }

  /** Serialised as a `Map` is (JSON has no maps). */
  toJSON(): Record<string, never> {
    return {};
  }
}

export class UniverseWalk {
  /** The caller of the current request. */
  principal: RequestPrincipal = { kind: "anonymous" };
  private readonly dimensionOf = new Map<string, number>();
  private readonly indexes: number[];
  private base: Context = new Map();
  private current: Context | undefined;
  /** Per policy: the live statements for the current caller, and which of them match the current context. */
  private live: LiveStatement[][] = [];
  private readonly matching: Uint8Array[];
  private readonly signature: number[];
  /** Per policy, for the current caller: outcomes by signature. */
  private outcomes: Map<number, Outcome>[] = [];
  private shapeCache: StatementShape[][] | undefined;
  private readonly tableCache = new Map<ConditionClause, readonly boolean[]>();

  /**
   * `overrides` are set on every context after the universe's own values (as `enforcesTls` sets
   * `aws:SecureTransport` to false).
   */
  constructor(
    private readonly universe: Universe,
    private readonly policies: readonly PolicyDocument[],
    private readonly resource: string | undefined,
    private readonly actions: readonly string[],
    private readonly overrides: ReadonlyMap<string, string> = new Map(),
  ) {
    universe.dimensions.forEach((dimension, d) => {
      // An overridden key has one value whatever the candidate: clauses on it are fixed per caller.
      if (!overrides.has(dimension.key)) this.dimensionOf.set(dimension.key, d);
    });
    this.indexes = universe.dimensions.map(() => 0);
    this.matching = policies.map((policy) => new Uint8Array(policy.statements.length));
    this.signature = policies.map(() => -1);
  }

  /**
   * Visits every (caller, context) of the universe in `universeRequests` order; `visit` returns
   * false to stop.
   */
  run(visit: () => boolean | undefined): void {
    const { dimensions } = this.universe;
    const indexes = this.indexes;
    for (const principal of this.universe.principals) {
      this.prepare(principal);
      indexes.fill(0);
      let produced = 0;
      while (produced < MAX_CONTEXTS) {
        let skip = false;
        if (principal.kind !== "aws") {
          for (let d = 0; d < dimensions.length; d++) {
            const dimension = dimensions[d] as (typeof dimensions)[number];
            if (
              dimension.candidates[indexes[d] as number] !== undefined &&
              AWS_CALLER_ONLY.has(dimension.key)
            ) {
              skip = true;
              break;
            }
          }
        }
        if (!skip) {
          produced++;
          this.current = undefined;
          this.matchContext();
          if (visit() === false) return;
        }
        // Next combination (odometer), as `universeRequests`.
        let d = 0;
        while (d < dimensions.length) {
          const dimension = dimensions[d] as (typeof dimensions)[number];
          indexes[d] = (indexes[d] as number) + 1;
          if ((indexes[d] as number) < dimension.candidates.length) break;
          indexes[d] = 0;
          d++;
        }
        if (d === dimensions.length) break;
      }
    }
  }

  /** The current request's context, exactly as `universeRequests` builds it (plus the overrides). */
  context(): Context {
    if (!this.current) this.current = buildContext(this.universe, this.overrides, this.base, this.indexes);
    return this.current;
  }

  /**
   * The current context as a map that is built only when first iterated, also after the walk has
   * moved on: most grants' contexts are never looked at, and building every one dominated the cost.
   */
  deferredContext(): DeferredContext {
    return new DeferredContext(this.universe, this.overrides, this.base, this.indexes.slice(), this.current);
  }

  /** The decision of policy `p` on the current caller and context for action number `a`. */
  decision(p: number, a: number): Decision {
    const outcome = this.outcome(p);
    return outcome ? (outcome.decisions[a] as Decision) : this.decide(p, a);
  }

  private decide(p: number, a: number): Decision {
    const live = this.live[p] as LiveStatement[];
    const matching = this.matching[p] as Uint8Array;
    let allowed = false;
    for (const statement of live) {
      if (matching[statement.position] === 0 || !statement.byAction[a]) continue;
      if (statement.deny) return "explicit-deny";
      allowed = true;
    }
    return allowed ? "allowed" : "implicit-deny";
  }

  /**
   * Decisions and deciding statements for the current context, shared by every context of the
   * caller in which the same statements match (most of them): computed once per such set.
   */
  private outcome(p: number): Outcome | undefined {
    const signature = this.signature[p] as number;
    if (signature < 0) return undefined;
    const outcomes = this.outcomes[p] as Map<number, Outcome>;
    const known = outcomes.get(signature);
    if (known) return known;
    const outcome: Outcome = {
      decisions: this.actions.map((_, a) => this.decide(p, a)),
      allow: this.actions.map((_, a) => this.collect(p, a, "Allow")),
      deny: this.actions.map((_, a) => this.collect(p, a, "Deny")),
    };
    outcomes.set(signature, outcome);
    return outcome;
  }

  /** True when statement `position` of policy `p` applies to the current request for action `a`. */
  applies(p: number, position: number, a: number): boolean {
    if ((this.matching[p] as Uint8Array)[position] === 0) return false;
    const statement = (this.live[p] as LiveStatement[]).find((s) => s.position === position);
    return statement !== undefined && statement.byAction[a] === true;
  }

  /**
   * The statements of policy `p` with this effect that apply to the current request, in order.
   * Shared between requests: read only.
   */
  applying(p: number, a: number, effect: "Allow" | "Deny"): readonly PolicyStatement[] {
    const outcome = this.outcome(p);
    if (!outcome) return this.collect(p, a, effect);
    return (effect === "Allow" ? outcome.allow[a] : outcome.deny[a]) as readonly PolicyStatement[];
  }

  private collect(p: number, a: number, effect: "Allow" | "Deny"): PolicyStatement[] {
    const policy = this.policies[p] as PolicyDocument;
    const matching = this.matching[p] as Uint8Array;
    const out: PolicyStatement[] = [];
    for (const statement of this.live[p] as LiveStatement[]) {
      if (statement.deny !== (effect === "Deny")) continue;
      if (matching[statement.position] === 1 && statement.byAction[a])
        out.push(policy.statements[statement.position] as PolicyStatement);
    }
    return out;
  }

  /** Which live statements match the current context (the action-independent part). */
  private matchContext(): void {
    const indexes = this.indexes;
    for (let p = 0; p < this.live.length; p++) {
      const matching = this.matching[p] as Uint8Array;
      const variablesEnabled = (this.policies[p] as PolicyDocument).version === "2012-10-17";
      const live = this.live[p] as LiveStatement[];
      // Which live statements match, as bits (when they fit in one small integer).
      let signature = live.length <= 30 ? 0 : -1;
      for (let l = 0; l < live.length; l++) {
        const statement = live[l] as LiveStatement;
        let ok = true;
        const { dimensions, tables } = statement;
        for (let i = 0; i < dimensions.length; i++) {
          if (!(tables[i] as readonly boolean[])[indexes[dimensions[i] as number] as number]) {
            ok = false;
            break;
          }
        }
        if (ok && statement.dynamicResource) {
          const policyStatement = (this.policies[p] as PolicyDocument).statements[statement.position];
          ok = resourceApplies(policyStatement as PolicyStatement, this.resource, this.context());
        }
        if (ok) {
          for (const clause of statement.dynamicClauses) {
            if (!clauseMatches(clause, this.context(), variablesEnabled)) {
              ok = false;
              break;
            }
          }
        }
        matching[statement.position] = ok ? 1 : 0;
        if (ok && signature >= 0) signature |= 1 << l;
      }
      this.signature[p] = signature;
    }
  }

  /** What each statement needs whatever the caller: its action and resource parts, its clauses by kind. */
  private shapes(): StatementShape[][] {
    if (this.shapeCache) return this.shapeCache;
    this.shapeCache = this.policies.map((policy) => {
      const variablesEnabled = policy.version === "2012-10-17";
      const shapes: StatementShape[] = [];
      policy.statements.forEach((statement, position) => {
        // With variables a resource pattern reads the context (version 2012-10-17 only).
        const dynamicResource =
          variablesEnabled && (hasVariable(statement.resources) || hasVariable(statement.notResources));
        if (!dynamicResource && !resourceApplies(statement, this.resource, undefined)) return;
        const byAction = this.actions.map((action) => actionApplies(statement, action));
        if (!byAction.includes(true)) return;
        const shape: StatementShape = {
          statement,
          position,
          byAction,
          dynamicResource,
          fixedClauses: [],
          dimensionClauses: [],
          dynamicClauses: [],
        };
        for (const clause of statement.conditions) {
          if (variablesEnabled && hasVariable(clause.values)) shape.dynamicClauses.push(clause);
          else {
            const d = this.dimensionOf.get(clause.keyLower);
            if (d === undefined) shape.fixedClauses.push(clause);
            else shape.dimensionClauses.push({ clause, dimension: d });
          }
        }
        shapes.push(shape);
      });
      return shapes;
    });
    return this.shapeCache;
  }

  /** Whether `clause` matches with each candidate of dimension `d` (absent ones leave `fallback`). */
  private tableOf(
    clause: ConditionClause,
    d: number,
    fallback: ContextValue | undefined,
    variablesEnabled: boolean,
  ): readonly boolean[] {
    // Without a value of the caller's own for the key, the table is the same for every caller.
    const cached = fallback === undefined ? this.tableCache.get(clause) : undefined;
    if (cached) return cached;
    const candidates = (this.universe.dimensions[d] as Universe["dimensions"][number]).candidates;
    const probe: Context = new Map();
    const table = candidates.map((candidate) => {
      const value = candidate ?? fallback;
      probe.clear();
      if (value !== undefined) probe.set(clause.keyLower, value);
      return clauseMatches(clause, probe, variablesEnabled);
    });
    if (fallback === undefined) this.tableCache.set(clause, table);
    return table;
  }

  /** Everything about the policies that is fixed for one caller. */
  private prepare(principal: RequestPrincipal): void {
    this.principal = principal;
    this.base = principalContext(principal);
    // What a context holds for a key no dimension varies: the caller's own value, or the override.
    const fixed: Context = new Map(this.base);
    for (const [key, value] of this.overrides) fixed.set(key, value);
    const shapes = this.shapes();
    this.outcomes = this.policies.map(() => new Map());
    this.live = this.policies.map((policy, p) => {
      const variablesEnabled = policy.version === "2012-10-17";
      const live: LiveStatement[] = [];
      for (const shape of shapes[p] as StatementShape[]) {
        if (!principalApplies(shape.statement, principal)) continue;
        // A key the universe does not vary: its value is the caller's (or absent) in every context.
        if (!shape.fixedClauses.every((clause) => clauseMatches(clause, fixed, variablesEnabled))) continue;
        // Clauses on the same dimension combine into one table.
        const byDimension = new Map<number, boolean[]>();
        for (const { clause, dimension } of shape.dimensionClauses) {
          const table = this.tableOf(clause, dimension, fixed.get(clause.keyLower), variablesEnabled);
          const combined = byDimension.get(dimension);
          if (combined)
            for (let i = 0; i < combined.length; i++) combined[i] = combined[i] === true && table[i] === true;
          else byDimension.set(dimension, [...table]);
        }
        const tables = [...byDimension.values()];
        // A clause no candidate satisfies: the statement never applies to this caller.
        if (tables.some((table) => !table.includes(true))) continue;
        live.push({
          position: shape.position,
          deny: shape.statement.effect === "Deny",
          byAction: shape.byAction,
          dimensions: [...byDimension.keys()],
          tables,
          dynamicClauses: shape.dynamicClauses,
          dynamicResource: shape.dynamicResource,
        });
      }
      return live;
    });
  }
}
