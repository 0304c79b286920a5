/**
 * EventBridge rules that route every CloudTrail event the engine judges into the intake queue.
 * The patterns are generated from the engine's `JUDGED_EVENTS`, so a newly judged call is routed
 * the moment the engine learns it.
 *
 * Rules match on `detail-type`, `detail.eventSource` and on `source` beginning with `aws.`. Only AWS
 * may put an event whose `source` begins with `aws.` (EventBridge refuses such `PutEvents` entries
 * from anyone else), so a principal allowed to write to the bus cannot forge a CloudTrail record
 * with a custom source. CloudTrail events carry `source: aws.<service>` (EventBridge events
 * reference, "events delivered via AWS CloudTrail"); the prefix rather than a list because the
 * source of S3 Files events is not documented. The runtime also checks that the envelope's account
 * and region agree with the record (`unwrapRecord`).
 */
import * as events from "aws-cdk-lib/aws-events";
import { Construct } from "constructs";
import { JUDGED_EVENTS } from "../../shared/core/intake/intake.ts";

export const CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail";

/** The `source` of every event AWS itself emits; nobody else may put one on a bus. */
export const AWS_SOURCE_PREFIX = "aws.";

/** The `source` matcher of every rule that acts on a CloudTrail record. */
export function awsSourceOnly(): string[] {
  return events.Match.prefix(AWS_SOURCE_PREFIX);
}

/** One routed family: a CloudTrail event source and the event names judged for it. */
export interface JudgedEventFamily {
  /** Short, stable label used in resource names (`ec2`, `s3files`, `efs`). */
  readonly label: string;
  readonly eventSource: string;
  readonly eventNames: readonly string[];
}

/** Every judged family, from the engine's own list. */
export function judgedEventFamilies(): JudgedEventFamily[] {
  return Object.entries(JUDGED_EVENTS).map(([eventSource, eventNames]) => ({
    label: eventSource.replace(/\.amazonaws\.com$/, "").replace("elasticfilesystem", "efs"),
    eventSource,
    eventNames: [...eventNames].sort(),
  }));
}

export function judgedEventPattern(family: JudgedEventFamily): events.EventPattern {
  return {
    source: awsSourceOnly(),
    detailType: [CLOUDTRAIL_DETAIL_TYPE],
    detail: { eventSource: [family.eventSource], eventName: [...family.eventNames] },
  };
}

export interface JudgedEventRulesProps {
  /** Rule name prefix, such as `s3files-remediator-intake`. */
  readonly namePrefix: string;
  /** The bus the rules listen on; the account's default bus when absent. */
  readonly eventBus?: events.IEventBus;
  /** Where matching events go: the intake queue, or the central bus (from a member account). */
  readonly target: () => events.IRuleTarget;
}

/** One rule per judged family, each into the queue (or forwarded to the central bus). */
export class JudgedEventRules extends Construct {
  readonly rules: events.Rule[] = [];
  /** Literal names, for alarms (`Ref` of a rule on a custom bus is `bus|rule`). */
  readonly ruleNames: string[] = [];

  constructor(scope: Construct, id: string, props: JudgedEventRulesProps) {
    super(scope, id);
    for (const family of judgedEventFamilies()) {
      const ruleName = `${props.namePrefix}-${family.label}`;
      this.ruleNames.push(ruleName);
      this.rules.push(
        new events.Rule(this, `Rule-${family.label}`, {
          ruleName,
          description: `Routes judged ${family.eventSource} CloudTrail events to the S3 Files remediator`,
          eventBus: props.eventBus,
          eventPattern: judgedEventPattern(family),
          targets: [props.target()],
        }),
      );
    }
  }
}
