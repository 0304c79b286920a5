/**
 * One remediator function: its own named role (no managed policies, only what it calls), its own
 * log group with retention, and the bundle `npm run build` produced.
 */
import { Aws, type Duration, RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";

/** Runtime of both functions; the bundles target Node.js 20+ ESM. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;
/** Arm64 is about 20% cheaper per GB-second than x86 for the same pure-JavaScript bundle. */
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;

export interface RemediatorFunctionProps {
  /** `<name>-<function>`: the function name; its role is `<name>-<function>-<region>`. */
  readonly functionName: string;
  readonly description: string;
  readonly assetDirectory: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Reserved concurrency; none unless the deployment opts in (`reserveConcurrency`). */
  readonly reservedConcurrency: number | undefined;
  readonly logRetentionDays: number;
  readonly environment: Record<string, string>;
}

export class RemediatorFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RemediatorFunctionProps) {
    super(scope, id);
    // No fixed name: a retained log group with a fixed name would make every later deploy fail
    // with "already exists" (after a destroy). Kept on update and delete, removed when the first
    // create rolls back, so a failed first deploy leaves nothing behind.
    this.logGroup = new logs.LogGroup(this, "LogGroup", {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    // A fixed, region-qualified name: the member-account role trusts exactly this ARN, and the
    // loop guard recognises its sessions.
    this.role = new iam.Role(this, "Role", {
      roleName: `${props.functionName}-${Aws.REGION}`,
      description: `Role of the ${props.functionName} function`,
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "WriteOwnLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        // The log group's ARN attribute ends in `:*`: its streams, and nothing else.
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new lambda.Function(this, "Function", {
      functionName: props.functionName,
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      handler: "index.handler",
      code: lambda.Code.fromAsset(props.assetDirectory),
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: props.environment,
    });
    NagSuppressions.addResourceSuppressions(this.function, [
      {
        id: "AwsSolutions-L1",
        reason:
          "Pinned to nodejs22.x, the runtime the bundles are built and tested for; a runtime change is a " +
          "deliberate release, not a side effect of upgrading the CDK library.",
      },
    ]);
  }
}
