/**
 * Generates CloudTrail log files as CloudTrail delivers them to S3 (`{"Records": [...]}`, gzip),
 * from the real fixture records, varied per record (ids, times, addresses, CIDRs, ports) and mixed
 * with the unrelated management events that fill a real trail. Deterministic for a given seed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const UNRELATED_SHARE = 0.8;
const FIXTURES = new URL("../test/fixtures/cloudtrail/", import.meta.url);

/** Small deterministic PRNG (mulberry32): the same seed gives the same trail on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(next: () => number): string {
  const hex = () => Math.floor(next() * 16).toString(16);
  const part = (n: number) => Array.from({ length: n }, hex).join("");
  return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`;
}

/** Unrelated management events: most of a real trail. */
function unrelated(base: Record<string, any>, next: () => number): Record<string, any> {
  const calls = [
    ["ec2.amazonaws.com", "DescribeInstances", true],
    ["sts.amazonaws.com", "AssumeRole", false],
    ["kms.amazonaws.com", "Decrypt", true],
    ["iam.amazonaws.com", "GetRole", true],
    ["ec2.amazonaws.com", "RunInstances", false],
    ["lambda.amazonaws.com", "UpdateFunctionCode20150331v2", false],
    ["s3.amazonaws.com", "PutBucketTagging", false],
  ] as const;
  const [source, name, readOnly] = calls[Math.floor(next() * calls.length)] as (typeof calls)[number];
  return {
    ...base,
    eventSource: source,
    eventName: name,
    readOnly,
    requestParameters: {
      roleArn: "arn:aws:iam::111122223333:role/app",
      roleSessionName: `session-${Math.floor(next() * 1e6)}`,
      durationSeconds: 3600,
    },
    responseElements: readOnly
      ? null
      : { credentials: { accessKeyId: "ASIAEXAMPLE", expiration: "Nov 22, 2026, 1:00:00 PM" } },
    resources: [
      { accountId: "111122223333", type: "AWS::IAM::Role", ARN: "arn:aws:iam::111122223333:role/app" },
    ],
  };
}

function loadTemplates(): Record<string, any>[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith(".json"))
    .map((name) => JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")))
    .map((record) => (record["detail-type"] ? record.detail : record));
}

/** Calls the remediator judges as changes: security-group rules and file-system policies. */
const JUDGED_CHANGES = new Set([
  "AuthorizeSecurityGroupIngress",
  "AuthorizeSecurityGroupEgress",
  "ModifySecurityGroupRules",
  "PutFileSystemPolicy",
]);

/** The templates that are judged changes: successful calls, not the remediator's own, well formed. */
function judgedTemplates(): Record<string, any>[] {
  return readdirSync(FIXTURES)
    .filter(
      (name) => name.endsWith(".json") && !/by-remediator-role|oversized|truncated|malformed/.test(name),
    )
    .map((name) => JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")))
    .map((record) => (record["detail-type"] ? record.detail : record))
    .filter((record) => JUDGED_CHANGES.has(record.eventName) && !record.errorCode);
}

export interface GeneratedTrail {
  readonly dir: string;
  readonly files: string[];
  readonly uncompressedBytes: number;
  readonly compressedBytes: number;
}

/**
 * Writes (or reuses) a trail of at least `targetBytes` of JSON in files of ~`fileBytes` each. By
 * default one record in five is a security-group or file-system call of any kind (failed ones and
 * the remediator's own included); with `judgedShare`, that share of the records are judged changes
 * (security-group rules granted or modified, file-system policies put) and the rest unrelated.
 */
export function generateTrail(
  dir: string,
  targetBytes: number,
  fileBytes = 2_000_000,
  seed = 7,
  judgedShare?: number,
): GeneratedTrail {
  const unrelatedShare = judgedShare === undefined ? UNRELATED_SHARE : 1 - judgedShare;
  const marker = `${dir}.complete-${targetBytes}-${fileBytes}-${seed}-${unrelatedShare}${judgedShare === undefined ? "" : "-judged"}.json`;
  if (existsSync(marker)) {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".json.gz"))
      .sort()
      .map((f) => join(dir, f));
    const meta = JSON.parse(readFileSync(marker, "utf8")) as { uncompressedBytes: number };
    const compressedBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
    return { dir, files, uncompressedBytes: meta.uncompressedBytes, compressedBytes };
  }
  mkdirSync(dir, { recursive: true });
  const next = random(seed);
  const templates = judgedShare === undefined ? loadTemplates() : judgedTemplates();
  const files: string[] = [];
  let uncompressedBytes = 0;
  let compressedBytes = 0;
  let time = Date.parse("2026-11-01T00:00:00Z");
  while (uncompressedBytes < targetBytes) {
    const records: Record<string, any>[] = [];
    let size = 0;
    while (size < fileBytes) {
      const template = templates[Math.floor(next() * templates.length)] as Record<string, any>;
      const record = structuredClone(template);
      record.eventID = uuid(next);
      time += 50;
      record.eventTime = new Date(time).toISOString().replace(/\.\d+Z$/, "Z");
      record.sourceIPAddress = `198.51.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}`;
      // Real trails are mostly other services' calls; here one record in five is a security-group or
      // file-system call (or a failed / service event about one), far more than a real trail carries.
      const body = next() < unrelatedShare ? unrelated(record, next) : record;
      const permission = body.requestParameters?.ipPermissions?.items?.[0];
      if (permission?.ipRanges?.items?.[0]) {
        // Vary sources and ports so the judgement does real work on every record.
        const choices = [
          "0.0.0.0/0",
          "10.0.0.0/8",
          `203.0.113.${Math.floor(next() * 256)}/32`,
          "100.64.0.0/10",
        ];
        permission.ipRanges.items[0].cidrIp = choices[Math.floor(next() * choices.length)];
        const port = [22, 443, 2049, 3389, 8080][Math.floor(next() * 5)];
        if (permission.fromPort !== undefined) {
          permission.fromPort = port;
          permission.toPort = port;
        }
      }
      records.push(body);
      size += JSON.stringify(body).length;
    }
    const text = JSON.stringify({ Records: records });
    const gz = gzipSync(text);
    const file = join(
      dir,
      `111122223333_CloudTrail_eu-west-1_${String(files.length).padStart(4, "0")}.json.gz`,
    );
    writeFileSync(file, gz);
    files.push(file);
    uncompressedBytes += Buffer.byteLength(text);
    compressedBytes += gz.byteLength;
  }
  writeFileSync(marker, JSON.stringify({ uncompressedBytes }));
  return { dir, files, uncompressedBytes, compressedBytes };
}
