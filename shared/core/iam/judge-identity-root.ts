/**
 * Whether a principal's identity policies, intersected with its permissions boundary, allow
 * `s3files:ClientRootAccess` or `elasticfilesystem:ClientRootAccess` on any file system of the account.
 *
 * Sound but deliberately incomplete: "no root" is answered only when it follows from the text of the
 * policies alone; "root" only with a witness that needs no condition to hold; anything that depends on
 * a condition, a policy variable or a Deny that covers only part of the request space is "undecided",
 * a finding left for a person, never "safe".
 *
 * - An Allow counts when its Action (or NotAction) can cover the root action and its Resource (or
 *   NotResource) can cover a file-system ARN of the account. Conditions on an Allow are assumed
 *   satisfiable when proving "no root", and make a grant undecided.
 * - A Deny takes root away only when it is unconditional, covers the root action and covers every
 *   file-system ARN of the account; any other Deny that could apply makes a grant undecided.
 * - A permissions boundary is an intersection (IAM User Guide, "Permissions boundaries for IAM
 *   entities"): root needs an Allow in both the identity policies and the boundary.
 */
import type { PolicyDocument, PolicyStatement } from "../policy/document.ts";
import { statementLabel } from "../policy/document.ts";

export interface LabelledPolicy {
  readonly label: string;
  readonly document: PolicyDocument;
}

export interface IdentityRootQuery {
  readonly policies: readonly LabelledPolicy[];
  readonly boundary?: LabelledPolicy;
  readonly partition: string;
  readonly account: string;
  readonly principalArn: string;
}

export interface IdentityRootWitness {
  readonly action: string;
  readonly resource: string;
  readonly policy: string;
  readonly statement: string;
  readonly context: Readonly<Record<string, string>>;
  readonly description: string;
}

export type IdentityRootVerdict =
  | { readonly grantsRoot: false; readonly proof: string }
  | { readonly grantsRoot: true; readonly witness: IdentityRootWitness }
  | { readonly grantsRoot: "undecided"; readonly reason: string };

export const ROOT_ACTIONS = [
  { action: "s3files:ClientRootAccess", prefix: "s3files" },
  { action: "elasticfilesystem:ClientRootAccess", prefix: "elasticfilesystem" },
] as const;

// ---- wildcard patterns -----------------------------------------------------------------------

/** `*` and `?` as IAM reads them in Action (case-insensitive) and Resource (case-sensitive). */
function globMatches(pattern: string, text: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const t = ignoreCase ? text.toLowerCase() : text;
  // Classic two-pointer glob match with backtracking to the last `*`: linear in practice.
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === "?" || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === "*") {
      star = pi++;
      mark = ti;
    } else if (star !== -1) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}

/** A policy variable (`${aws:username}`) stands for an unknown value. */
const VARIABLE = /\$\{[^}]*\}/g;

/**
 * Some string matched by both patterns, or undefined when there is none (both may hold `*` and `?`).
 * A policy variable in `pattern` is read as `*` (any value): an over-approximation, used only to ask
 * whether a statement can apply.
 */
function commonMatch(pattern: string, template: string): string | undefined {
  const p = pattern.replace(VARIABLE, "*");
  const q = template;
  const key = (i: number, j: number) => i * (q.length + 1) + j;
  const previous = new Map<number, { from: number; char: string }>();
  const start = key(0, 0);
  const goal = key(p.length, q.length);
  const queue = [start];
  previous.set(start, { from: -1, char: "" });
  while (queue.length > 0) {
    const state = queue.shift() as number;
    if (state === goal) break;
    const i = Math.floor(state / (q.length + 1));
    const j = state % (q.length + 1);
    const next: [number, number, string][] = [];
    if (p[i] === "*") next.push([i + 1, j, ""]);
    if (q[j] === "*") next.push([i, j + 1, ""]);
    const pc = p[i];
    const qc = q[j];
    if (pc !== undefined && qc !== undefined) {
      const pAny = pc === "*" || pc === "?";
      const qAny = qc === "*" || qc === "?";
      const ni = pc === "*" ? i : i + 1;
      const nj = qc === "*" ? j : j + 1;
      if (pAny && qAny) next.push([ni, nj, "0"]);
      else if (pAny) next.push([ni, nj, qc]);
      else if (qAny) next.push([ni, nj, pc]);
      else if (pc === qc) next.push([ni, nj, pc]);
    }
    for (const [a, b, char] of next) {
      const k = key(a, b);
      if (k === state || previous.has(k)) continue;
      previous.set(k, { from: state, char });
      queue.push(k);
    }
  }
  if (!previous.has(goal)) return undefined;
  let text = "";
  for (let at = goal; at !== start; ) {
    const step = previous.get(at) as { from: number; char: string };
    text = step.char + text;
    at = step.from;
  }
  return text;
}

