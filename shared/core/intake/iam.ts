/**
 * IAM calls that can change who may be root on a file system. IAM is global: its CloudTrail events
 * reach EventBridge only in the IAM home region (us-east-1 in the commercial partition), with source
 * `aws.iam` and eventSource `iam.amazonaws.com`; a forwarding rule there sends them to the guardrail.
 *
 * Bodies are camelCase. `Put{Role,User,Group}Policy`, `CreatePolicy` and `CreatePolicyVersion` carry
 * `policyDocument` as a JSON string (some producers URL-encode it); `Attach*`/`Detach*` carry
 * `policyArn` and the entity name; `SetDefaultPolicyVersion` carries `policyArn` and `versionId`.
 */
import { z } from "zod";
import { formatZodIssues } from "../config.ts";
import { InvalidInputError } from "../errors.ts";
import { parseIdentityPolicy } from "../iam/identity-policy.ts";
import type { IamIdentityChange, IamTarget, IamTrigger } from "../iam/model.ts";

export const IAM_SOURCE = "iam.amazonaws.com";

/** The calls whose judgement can change the verdict; each is routed to the remediator. */
export const IAM_JUDGED_EVENTS: readonly string[] = [
  "AttachRolePolicy",
  "DetachRolePolicy",
  "PutRolePolicy",
  "DeleteRolePolicy",
  "PutRolePermissionsBoundary",
  "DeleteRolePermissionsBoundary",
  "AttachUserPolicy",
  "DetachUserPolicy",
  "PutUserPolicy",
  "DeleteUserPolicy",
  "PutUserPermissionsBoundary",
  "DeleteUserPermissionsBoundary",
  "AddUserToGroup",
  "RemoveUserFromGroup",
  "AttachGroupPolicy",
  "DetachGroupPolicy",
  "PutGroupPolicy",
  "DeleteGroupPolicy",
  "CreatePolicy",
  "CreatePolicyVersion",
  "SetDefaultPolicyVersion",
];

/** Known mutating IAM calls that cannot give anyone root on a file system: recorded, not judged. */
const RECOGNISED_UNJUDGED: readonly string[] = [
  "CreateRole",
  "DeleteRole",
  "CreateUser",
  "DeleteUser",
  "CreateGroup",
  "DeleteGroup",
  "DeletePolicy",
  // The default version cannot be deleted: deleting another one changes nothing in force.
  "DeletePolicyVersion",
  "UpdateAssumeRolePolicy",
  "TagRole",
  "UntagRole",
  "TagUser",
  "UntagUser",
  "TagPolicy",
  "UntagPolicy",
  "UpdateRole",
  "UpdateRoleDescription",
  "CreateServiceLinkedRole",
  "DeleteServiceLinkedRole",
];

export function isRecognisedUnjudgedIam(eventName: string): boolean {
  return RECOGNISED_UNJUDGED.includes(eventName);
}

const name = z.string().min(1);
const document = z.union([
  z.string().min(1),
  // Tolerate a pipeline that already parsed the JSON string.
  z.record(z.string(), z.unknown()).transform((value) => JSON.stringify(value)),
]);

const roleSchema = z.object({ roleName: name });
const userSchema = z.object({ userName: name });
const groupSchema = z.object({ groupName: name });
const attachSchema = z.object({ policyArn: z.string().min(1) });
const inlineSchema = z.object({ policyName: name, policyDocument: document.optional() });
const boundarySchema = z.object({ permissionsBoundary: z.string().min(1).optional() });
const membershipSchema = z.object({ userName: name, groupName: name });
const createPolicySchema = z.object({
  policyName: name,
  policyDocument: document,
  path: z.string().optional(),
});
const createPolicyResponse = z
  .object({ policy: z.object({ arn: z.string().optional() }).optional() })
  .nullish();
const policyVersionSchema = z.object({
  policyArn: z.string().min(1),
  policyDocument: document.optional(),
  setAsDefault: z.boolean().optional(),
  versionId: z.string().optional(),
});

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(`${where}: ${formatZodIssues(result.error)}`);
  return result.data;
}

/**
 * A document AWS accepted always parses; one that does not (truncated by a pipeline) cannot be judged
 * from the event: invalid input offline; live, it is dropped and the principals are judged as they are.
 */
