/**
 * The policy engine: decisions per second on a 5-statement file-system policy, next to the
 * `@cloud-copilot/iam-simulate` oracle (AGPL, a development-time dependency only) measured in the
 * same run on the same requests; and full PutFileSystemPolicy judgements per second (parse,
 * analysis, minimal edit, proof), through the judge as the runtime calls it: uncached, and for a
 * policy judged before (the judgement memo that repeated policies in a trail hit).
 */
import { anonymousPrincipal, runSimulation } from "@cloud-copilot/iam-simulate";
import { parseConfig } from "../shared/core/config.ts";
import { evaluateRecord } from "../shared/core/judge.ts";
import {
  evaluatePolicy,
  parsePolicy,
  principalContext,
  type RequestPrincipal,
} from "../shared/core/policy/index.ts";
import { RULE_IDS } from "../shared/core/rules/index.ts";
import { benchPolicy, OWNER, putPolicyRecord } from "./bench-policy.ts";

const FS = `arn:aws:s3files:us-west-2:${OWNER}:file-system/fs-abcd123456789ef0`;
const POLICY = benchPolicy("fs-abcd123456789ef0");

const PRINCIPALS: RequestPrincipal[] = [
  { kind: "anonymous" },
  { kind: "aws", arn: "arn:aws:iam::444455556666:role/reader", account: "444455556666" },
  { kind: "aws", arn: "arn:aws:iam::999988887777:role/x", account: "999988887777" },
];
const ACTIONS = ["s3files:ClientMount", "s3files:ClientWrite", "s3files:ClientRootAccess"];
const CONTEXTS: Record<string, string>[] = [
  {},
  { "aws:SourceVpc": "vpc-1" },
  { "aws:PrincipalOrgID": "o-a1b2c3d4e5", "aws:SourceIp": "203.0.113.7" },
  { "aws:SourceIp": "198.51.100.7", "aws:SourceVpc": "vpc-2" },
];
const REQUESTS = PRINCIPALS.flatMap((principal) =>
  ACTIONS.flatMap((action) => CONTEXTS.map((context) => ({ principal, action, context }))),
);

function perSecond(count: number, nanoseconds: bigint): number {
  return count / (Number(nanoseconds) / 1e9);
}

async function measure(
  label: string,
  minSeconds: number,
  once: () => Promise<number> | number,
): Promise<number> {
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(minSeconds * 1e9));
  while (process.hrtime.bigint() < deadline) count += await once();
  const rate = perSecond(count, process.hrtime.bigint() - start);
  console.log(`${label.padEnd(52)} ${rate.toFixed(0).padStart(10)} /s`);
  return rate;
}

export async function run(): Promise<void> {
  const policy = parsePolicy(JSON.stringify(POLICY));
  const ours = REQUESTS.map(({ principal, action, context }) => ({
    principal,
    action,
    resource: FS,
    context: principalContext(principal, Object.entries(context)),
  }));
  const identity = [
    {
      name: "all",
      policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
    },
  ];
  const oracleRequest = ({ principal, action, context }: (typeof REQUESTS)[number]) => ({
    request: {
      principal: principal.kind === "aws" ? principal.arn : anonymousPrincipal,
      action,
      resource: { resource: FS, accountId: OWNER },
      contextVariables:
        principal.kind === "aws"
          ? { ...context, "aws:PrincipalAccount": principal.account, "aws:PrincipalArn": principal.arn }
          : context,
    },
    identityPolicies: principal.kind === "aws" ? identity : [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: POLICY,
  });

  console.log(`5-statement policy, ${REQUESTS.length} distinct requests per round`);
  const mine = await measure("decisions, this engine (evaluatePolicy)", 2, () => {
    for (const request of ours) evaluatePolicy(policy, request);
    return ours.length;
  });
  const oracle = await measure("decisions, iam-simulate oracle (runSimulation)", 2, async () => {
    for (const request of REQUESTS) await runSimulation(oracleRequest(request), {});
    return REQUESTS.length;
  });
  console.log(`${"ratio (this engine / oracle)".padEnd(52)} ${(mine / oracle).toFixed(1).padStart(10)} x`);

  // A full judgement of PutFileSystemPolicy: intake, parse, analysis, combined minimal edit and its proof.
  const config = parseConfig({}, RULE_IDS);
  const record = putPolicyRecord("fs-abcd123456789ef0", POLICY);
  const now = new Date();
  const check = evaluateRecord(record, { config, now });
  if (check.verdict !== "violation" || check.plan.length !== 1)
    throw new Error(`unexpected judgement: ${check.reason}`);
  // Uncached: judgements are remembered per configuration object (trails repeat policies), so
  // each round judges under a fresh copy of the configuration.
  await measure("judgement + minimal edit + proof, uncached", 3, () => {
    evaluateRecord(record, { config: { ...config }, now });
    return 1;
  });
  await measure("judgement + minimal edit + proof, same policy again", 2, () => {
    evaluateRecord(record, { config, now });
    return 1;
  });
}
