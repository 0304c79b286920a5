/**
 * The CDK app: `npm run synth` (or `npx cdk synth`) writes the templates to `cdk.out`.
 *
 * - `S3FilesRemediator`: the single-account stack, or the central stack in organization mode.
 * - `S3FilesRemediatorMember`: the member-account template for StackSets, synthesized when
 *   `organizationId`, `centralAccount` and `centralRegions` are set.
 *
 * Settings come from CDK context (`cdk.json`, `-c key=value`) and are validated before anything
 * is built (see `settings.ts`). cdk-nag's AwsSolutions checks run on every synth.
 */
import { readFileSync } from "node:fs";
import { App, Aspects, BootstraplessSynthesizer, type Stack } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { IamForwardingStack } from "./iam-forwarding-stack.ts";
import { MemberStack } from "./member-stack.ts";
import { RemediatorStack } from "./remediator-stack.ts";
import { memberTemplateSettings, parseSettings, type SettingKey, SettingsError } from "./settings.ts";

export const CENTRAL_STACK_ID = "S3FilesRemediator";
export const MEMBER_STACK_ID = "S3FilesRemediatorMember";
export const IAM_FORWARDING_STACK_ID = "S3FilesRemediatorIamForwarding";
export const MEMBER_IAM_FORWARDING_STACK_ID = "S3FilesRemediatorMemberIamForwarding";

export interface BuildAppOptions {
  /** Context values (tests); `cdk.json` and `-c` when absent. */
  readonly context?: Record<string, unknown>;
  readonly outdir?: string;
  /** Where the function bundles are (tests point at stubs when the real ones are absent). */
  readonly functionsDir?: string;
}

export interface RemediatorApp {
  readonly app: App;
  readonly central: RemediatorStack;
  readonly member: MemberStack | undefined;
  /** The IAM forwarding stacks (single account, organization member), when IAM is judged elsewhere. */
  readonly iamForwarding: readonly IamForwardingStack[];
  readonly stacks: readonly Stack[];
}

/**
 * The defaults in `cdk.json`, so that running the app directly (and the tests) sees the same
 * context as the CDK CLI; values the CLI passes (`-c`) still take precedence.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const file = new URL("../cdk.json", import.meta.url);
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { context?: Record<string, unknown> };
  return parsed.context ?? {};
}

export function buildApp(options: BuildAppOptions = {}): RemediatorApp {
  const app = new App({ context: { ...cdkJsonContext(), ...options.context }, outdir: options.outdir });
  const settings = parseSettings((key: SettingKey) => app.node.tryGetContext(key));
  const description = "S3 Files remediator: guardrail for Amazon S3 Files and EFS file-system access";

  const central = new RemediatorStack(app, CENTRAL_STACK_ID, {
    settings,
    functionsDir: options.functionsDir,
    description,
    analyticsReporting: false,
  });
  let member: MemberStack | undefined;
  const org = settings.organization;
  if (org?.centralAccount && org.centralRegions.length > 0) {
    const m = memberTemplateSettings(settings);
    member = new MemberStack(app, MEMBER_STACK_ID, {
      name: settings.name,
      organizationId: m.organizationId,
      centralAccount: m.centralAccount,
      centralRegions: m.centralRegions,
      memberRoleName: m.memberRoleName,
      description: `${description} (organization member: forwarding rules and remediation role)`,
      // StackSets deploy a plain template: no bootstrap version check, no assets.
      synthesizer: new BootstraplessSynthesizer(),
      analyticsReporting: false,
    });
  }
  const iamForwarding: IamForwardingStack[] = [];
  const { identity } = settings;
  if (identity.forwarded) {
    // IAM events reach EventBridge only in the IAM event region: forward them to the region that judges IAM.
    iamForwarding.push(
      new IamForwardingStack(app, IAM_FORWARDING_STACK_ID, {
        name: settings.name,
        iamRegion: identity.iamRegion,
        env: { region: identity.iamEventRegion },
        description: `${description} (IAM event forwarding from ${identity.iamEventRegion} to ${identity.iamRegion})`,
        analyticsReporting: false,
      }),
    );
  }
  // Members always forward IAM events (cross-account) to the identity layer's bus of the central account.
  if (member && org?.centralAccount) {
    iamForwarding.push(
      new IamForwardingStack(app, MEMBER_IAM_FORWARDING_STACK_ID, {
        name: settings.name,
        iamRegion: identity.iamRegion,
        centralAccount: org.centralAccount,
        description: `${description} (organization member: IAM event forwarding, deploy to ${identity.iamEventRegion} only)`,
        synthesizer: new BootstraplessSynthesizer(),
        analyticsReporting: false,
      }),
    );
  }
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  const stacks: Stack[] = [central, ...(member ? [member] : []), ...iamForwarding];
  return { app, central, member, iamForwarding, stacks };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    buildApp().app.synth();
  } catch (error) {
    if (error instanceof SettingsError || (error instanceof Error && error.name === "MissingBundleError")) {
      console.error(`synth failed: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