/**
 * True when `pattern` matches every string `template` stands for. Decided soundly, never
 * generously: a `*` of the template is only covered by a `*` of the pattern, a `*` of the pattern is
 * not taken to span a colon (AWS matches Resource ARNs part by part), and a policy variable covers
 * nothing.
 */
function coversAll(pattern: string, template: string): boolean {
  if (pattern === "*") return true;
  const p = pattern.replace(VARIABLE, "\u0000");
  const t = template;
  // dp[j]: the pattern's first i characters match the template's first j characters.
  let dp: boolean[] = Array.from({ length: t.length + 1 }, (_, j) => j === 0);
  for (let i = 0; i < p.length; i++) {
    const next: boolean[] = new Array(t.length + 1).fill(false);
    const pc = p[i];
    if (pc === "*") {
      next[0] = dp[0] === true;
      for (let j = 1; j <= t.length; j++)
        next[j] = dp[j] === true || (next[j - 1] === true && t[j - 1] !== ":");
    } else {
      for (let j = 1; j <= t.length; j++) {
        const tc = t[j - 1];
        next[j] = dp[j - 1] === true && tc !== "*" && (pc === "?" ? tc !== ":" : pc === tc);
      }
    }
    dp = next;
  }
  return dp[t.length] === true;
}

// ---- one statement -----------------------------------------------------------------------------

function coversAction(statement: PolicyStatement, action: string): boolean {
  if (statement.actions) return statement.actions.some((a) => globMatches(a, action, true));
  return !(statement.notActions ?? []).some((a) => globMatches(a, action, true));
}

/** Every file-system ARN of the account for one service, in any region, as a template. */
function fileSystemTemplate(partition: string, prefix: string, account: string): string {
  return `arn:${partition}:${prefix}:*:${account}:file-system/*`;
}

/** A file-system ARN the statement applies to, if it can apply to any (undefined: provably none). */
function resourceOverlap(statement: PolicyStatement, template: string): string | undefined {
  if (statement.resources) {
    for (const resource of statement.resources) {
      const common = commonMatch(resource, template);
      if (common !== undefined) return coversAll(resource, template) ? template : common;
    }
    return undefined;
  }
  const excluded = statement.notResources ?? [];
  return excluded.some((resource) => coversAll(resource, template)) ? undefined : template;
}

/** True when the statement applies to every file-system ARN of the template. */
function coversEveryFileSystem(statement: PolicyStatement, template: string): boolean {
  if (statement.resources) return statement.resources.some((resource) => coversAll(resource, template));
  return (statement.notResources ?? []).every((resource) => commonMatch(resource, template) === undefined);
}

/** A grant that needs nothing beyond the request itself: no condition, no policy variable. */
function isDefinite(statement: PolicyStatement, template: string): boolean {
  if (statement.conditions.length > 0) return false;
  const resources = statement.resources ?? statement.notResources ?? [];
  if (resources.some((r) => r.includes("${"))) return false;
  // With NotResource, a definite grant needs every file system left in.
  return statement.resources !== undefined || coversEveryFileSystem(statement, template);
}

// ---- one layer (the identity policies, or the boundary) ------------------------------------------

