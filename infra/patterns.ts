// The EventBridge patterns of the stack's rules, narrowed to what the config names. A rule's
// pattern may hold at most 2,048 characters (EventBridge's quota), and a long list (200 services,
// alarms or repositories) would not fit: such a list is then narrowed to the longest shared
// prefixes that make it fit. Every function checks an event against the config again before it
// acts (an unconfigured service, alarm, repository, project or app is ignored), so a prefix only
// costs an invocation now and then, never a wrong deployment.
import { WARM_UP_EVENTS } from "../shared/rollback/warm-up";
import { StackError } from "./errors";
import type { Inventory } from "./inventory";
import { EVENTBRIDGE, patternLength } from "./quotas";
import { partitionOf, resolve, type Ref } from "./template";

/** The final states of a CodeBuild build: the only ones on-build-finished acts on. */
export const FINAL_BUILD_STATUSES = ["SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"];

/** A rule must list something: it is disabled then, with a value no event carries. */
const NONE = ["(none configured)"];

/**
 * What a fitted pattern may take: 90% of the quota, as CloudFormation serializes the pattern
 * itself before PutRule and might add whitespace that EventBridge counts.
 */
const PATTERN_BUDGET = Math.floor(EVENTBRIDGE.patternChars * 0.9);

type Match = string | { prefix: string } | { wildcard: string };
type Pattern = Record<string, unknown>;

export interface Patterns {
  patterns: Record<"imagePushed" | "buildFinished" | "deploymentChanged" | "alarm" | "alarmWarmUp" | "promotionDecision", Pattern>;
  enabled: Record<"buildFinished" | "alarm" | "alarmWarmUp" | "promotionDecision", boolean>;
}

export function patternsOf(inventory: Inventory): Patterns {
  const { region } = inventory;
  // Every pattern names this account: an event bus can carry other accounts' events (a
  // cross-account rule, an organisation's bus), and none of them may deploy or roll back here.
  const account: Ref[] = [{ Ref: "AWS::AccountId" }];
  // ECS events name the service only in resources[0]; the account is matched by `account`.
  const serviceArns = (services: string[]) => services.map((s) => `arn:${partitionOf(region)}:ecs:${region}:*:service/${s}`);
  const fit = (values: string[], kind: "prefix" | "wildcard", pattern: (list: Match[]) => Pattern, what: string): Pattern =>
    values.length === 0 ? pattern(NONE) : fitted(values, kind, pattern, what, region);

  return {
    patterns: {
      imagePushed: fit(
        inventory.repositories,
        "prefix",
        (list) => ({
          account,
          source: ["aws.ecr"],
          "detail-type": ["ECR Image Action"],
          detail: { "action-type": ["PUSH"], result: ["SUCCESS"], "repository-name": list },
        }),
        "repositories",
      ),
      buildFinished: fit(
        inventory.buildProjects,
        "prefix",
        (list) => ({
          account,
          source: ["aws.codebuild"],
          "detail-type": ["CodeBuild Build State Change"],
          detail: { "project-name": list, "build-status": FINAL_BUILD_STATUSES },
        }),
        "build projects",
      ),
      deploymentChanged: fit(
        serviceArns(inventory.services),
        "wildcard",
        (list) => ({
          account,
          source: ["aws.ecs"],
          "detail-type": ["ECS Deployment State Change", "ECS Service Action"],
          resources: list,
        }),
        "services",
      ),
      alarm: fit(
        inventory.alarms,
        "prefix",
        (list) => ({
          account,
          source: ["aws.cloudwatch"],
          "detail-type": ["CloudWatch Alarm State Change"],
          detail: { alarmName: list, state: { value: ["ALARM"] } },
        }),
        "alarms",
      ),
      // A rollout of a guarded service starting or ending wakes on-alarm (shared/rollback/warm-up.ts).
      alarmWarmUp: fit(
        serviceArns(inventory.guardedServices),
        "wildcard",
        (list) => ({
          account,
          source: ["aws.ecs"],
          "detail-type": ["ECS Deployment State Change"],
          detail: { eventName: WARM_UP_EVENTS },
          resources: list,
        }),
        "guarded services",
      ),
      promotionDecision: fit(
        inventory.approvalApps,
        "prefix",
        (list) => ({
          account,
          source: ["stevedore"],
          "detail-type": ["Stevedore Promotion Decision"],
          detail: { app: list },
        }),
        "apps with manual approval",
      ),
    },
    enabled: {
      buildFinished: inventory.buildProjects.length > 0,
      alarm: inventory.alarms.length > 0,
      alarmWarmUp: inventory.guardedServices.length > 0,
      promotionDecision: inventory.approvalApps.length > 0,
    },
  };
}

/**
 * The pattern with `values` listed exactly if it fits EventBridge's quota; otherwise with the
 * values whose shared prefix is longest merged into that prefix, again and again until it fits.
 * Each merge widens the match as little as it can.
 */
export function fitted(values: string[], kind: "prefix" | "wildcard", pattern: (list: Match[]) => Pattern, what: string, region: string): Pattern {
  let groups = [...new Set(values)].sort().map((key) => ({ key, exact: true }));
  const render = () =>
    pattern(
      groups.map(({ key, exact }) =>
        exact ? (kind === "wildcard" ? { wildcard: key } : key) : kind === "wildcard" ? { wildcard: `${key}*` } : { prefix: key },
      ),
    );
  const size = () => patternLength(resolve(render(), { region, values: {} }));
  while (size() > PATTERN_BUDGET) {
    let best = "";
    for (let i = 0; i + 1 < groups.length; i++) {
      const shared = commonPrefix(groups[i]!.key, groups[i + 1]!.key);
      if (shared.length > best.length) best = shared;
    }
    if (!best) {
      throw new StackError(
        `the ${what} do not fit one EventBridge pattern (${size()} characters; the quota is ${EVENTBRIDGE.patternChars}, and ${PATTERN_BUDGET} leaves room for CloudFormation's formatting) ` +
          "even grouped by shared prefixes: split the config into several stacks",
      );
    }
    const merged = { key: best, exact: false };
    groups = [...groups.filter((g) => !g.key.startsWith(best)), merged].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return render();
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}
