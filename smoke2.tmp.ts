import { PolicyOracle } from "./test/oracle/z3-policy-oracle.ts";
const scope = { service: "s3files" as const, ownerAccount: "111122223333", region: "us-west-2", fileSystemId: "fs-1", trustedAccounts: [], adminPrincipals: [] };
const FS = "arn:aws:s3files:us-west-2:111122223333:file-system/fs-1";
const o = await PolicyOracle.create({ timeoutMs: 5000 });
const mk = (c?: unknown, extra: Record<string, unknown> = {}) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3files:ClientMount", ...extra, ...(c ? { Condition: c } : {}) }] });
const cases: [string, unknown][] = [
  ["warm", mk({ StringEquals: { "aws:PrincipalType": "User" } })],
  ["anon", mk({ StringEquals: { "aws:PrincipalType": "Anonymous" } })],
  ["root", mk({ StringEquals: { "aws:PrincipalType": "Account" } })],
  ["role", mk({ StringEquals: { "aws:PrincipalType": "AssumedRole" } })],
  ["fed", mk({ StringEquals: { "aws:PrincipalType": "FederatedUser" } })],
  ["nores", mk()],
  ["res", mk(undefined, { Resource: FS })],
];
for (const [name, p] of cases) {
  const t = Date.now();
  const pub = await o.publicAccess(p, scope);
  console.log(name, Date.now() - t, "ms", pub.verdict, pub.verdict === "sat" ? JSON.stringify(pub.witness.principal) : "");
}
process.exit(0);
