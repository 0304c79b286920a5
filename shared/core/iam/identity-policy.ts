/**
 * Identity policies (attached to roles, users and groups): decoded and parsed into the same model
 * as file-system policies. An identity policy has no `Principal`: it applies to whoever holds it.
 */
import { InvalidInputError } from "../errors.ts";
import { type PolicyDocument, policyFromJson } from "../policy/document.ts";

/** IAM's managed policies are at most 6,144 characters, inline ones at most 10,240 (roles). */
export const MAX_IDENTITY_POLICY_CHARS = 10_240;

/**
 * IAM's Get APIs (GetPolicyVersion, GetRolePolicy, GetUserPolicy, GetGroupPolicy,
 * GetAccountAuthorizationDetails) return documents URL-encoded (RFC 3986); some CloudTrail records do
 * too. A JSON document always starts with `{`, so anything else is decoded once.
 */
export function decodePolicyDocument(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return trimmed;
  try {
    return decodeURIComponent(trimmed).trim();
  } catch {
    throw new InvalidInputError("policy document: neither JSON nor URL-encoded JSON");
  }
}

/**
 * Parses an identity policy (JSON text or URL-encoded JSON). Throws `InvalidInputError` with a plain
 * message when it is not JSON, too long, or not shaped like an IAM identity policy.
 */
export function parseIdentityPolicy(text: string): PolicyDocument {
  const decoded = decodePolicyDocument(text);
  if (decoded.length > MAX_IDENTITY_POLICY_CHARS) {
    throw new InvalidInputError(
      `identity policy: ${decoded.length} characters, more than the ${MAX_IDENTITY_POLICY_CHARS} IAM accepts`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(decoded);
  } catch (error) {
    throw new InvalidInputError(
      `identity policy: not valid JSON (malformed or truncated): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // The engine's parser reads it as an identity policy: no Principal, the rest as for any policy.
  return policyFromJson(json, "identity");
}
