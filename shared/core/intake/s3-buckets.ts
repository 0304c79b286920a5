/**
 * S3 bucket calls that can weaken the bucket behind an S3 Files file system. Their CloudTrail
 * bodies are the REST API's XML turned into JSON: `PutBucketPolicy` carries the policy as an object
 * in `bucketPolicy`, `PutBucketVersioning` the `VersioningConfiguration` element,
 * `PutBucketPublicAccessBlock` the `PublicAccessBlockConfiguration` element (a setting left out is
 * `false`, as the API documents), and `PutBucketAcl` either a canned ACL header (`x-amz-acl`),
 * grant headers (`x-amz-grant-read`, …) or an `AccessControlPolicy` body.
 */
import { z } from "zod";
import { formatZodIssues } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import { parsePolicy } from "../policy/document.ts";
import type { BucketAclGrant, BucketState, ChangeDetail, PublicAccessBlock } from "../types.ts";

export const S3_SOURCE = "s3.amazonaws.com";

/** The calls whose judgement changes a verdict on the bucket layer. */
export const BUCKET_JUDGED_EVENTS: readonly string[] = [
  "PutBucketPolicy",
  "DeleteBucketPolicy",
  "PutBucketVersioning",
  "PutBucketPublicAccessBlock",
  "DeleteBucketPublicAccessBlock",
  "PutBucketAcl",
];

export const ALL_USERS_URI = "http://acs.amazonaws.com/groups/global/AllUsers";
export const AUTHENTICATED_USERS_URI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY_URI = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/** What each canned ACL grants besides the owner's own full control (S3 user guide, "Canned ACL"). */
const CANNED_ACL_GRANTS: Readonly<Record<string, readonly BucketAclGrant[]>> = {
  private: [],
  "public-read": [{ granteeType: "Group", grantee: ALL_USERS_URI, permission: "READ" }],
  "public-read-write": [
    { granteeType: "Group", grantee: ALL_USERS_URI, permission: "READ" },
    { granteeType: "Group", grantee: ALL_USERS_URI, permission: "WRITE" },
  ],
  "authenticated-read": [{ granteeType: "Group", grantee: AUTHENTICATED_USERS_URI, permission: "READ" }],
  "aws-exec-read": [],
  "bucket-owner-read": [],
  "bucket-owner-full-control": [],
  "log-delivery-write": [
    { granteeType: "Group", grantee: LOG_DELIVERY_URI, permission: "WRITE" },
    { granteeType: "Group", grantee: LOG_DELIVERY_URI, permission: "READ_ACP" },
  ],
};

const GRANT_HEADERS: Readonly<Record<string, string>> = {
  "x-amz-grant-read": "READ",
  "x-amz-grant-write": "WRITE",
  "x-amz-grant-read-acp": "READ_ACP",
  "x-amz-grant-write-acp": "WRITE_ACP",
  "x-amz-grant-full-control": "FULL_CONTROL",
};

/** CloudTrail writes request headers as one-element lists; tolerate a bare string. */
const headerValue = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

/** A Block Public Access setting: XML booleans arrive as JSON booleans (or, from some pipelines, text). */
const flag = z
  .union([z.boolean(), z.enum(["true", "false", "TRUE", "FALSE", "True", "False"])])
  .transform((v) => v === true || (typeof v === "string" && v.toLowerCase() === "true"));

const bucketNameSchema = z.object({ bucketName: z.string().min(1) });

const policyParametersSchema = z.object({
  bucketName: z.string().min(1),
  // An object in CloudTrail; a pipeline that re-serialised it may hand over the text.
  bucketPolicy: z.union([z.string(), z.record(z.string(), z.unknown()).transform((p) => JSON.stringify(p))]),
});

const versioningParametersSchema = z.object({
  bucketName: z.string().min(1),
  VersioningConfiguration: z.object({
    Status: z.enum(["Enabled", "Suspended"]).optional(),
    MfaDelete: z.enum(["Enabled", "Disabled"]).optional(),
  }),
});

const publicAccessBlockParametersSchema = z.object({
  bucketName: z.string().min(1),
  PublicAccessBlockConfiguration: z.object({
    BlockPublicAcls: flag.optional(),
    IgnorePublicAcls: flag.optional(),
    BlockPublicPolicy: flag.optional(),
    RestrictPublicBuckets: flag.optional(),
  }),
});

const granteeSchema = z.object({
  "xsi:type": z.string().optional(),
  URI: z.string().optional(),
  ID: z.string().optional(),
  EmailAddress: z.string().optional(),
});
const grantSchema = z.object({ Grantee: granteeSchema, Permission: z.string().min(1) });

const aclParametersSchema = z.object({
  bucketName: z.string().min(1),
  "x-amz-acl": headerValue.optional(),
  "x-amz-grant-read": headerValue.optional(),
  "x-amz-grant-write": headerValue.optional(),
  "x-amz-grant-read-acp": headerValue.optional(),
  "x-amz-grant-write-acp": headerValue.optional(),
  "x-amz-grant-full-control": headerValue.optional(),
  AccessControlPolicy: z
    .object({
      AccessControlList: z
        .object({ Grant: z.union([grantSchema, z.array(grantSchema)]).optional() })
        .nullish(),
    })
    .optional(),
});

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(`${where}: ${formatZodIssues(result.error)}`);
  return result.data;
}