function checkedDocument(text: string | undefined, unparsed: UnparsedPolicy): string | undefined {
  if (text === undefined) return undefined;
  try {
    parseIdentityPolicy(text);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    if (unparsed === "judge-live") return undefined;
    throw new InvalidInputError(`requestParameters.policyDocument: ${error.message}`);
  }
  return text;
}

type UnparsedPolicy = "invalid" | "judge-live";

function entityOf(eventName: string, params: unknown): IamTarget {
  if (eventName.includes("Role"))
    return { kind: "role", name: parseOrThrow(roleSchema, params, "requestParameters").roleName };
  if (
    eventName.includes("Group") &&
    !eventName.endsWith("UserToGroup") &&
    !eventName.endsWith("UserFromGroup")
  ) {
    return { kind: "group", name: parseOrThrow(groupSchema, params, "requestParameters").groupName };
  }
  return { kind: "user", name: parseOrThrow(userSchema, params, "requestParameters").userName };
}

const NONE: Omit<IamTrigger, "eventName" | "target"> = {
  policyArn: undefined,
  policyName: undefined,
  policyDocument: undefined,
  setAsDefault: undefined,
  groupName: undefined,
};

function change(trigger: IamTrigger): IamIdentityChange {
  return { kind: "iam-identity", trigger, principals: undefined, denyPolicyArn: undefined };
}

/** Normalises a judged IAM call; `undefined` when the call is not one of those. */
export function iamChange(
  eventName: string,
  requestParameters: unknown,
  responseElements: unknown,
  options: { readonly unparsedPolicy?: UnparsedPolicy } = {},
): IamIdentityChange | undefined {
  const unparsed = options.unparsedPolicy ?? "invalid";
  if (!IAM_JUDGED_EVENTS.includes(eventName)) return undefined;
  const params = requestParameters;
  if (/^(Attach|Detach)(Role|User|Group)Policy$/.test(eventName)) {
    const { policyArn } = parseOrThrow(attachSchema, params, "requestParameters");
    return change({ ...NONE, eventName, target: entityOf(eventName, params), policyArn });
  }
  if (/^(Put|Delete)(Role|User|Group)Policy$/.test(eventName)) {
    const inline = parseOrThrow(inlineSchema, params, "requestParameters");
    if (eventName.startsWith("Put") && inline.policyDocument === undefined) {
      throw new InvalidInputError("requestParameters.policyDocument: missing");
    }
    return change({
      ...NONE,
      eventName,
      target: entityOf(eventName, params),
      policyName: inline.policyName,
      policyDocument: checkedDocument(inline.policyDocument, unparsed),
    });
  }
  if (/^(Put|Delete)(Role|User)PermissionsBoundary$/.test(eventName)) {
    const { permissionsBoundary } = parseOrThrow(boundarySchema, params, "requestParameters");
    if (eventName.startsWith("Put") && permissionsBoundary === undefined) {
      throw new InvalidInputError("requestParameters.permissionsBoundary: missing");
    }
    return change({
      ...NONE,
      eventName,
      target: entityOf(eventName, params),
      policyArn: permissionsBoundary,
    });
  }
  if (eventName === "AddUserToGroup" || eventName === "RemoveUserFromGroup") {
    const { userName, groupName } = parseOrThrow(membershipSchema, params, "requestParameters");
    return change({ ...NONE, eventName, target: { kind: "user", name: userName }, groupName });
  }
  if (eventName === "CreatePolicy") {
    const created = parseOrThrow(createPolicySchema, params, "requestParameters");
    const response = parseOrThrow(createPolicyResponse, responseElements, "responseElements");
    return change({
      ...NONE,
      eventName,
      target: { kind: "policy", arn: response?.policy?.arn, name: created.policyName },
      policyName: created.policyName,
      policyArn: response?.policy?.arn,
      policyDocument: checkedDocument(created.policyDocument, unparsed),
    });
  }
  // CreatePolicyVersion, SetDefaultPolicyVersion
  const version = parseOrThrow(policyVersionSchema, params, "requestParameters");
  if (eventName === "CreatePolicyVersion" && version.policyDocument === undefined) {
    throw new InvalidInputError("requestParameters.policyDocument: missing");
  }
  return change({
    ...NONE,
    eventName,
    target: { kind: "policy", arn: version.policyArn, name: undefined },
    policyArn: version.policyArn,
    policyDocument: checkedDocument(version.policyDocument, unparsed),
    setAsDefault: eventName === "SetDefaultPolicyVersion" ? true : (version.setAsDefault ?? false),
  });
}
