import fc from "fast-check";
import { policyFromJson } from "./shared/core/policy/document.ts";
import { editPolicy, proveEdit } from "./shared/core/policy/edit.ts";
import { AnalysisMemo } from "./shared/core/policy/analysis.ts";
import { policyArb } from "./test/helpers/policy-arbitraries.ts";
const scope = { service: "s3files" as const, ownerAccount: "111122223333", partition: "aws", region: "us-west-2", fileSystemId: "fs-1", trustedAccounts: [], adminPrincipals: [] };
const goals = { publicAccess: true, crossAccountAccess: true, rootOutsideAdmins: true, enforceTls: false, restoreDenies: [] };
const samples = fc.sample(policyArb, { numRuns: 200, seed: 7 }).map((j) => policyFromJson(j));
const rows: [number, number, number, number, string][] = [];
for (const doc of samples) {
  const memo = new AnalysisMemo();
  const t0 = performance.now();
  memo.analyze(doc, scope);
  const t1 = performance.now();
  const e = editPolicy(doc, scope, goals, memo);
  const t2 = performance.now();
  proveEdit(doc, e.policy, scope, goals, memo);
  const t3 = performance.now();
  rows.push([t3 - t0, t1 - t0, t2 - t1, t3 - t2, JSON.stringify(doc.raw)]);
}
rows.sort((a, b) => b[0] - a[0]);
for (const r of rows.slice(0, 3)) console.log(r.slice(0, 4).map((x) => (x as number).toFixed(0)).join(" "), r[4]);
console.log("total", rows.reduce((a, r) => a + r[0], 0).toFixed(0));