/** `uri="http://…/AllUsers", id="…"` (the grant header syntax) as grants of one permission. */
function headerGrants(values: readonly string[], permission: string): BucketAclGrant[] {
  const grants: BucketAclGrant[] = [];
  for (const value of values) {
    for (const part of value.split(",")) {
      const match = /^\s*(uri|id|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(part);
      if (!match) continue;
      const kind = (match[1] as string).toLowerCase();
      grants.push({
        granteeType: kind === "uri" ? "Group" : kind === "id" ? "CanonicalUser" : "AmazonCustomerByEmail",
        grantee: match[2] as string,
        permission,
      });
    }
  }
  return grants;
}

function aclGrantsOf(params: z.output<typeof aclParametersSchema>): BucketAclGrant[] {
  const grants: BucketAclGrant[] = [];
  const canned = params["x-amz-acl"]?.[0];
  if (canned !== undefined) {
    const known = CANNED_ACL_GRANTS[canned];
    if (!known) throw new InvalidInputError(`requestParameters.x-amz-acl: unknown canned ACL "${canned}"`);
    grants.push(...known);
  }
  for (const [header, permission] of Object.entries(GRANT_HEADERS)) {
    const values = params[header as keyof typeof params] as string[] | undefined;
    if (values) grants.push(...headerGrants(values, permission));
  }
  const listed = params.AccessControlPolicy?.AccessControlList?.Grant;
  for (const grant of listed === undefined ? [] : Array.isArray(listed) ? listed : [listed]) {
    const g = grant.Grantee;
    grants.push({
      granteeType: g["xsi:type"] ?? (g.URI ? "Group" : g.ID ? "CanonicalUser" : "AmazonCustomerByEmail"),
      grantee: g.URI ?? g.ID ?? g.EmailAddress ?? "",
      permission: grant.Permission,
    });
  }
  return grants;
}

function bucketState(bucket: string, trigger: string, state: BucketState): ChangeDetail {
  return { kind: "bucket-state", bucket, trigger, state };
}

/** Normalises a judged S3 bucket call; `undefined` when the call is not one of those. */
export function bucketChange(
  eventName: string,
  requestParameters: unknown,
  options: { readonly unparsedPolicy?: "invalid" | "judge-live" } = {},
): ChangeDetail | undefined {
  switch (eventName) {
    case "PutBucketPolicy": {
      const params = parseOrThrow(policyParametersSchema, requestParameters, "requestParameters");
      // A policy S3 accepted always parses; one that does not was cut by a log pipeline and cannot
      // be judged or edited from the event. Offline that is invalid input; live, the event still
      // says which bucket changed, and the policy is read from S3.
      try {
        parsePolicy(params.bucketPolicy);
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        const problem = `requestParameters.bucketPolicy: ${error.message}`;
        if (options.unparsedPolicy === "judge-live") {
          return {
            kind: "bucket-state",
            bucket: params.bucketName,
            trigger: eventName,
            state: {},
            unparsedProblem: problem,
          };
        }
        throw new InvalidInputError(problem);
      }
      return bucketState(params.bucketName, eventName, { policyText: params.bucketPolicy });
    }
    case "DeleteBucketPolicy": {
      const params = parseOrThrow(bucketNameSchema, requestParameters, "requestParameters");
      return bucketState(params.bucketName, eventName, { policyText: null });
    }
    case "PutBucketVersioning": {
      const params = parseOrThrow(versioningParametersSchema, requestParameters, "requestParameters");
      const { Status, MfaDelete } = params.VersioningConfiguration;
      // A request without Status leaves the status as it was: only MFA delete changed.
      return bucketState(
        params.bucketName,
        eventName,
        Status ? { versioning: { status: Status, mfaDelete: MfaDelete && MfaDelete === "Enabled" } } : {},
      );
    }
    case "PutBucketPublicAccessBlock": {
      const params = parseOrThrow(publicAccessBlockParametersSchema, requestParameters, "requestParameters");
      const c = params.PublicAccessBlockConfiguration;
      const block: PublicAccessBlock = {
        blockPublicAcls: c.BlockPublicAcls ?? false,
        ignorePublicAcls: c.IgnorePublicAcls ?? false,
        blockPublicPolicy: c.BlockPublicPolicy ?? false,
        restrictPublicBuckets: c.RestrictPublicBuckets ?? false,
      };
      return bucketState(params.bucketName, eventName, { publicAccessBlock: block });
    }
    case "DeleteBucketPublicAccessBlock": {
      const params = parseOrThrow(bucketNameSchema, requestParameters, "requestParameters");
      return bucketState(params.bucketName, eventName, { publicAccessBlock: null });
    }
    case "PutBucketAcl": {
      const params = parseOrThrow(aclParametersSchema, requestParameters, "requestParameters");
      return bucketState(params.bucketName, eventName, { aclGrants: aclGrantsOf(params) });
    }
    default:
      return undefined;
  }
}
