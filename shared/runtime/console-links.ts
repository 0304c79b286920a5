/**
 * Where a person looks at a resource: its page in the AWS console of its partition. One link
 * builder per resource type, so a rule about a new kind of resource adds one entry here.
 */
import { partitionOf } from "../core/intake/cloudtrail-record.ts";

/** The console's host per partition (GovCloud and China have their own). */
const CONSOLE_HOSTS: Readonly<Record<string, string>> = {
  aws: "https://console.aws.amazon.com",
  "aws-us-gov": "https://console.amazonaws-us-gov.com",
  "aws-cn": "https://console.amazonaws.cn",
};

/** A resource named by its ARN or its id, split into what the link builders need. */
export interface ResourceRef {
  /** `ec2:security-group`, `elasticfilesystem:file-system`, `s3files:mount-target`, … */
  readonly type: string;
  readonly id: string;
  readonly partition: string;
  readonly region: string | undefined;
  readonly account: string | undefined;
  /** The file system a mount target or access point belongs to, when known. */
  readonly fileSystemId?: string;
}

const ID_TYPES: readonly (readonly [RegExp, string])[] = [
  [/^sg-[0-9a-f]+$/, "ec2:security-group"],
  [/^fsmt-[0-9a-f]+$/, "elasticfilesystem:mount-target"],
  [/^fsap-[0-9a-f]+$/, "elasticfilesystem:access-point"],
  [/^fs-[0-9a-f]+$/, "elasticfilesystem:file-system"],
];

/**
 * Reads an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:TYPE/ID[/SUBTYPE/SUBID]`) or a bare id.
 * `region` names the partition of a bare id; `fileSystemId` is what the record's state says.
 */
export function resourceRef(
  resource: string | undefined,
  region: string | undefined,
  fileSystemId?: string,
): ResourceRef | undefined {
  if (!resource) return undefined;
  if (resource.startsWith("arn:")) {
    const [, partition = "aws", service = "", arnRegion = "", account = "", ...rest] = resource.split(":");
    const path = rest.join(":").split("/");
    // S3 bucket ARNs have no type: `arn:aws:s3:::bucket`.
    if (service === "s3" && path.length === 1 && path[0]) {
      return { type: "s3:bucket", id: path[0], partition, region: region, account: undefined };
    }
    // IAM names carry a path (`role/ops/admin`): the name is the last part; a policy keeps its ARN.
    if (service === "iam" && path.length >= 2 && path[0]) {
      const name = path.at(-1) ?? "";
      return {
        type: `iam:${path[0]}`,
        id: path[0] === "policy" ? resource : name,
        partition,
        region,
        account,
      };
    }
    // `file-system/fs-1/access-point/fsap-1`: the last type/id pair names the resource.
    const type = path.length >= 4 ? path[2] : path[0];
    const id = path.length >= 4 ? path[3] : path[1];
    if (!type || !id) return undefined;
    const parentFs = path[0] === "file-system" && path.length >= 4 ? path[1] : undefined;
    const fs = parentFs ?? fileSystemId;
    return {
      type: `${service}:${type}`,
      id,
      partition,
      region: arnRegion || region,
      account: account || undefined,
      ...(fs ? { fileSystemId: fs } : {}),
    };
  }
  const type = ID_TYPES.find(([pattern]) => pattern.test(resource))?.[1];
  if (!type) return undefined;
  return {
    type,
    id: resource,
    partition: partitionOf(region),
    region,
    account: undefined,
    ...(fileSystemId ? { fileSystemId } : {}),
  };
}

type LinkBuilder = (ref: ResourceRef, host: string, region: string) => string | undefined;

const efs = (host: string, region: string, fragment: string) =>
  `${host}/efs/home?region=${region}#/${fragment}`;
/** The S3 console lists S3 Files file systems under "File systems"; it has no documented deep link. */
const s3files = (host: string, region: string) => `${host}/s3/home?region=${region}`;

/** One builder per resource type (`service:type`). */
const LINK_BUILDERS: Readonly<Record<string, LinkBuilder>> = {
  "ec2:security-group": (ref, host, region) =>
    `${host}/ec2/home?region=${region}#SecurityGroup:groupId=${ref.id}`,
  "elasticfilesystem:file-system": (ref, host, region) => efs(host, region, `file-systems/${ref.id}`),
  "elasticfilesystem:access-point": (ref, host, region) => efs(host, region, `access-points/${ref.id}`),
  // A mount target has no page of its own: its file system's network tab lists it.
  "elasticfilesystem:mount-target": (ref, host, region) =>
    ref.fileSystemId
      ? efs(host, region, `file-systems/${ref.fileSystemId}`)
      : efs(host, region, "file-systems"),
  "s3files:file-system": (_ref, host, region) => s3files(host, region),
  "s3files:access-point": (_ref, host, region) => s3files(host, region),
  "s3files:mount-target": (_ref, host, region) => s3files(host, region),
  "s3:bucket": (ref, host, region) => `${host}/s3/buckets/${encodeURIComponent(ref.id)}?region=${region}`,
  // IAM is global: its console pages take no region.
  "iam:role": (ref, host) => `${host}/iam/home#/roles/details/${encodeURIComponent(ref.id)}`,
  "iam:user": (ref, host) => `${host}/iam/home#/users/details/${encodeURIComponent(ref.id)}`,
  "iam:group": (ref, host) => `${host}/iam/home#/groups/details/${encodeURIComponent(ref.id)}`,
  "iam:policy": (ref, host) => `${host}/iam/home#/policies/details/${encodeURIComponent(ref.id)}`,
};

/** The console page of a resource, or `undefined` when its type or region is unknown. */
export function consoleUrl(ref: ResourceRef | undefined): string | undefined {
  if (!ref) return undefined;
  const host = CONSOLE_HOSTS[ref.partition];
  const build = LINK_BUILDERS[ref.type];
  const global = ref.type.startsWith("iam:");
  if (!host || !build || (!ref.region && !global)) return undefined;
  return build(ref, host, encodeURIComponent(ref.region ?? ""));
}
