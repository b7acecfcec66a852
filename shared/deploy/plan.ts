// Pure decisions of the deploy path: which environments an image goes to, what to do on each
// service given what is already there, which revision is the last good one, and what to send
// ECS. No I/O here: everything is tested with tables of cases.
import type { DeploymentConfiguration } from "@aws-sdk/client-ecs";
import type { App, Environment, PipelineConfig, Strategy, StrategyType } from "../config/model";
import { pushedAtOfKey, type Head, type TargetState } from "../records/model";
import type { ServiceState, Traffic } from "./ecs";

export type Match = { apps: { app: App; environments: Environment[] }[] } | { ignored: string };

/** Environments fed directly by images (not by promotion) of the apps that use `repository`. */
export function matchPush(config: PipelineConfig, repository: string, tag: string | undefined): Match {
  const apps = config.apps.filter((a) => a.repository === repository);
  if (apps.length === 0) return { ignored: `repository ${repository} is not configured for any app` };
  if (tag === undefined) {
    return { ignored: "untagged push (a platform manifest of a multi-arch image, or a push by digest); deploys follow the tagged push" };
  }
  const matching = apps.filter((a) => a.tags === null || a.tags.test(tag));
  if (matching.length === 0) {
    return { ignored: `tag ${tag} does not match ${apps.map((a) => `apps.${a.name}.tags ${a.tags?.source ?? ""}`).join(", ")}` };
  }
  return { apps: matching.map((app) => ({ app, environments: pushFed(app) })) };
}

/** Like matchPush, for the apps built by a CodeBuild project. */
export function matchBuild(config: PipelineConfig, project: string): App[] {
  return config.apps.filter((a) => a.buildProject === project);
}

export function pushFed(app: App): Environment[] {
  return app.environments.filter((env) => !env.promote);
}

export type Arrival =
  /** Nothing of Stevedore's is on the service, or an older image is: deploy. */
  | { kind: "new" }
  /** This image already owns the service (a repeated event, a multi-arch sibling, both triggers). */
  | { kind: "duplicate"; status: string }
  /** This image's claim was abandoned by an invocation that died: start it again. */
  | { kind: "resume" }
  /** A newer image already owns the service: this one must never replace it. */
  | { kind: "stale"; newer: Head }
  /** Pushed in the same second as the head's image, and nothing tells which came first. */
  | { kind: "tie"; other: Head };

/** An arriving image, as its order among images needs it. */
export interface Arriving {
  digest: string;
  /** ECR's push time (to the second). */
  pushedAt: string;
  /** The tag it was pushed with. */
  tag?: string;
  /** The tags ECR gives it now, when read (a push or a build); unknown for a promotion. */
  tagsNow?: string[];
}

/**
 * Images are ordered by ECR's push time. ECR keeps it to the second, so two pushes can tie; a
 * tie is broken only by what ECR itself records of their order: a mutable tag both were pushed
 * with belongs to the later push. Otherwise nothing tells which is newer (never the digest).
 */
export function classifyArrival(state: TargetState, image: Arriving, wallNow: number): Arrival {
  const { head, record } = state;
  if (!head) return { kind: "new" };
  if (head.digest === image.digest) {
    if (record && record.status === "pending" && (record.leaseUntil ?? 0) < wallNow) return { kind: "resume" };
    return { kind: "duplicate", status: record?.status ?? "unknown" };
  }
  const headPushedAt = Date.parse(pushedAtOfKey(head.pushKey));
  const pushedAt = Date.parse(image.pushedAt);
  if (headPushedAt > pushedAt) return { kind: "stale", newer: head };
  if (headPushedAt < pushedAt) return { kind: "new" };
  if (image.tag !== undefined && image.tag === record?.tag && image.tagsNow !== undefined) {
    return image.tagsNow.includes(image.tag) ? { kind: "new" } : { kind: "stale", newer: head };
  }
  return { kind: "tie", other: head };
}

/**
 * The revision to return to if this deployment has to be undone: the newest one ECS finished
 * rolling out. Not simply the service's current task definition, which during a rollout is the
 * unproven new one (rolling back to it is the "wrong revision" bug of other tools).
 */
export function lastStableTaskDefinition(service: ServiceState): string | undefined {
  const completed = service.deployments
    .filter((d) => d.rolloutState === "COMPLETED" && d.taskDefinition)
    .sort((a, b) => (b.createdAt ?? "").localeCompare(a.createdAt ?? ""));
  return completed[0]?.taskDefinition ?? service.taskDefinition;
}

