/**
 * STS adapter: `AssumeRole` of the member remediation role. Retrying and classifying failures is
 * the caller's (`MemberCredentials`), so this makes one call and reports what STS said.
 */
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type { TemporaryCredentials } from "../runtime/member-credentials.ts";

/** STS's default session length; the cache refreshes it a few minutes before the end. */
const SESSION_SECONDS = 3600;

export class StsRoleAssumer {
  constructor(private readonly sts: STSClient) {}

  async assume(roleArn: string, sessionName: string): Promise<TemporaryCredentials> {
    const answer = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        DurationSeconds: SESSION_SECONDS,
      }),
    );
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error(`sts:AssumeRole on ${roleArn} answered without complete credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  }
}
