import { fsPolicyRule } from "./fs-policy-rule.ts";

/**
 * EFS only: S3 Files always encrypts NFS traffic, so `aws:SecureTransport` adds nothing there. Notify
 * by default: adding the Deny cuts off clients that mount without TLS today.
 */
export const fsPolicyTlsNotEnforced = fsPolicyRule(
  "tls",
  {
    title: "EFS file-system policy does not enforce TLS",
    rationale:
      "Without a Deny on aws:SecureTransport = false (the statement the EFS console adds for 'Enforce in-transit encryption for all clients'), NFS clients may mount in clear text. EFS only: S3 Files always uses TLS. Notify by default, since enforcing cuts off clients that mount without TLS today; when enforced, the Deny is added and nothing else changes.",
    docsUrl: "https://docs.aws.amazon.com/efs/latest/ug/encryption-in-transit.html",
  },
  (service) => service === "efs",
);