/** Why the service cannot be deployed to, or null. Checked before any write. */
export function serviceProblem(service: ServiceState, strategy: Strategy): string | null {
  const name = `${service.cluster}/${service.service}`;
  if (service.status === "MISSING") return `service ${name} does not exist`;
  if (service.status !== "ACTIVE") return `service ${name} is ${service.status}`;
  if (service.controller !== "ECS") {
    return `service ${name} uses the ${service.controller} deployment controller; Stevedore drives ECS-native deployments only`;
  }
  return strategy.type === "ROLLING" ? null : trafficProblem(name, service.traffic, strategy.type);
}

const STRATEGY_NAMES: Record<StrategyType, string> = { ROLLING: "rolling", BLUE_GREEN: "blue-green", LINEAR: "linear", CANARY: "canary" };
const ADVANCED_FIELDS = [
  ["alternateTargetGroupArn", "an alternate target group"],
  ["productionListenerRule", "a production listener rule"],
  ["roleArn", "a role for ECS to call Elastic Load Balancing"],
] as const;

/**
 * ECS shifts a blue-green, linear or canary deployment's traffic either between two target
 * groups of a load balancer with advanced configuration (alternate target group, production
 * listener rule, role) or through Service Connect; UpdateService refuses the strategy on a
 * service with neither. Checked before anything is registered, naming what the service lacks.
 */
function trafficProblem(name: string, traffic: Traffic, type: StrategyType): string | null {
  if (traffic.serviceConnect) return null;
  if (traffic.loadBalancers.some((lb) => ADVANCED_FIELDS.every(([field]) => lb[field]))) return null;
  const lacks =
    traffic.loadBalancers.length === 0
      ? "it has no load balancer and no Service Connect"
      : `its load balancer${traffic.loadBalancers.length > 1 ? "s lack" : " lacks"} advanced configuration: ${
          ADVANCED_FIELDS.filter(([field]) => !traffic.loadBalancers.some((lb) => lb[field]))
            .map(([, what]) => what)
            .join(", ") || "a complete set on one load balancer"
        }`;
  return (
    `service ${name} cannot take a ${STRATEGY_NAMES[type]} deployment: ${lacks}. ECS shifts its traffic between two target groups ` +
    "(the load balancer's advancedConfiguration: alternateTargetGroupArn, productionListenerRule, roleArn) or through Service Connect; " +
    "add them to the service, or set the environment's strategy to rolling"
  );
}

/**
 * What UpdateService gets: the circuit breaker with rollback always, the environment's alarms
 * with rollback, its strategy, and the service's own sizing (minimum/maximum percent) kept as
 * it is. Strategy fields are only sent for the strategy that accepts them.
 */
export function deploymentConfiguration(env: Environment, current: DeploymentConfiguration | undefined): DeploymentConfiguration {
  const config: DeploymentConfiguration = {
    ...(current?.maximumPercent !== undefined ? { maximumPercent: current.maximumPercent } : {}),
    ...(current?.minimumHealthyPercent !== undefined ? { minimumHealthyPercent: current.minimumHealthyPercent } : {}),
    deploymentCircuitBreaker: { enable: true, rollback: true },
    alarms: { alarmNames: env.alarms, enable: env.alarms.length > 0, rollback: env.alarms.length > 0 },
    strategy: env.strategy.type,
  };
  const { strategy } = env;
  if (strategy.type !== "ROLLING") {
    if (strategy.bakeTimeMinutes !== undefined) config.bakeTimeInMinutes = strategy.bakeTimeMinutes;
    if (strategy.lifecycleHooks) {
      config.lifecycleHooks = strategy.lifecycleHooks.map((h) => ({ ...h, lifecycleStages: h.lifecycleStages as never }));
    }
  }
  if (strategy.type === "LINEAR" && strategy.linear) {
    config.linearConfiguration = { stepPercent: strategy.linear.stepPercent, stepBakeTimeInMinutes: strategy.linear.stepBakeTimeMinutes };
  }
  if (strategy.type === "CANARY" && strategy.canary) {
    config.canaryConfiguration = { canaryPercent: strategy.canary.canaryPercent, canaryBakeTimeInMinutes: strategy.canary.canaryBakeTimeMinutes };
  }
  return config;
}

/** `arn:…:task-definition/shop-web-staging:41` → `shop-web-staging:41` */
export function shortTaskDefinition(arn: string): string {
  return arn.replace(/^arn:[^/]*\//, "");
}