type LayerVerdict =
  | { readonly kind: "none"; readonly proof: string }
  | {
      readonly kind: "grant";
      readonly policy: string;
      readonly statement: string;
      readonly resource: string;
    }
  | { readonly kind: "undecided"; readonly reason: string };

function judgeLayer(
  policies: readonly LabelledPolicy[],
  action: string,
  template: string,
  layerName: string,
): LayerVerdict {
  const allows: { policy: string; statement: PolicyStatement; resource: string }[] = [];
  const denies: { policy: string; statement: PolicyStatement }[] = [];
  for (const { label, document } of policies) {
    for (const statement of document.statements) {
      if (!coversAction(statement, action)) continue;
      const resource = resourceOverlap(statement, template);
      if (resource === undefined) continue;
      if (statement.effect === "Allow") allows.push({ policy: label, statement, resource });
      else denies.push({ policy: label, statement });
    }
  }
  if (allows.length === 0) {
    return {
      kind: "none",
      proof: `no Allow statement of the ${layerName} can cover ${action} on a file system`,
    };
  }
  const total = denies.find(
    ({ statement }) => statement.conditions.length === 0 && coversEveryFileSystem(statement, template),
  );
  if (total) {
    return {
      kind: "none",
      proof: `${statementLabel(total.statement)} of ${total.policy} denies ${action} on every file system, unconditionally`,
    };
  }
  const partial = denies[0];
  const definite = allows.find(({ statement }) => isDefinite(statement, template));
  if (definite && !partial) {
    return {
      kind: "grant",
      policy: definite.policy,
      statement: statementLabel(definite.statement),
      resource: definite.resource,
    };
  }
  if (partial) {
    return {
      kind: "undecided",
      reason: `${statementLabel(partial.statement)} of ${partial.policy} denies ${action} on some file systems or under conditions; whether root is left cannot be decided from the text alone`,
    };
  }
  const first = allows[0] as (typeof allows)[number];
  return {
    kind: "undecided",
    reason: `${statementLabel(first.statement)} of ${first.policy} allows ${action} only under conditions or for some resources; whether they can hold cannot be decided from the text alone`,
  };
}

function describeResource(resource: string, template: string, account: string): string {
  if (resource !== template) return resource;
  return account === "*"
    ? "every file system of every account and region"
    : `every file system of account ${account}, in every region`;
}

/** The verdict for one principal: root on any file system of the account, through which policy. */
export function judgeIdentityRoot(query: IdentityRootQuery): IdentityRootVerdict {
  const proofs: string[] = [];
  let undecided: string | undefined;
  for (const { action, prefix } of ROOT_ACTIONS) {
    const template = fileSystemTemplate(query.partition, prefix, query.account);
    const identity = judgeLayer(query.policies, action, template, "identity policies");
    const boundary = query.boundary
      ? judgeLayer([query.boundary], action, template, `permissions boundary (${query.boundary.label})`)
      : undefined;
    if (identity.kind === "none") {
      proofs.push(identity.proof);
      continue;
    }
    if (boundary?.kind === "none") {
      proofs.push(boundary.proof);
      continue;
    }
    if (identity.kind === "grant" && (boundary === undefined || boundary.kind === "grant")) {
      const resource = describeResource(identity.resource, template, query.account);
      return {
        grantsRoot: true,
        witness: {
          action,
          resource: identity.resource,
          policy: identity.policy,
          statement: identity.statement,
          context: {},
          description: `${query.principalArn} may call ${action} on ${resource}: allowed by ${identity.statement} of ${identity.policy}${boundary ? `, within its permissions boundary ${query.boundary?.label}` : ""}, with no condition and no Deny that takes it back`,
        },
      };
    }
    undecided ??= identity.kind === "undecided" ? identity.reason : (boundary as { reason: string }).reason;
  }
  if (undecided !== undefined) return { grantsRoot: "undecided", reason: undecided };
  return { grantsRoot: false, proof: proofs.join("; ") };
}
