// ECS for the sandbox: the part of the API Stevedore calls (RegisterTaskDefinition,
// DescribeServices, UpdateService, StopServiceDeployment, …) in the JSON 1.1 wire shapes the
// SDK reads, and rollouts that unfold over the sandbox's virtual time the way ECS's do:
//
//   UpdateService ─2 s─▶ IN_PROGRESS ─rollout (+ bake, steps, canary)─▶ COMPLETED, steady state
//        │ bad image ─40 s─▶ SERVICE_TASK_START_IMPAIRED
//        │           ─90 s─▶ FAILED (circuit breaker) ─▶ rollback: a NEW deployment, PRIMARY,
//        │                   on the last COMPLETED task definition ─60 s─▶ COMPLETED
//        │ guarding alarm → ALARM ─▶ FAILED (alarms) ─▶ rollback as above
//        └ StopServiceDeployment(ROLLBACK) ─▶ FAILED ─▶ rollback as above
//
// Events have exactly the shapes of the samples in test/events/ (ECS Deployment State Change,
// ECS Service Action). Everything times itself on the sandbox Clock, never on setTimeout.
import { createHash } from "node:crypto";
import { madeUpId } from "../random";
import type { RegisterTaskDefinitionCommandInput, Tag, TaskDefinition as EcsTaskDefinition } from "@aws-sdk/client-ecs";
import { SECOND, MINUTE, type Cancel, type Clock } from "../clock";
import { awsEvent, type Emit, type EventOrigin } from "../events";
import { AwsError, type AwsRequest, type AwsResponse } from "./server";

export const ECS_PREFIX = "AmazonEC2ContainerServiceV20141113";

type Json = Record<string, unknown>;

/** Virtual milliseconds a rollout's stages take. */
export interface EcsTiming {
  /** UpdateService → SERVICE_DEPLOYMENT_IN_PROGRESS. */
  inProgressAfter: number;
  /** A healthy ROLLING deployment from UpdateService to COMPLETED (strategies add their bake times). */
  rollout: number;
  /** A deployment whose tasks cannot start → SERVICE_TASK_START_IMPAIRED. */
  impairedAfter: number;
  /** …→ SERVICE_DEPLOYMENT_FAILED, when the circuit breaker is on. */
  circuitBreakerAfter: number;
  /** A rollback deployment from its start to COMPLETED. */
  rollbackDuration: number;
}

export const DEFAULT_ECS_TIMING: EcsTiming = {
  inProgressAfter: 2 * SECOND,
  rollout: 2 * MINUTE,
  impairedAfter: 40 * SECOND,
  circuitBreakerAfter: 90 * SECOND,
  rollbackDuration: 60 * SECOND,
};

const STRATEGIES = ["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"] as const;
type Strategy = (typeof STRATEGIES)[number];
const CONTROLLERS = ["ECS", "CODE_DEPLOY", "EXTERNAL"] as const;
export type DeploymentControllerType = (typeof CONTROLLERS)[number];

/**
 * How long a healthy deployment with this configuration takes from UpdateService to COMPLETED.
 * BLUE_GREEN adds bakeTimeInMinutes; CANARY the canary bake (default 10 min) and the bake;
 * LINEAR one stepBakeTimeInMinutes (default 6) between each of its ceil(100 / stepPercent)
 * steps (default 10 %) — ECS applies no step bake after the last step at 100 % — and the bake.
 */
export function rolloutDuration(config: Json | undefined, timing: EcsTiming = DEFAULT_ECS_TIMING): number {
  const strategy = (config?.strategy as Strategy | undefined) ?? "ROLLING";
  const bake = num(config?.bakeTimeInMinutes) ?? 0;
  switch (strategy) {
    case "BLUE_GREEN":
      return timing.rollout + bake * MINUTE;
    case "LINEAR": {
      const linear = (config?.linearConfiguration ?? {}) as Json;
      const steps = Math.ceil(100 / (num(linear.stepPercent) ?? 10));
      return timing.rollout + (steps - 1) * (num(linear.stepBakeTimeInMinutes) ?? 6) * MINUTE + bake * MINUTE;
    }
    case "CANARY": {
      const canary = (config?.canaryConfiguration ?? {}) as Json;
      return timing.rollout + (num(canary.canaryBakeTimeInMinutes) ?? 10) * MINUTE + bake * MINUTE;
    }
    default:
      return timing.rollout;
  }
}

/** Why a task definition became PRIMARY. */
export type PrimaryCause = "create" | "update" | "circuit-breaker-rollback" | "alarm-rollback" | "stop-rollback";

export interface PrimaryChange {
  /** Virtual epoch ms. */
  at: number;
  deploymentId: string;
  taskDefinition: string;
  images: string[];
  cause: PrimaryCause;
}

export type Completion = PrimaryChange;

export interface DeploymentSnapshot {
  id: string;
  serviceDeploymentArn: string;
  status: "PRIMARY" | "ACTIVE" | "INACTIVE";
  taskDefinition: string;
  images: string[];
  rolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED";
  rolloutStateReason: string;
  cause: PrimaryCause;
  createdAt: number;
  updatedAt: number;
}

export interface ServiceSnapshot {
  cluster: string;
  name: string;
  serviceArn: string;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  desiredCount: number;
  taskDefinition: string;
  controller: DeploymentControllerType;
  deploymentConfiguration: Json;
  /** Every deployment the service ever had, newest first (DescribeServices shows fewer). */
  deployments: DeploymentSnapshot[];
  currentServiceDeployment: string;
  /** The service event log, newest first. */
  events: { createdAt: number; message: string }[];
}

export interface CreateServiceInput {
  cluster: string;
  service: string;
  /** A RegisterTaskDefinition body (registered now) or an existing family[:revision] / ARN. */
  taskDefinition: string | RegisterTaskDefinitionCommandInput | Json;
  desiredCount?: number;
  deploymentConfiguration?: Json;
  controller?: DeploymentControllerType;
  tags?: { key: string; value: string }[];
  /** Its load balancers as CreateService takes them (advancedConfiguration for blue-green). */
  loadBalancers?: Json[];
  /** Service Connect on: traffic of a blue-green, linear or canary deployment shifts through it. */
  serviceConnect?: boolean;
}

export interface LocalEcsOptions {
  clock: Clock;
  emit: Emit;
  account?: string;
  region?: string;
  timing?: Partial<EcsTiming>;
  /** ECS's RegisterTaskDefinition throttle, on REAL time (a token bucket). Off unless given. */
  registrationLimit?: { perSecond: number; burst: number };
}

interface TokenBucket {
  perSecond: number;
  burst: number;
  tokens: number;
  /** Real epoch ms of the last refill. */
  last: number;
}

interface TaskDefinition {
  arn: string;
  family: string;
  revision: number;
  body: Json;
  tags: { key: string; value: string }[];
  images: string[];
}

interface Deployment {
  id: string;
  arn: string;
  status: "PRIMARY" | "ACTIVE" | "INACTIVE";
  taskDefinition: TaskDefinition;
  rolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED";
  rolloutStateReason: string;
  cause: PrimaryCause;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  desiredCount: number;
  /** The configuration it was started with (alarms, circuit breaker, strategy). */
  config: Json;
  duration: number;
  /** Guarding alarms already in ALARM when it started: ECS ignores them (until they recover). */
  firingAtStart: Set<string>;
  bad: boolean;
  impaired: boolean;
  /** Its SERVICE_DEPLOYMENT_IN_PROGRESS went out. */
  announced: boolean;
  /** ECS is still rolling it out: timers pending, it can fail, complete or be stopped. */
  live: boolean;
  timers: Cancel[];
  /** The rollback deployment that replaced it, if it failed or was stopped. */
  rollback?: Deployment;
}

interface Service {
  cluster: string;
  name: string;
  arn: string;
  clusterArn: string;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  desiredCount: number;
  taskDefinition: TaskDefinition;
  controller: DeploymentControllerType;
  config: Json;
  deployments: Deployment[];
  events: { id: string; createdAt: number; message: string }[];
  createdAt: number;
  tags: { key: string; value: string }[];
  lastCompleted?: Deployment;
  primaryHistory: PrimaryChange[];
  completedHistory: Completion[];
  /** updatedAt of its last deployment event: they never share a millisecond. */
  lastEventAt: number;
  loadBalancers: Json[];
  serviceConnect: boolean;
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const DEFAULT_CONFIGURATION: Json = {
  deploymentCircuitBreaker: { enable: false, rollback: false },
  maximumPercent: 200,
  minimumHealthyPercent: 100,
  strategy: "ROLLING",
};
/** How many finished (INACTIVE) deployments DescribeServices still lists. */
const INACTIVE_SHOWN = 2;
const EVENTS_KEPT = 100;

const CB_FAILED = "ECS deployment circuit breaker: tasks failed to start.";

export class LocalEcs {
  readonly account: string;
  readonly region: string;
  readonly timing: EcsTiming;
  /** Requests per operation, failures included. */
  readonly calls: Record<string, number> = {};

  private readonly clock: Clock;
  private readonly emitEvent: Emit;
  private readonly origin: EventOrigin;
  private readonly families = new Map<string, TaskDefinition[]>();
  private readonly clusters = new Set<string>();
  private readonly services = new Map<string, Service>();
  private readonly badDigests = new Set<string>();
  private readonly alarmStates = new Map<string, string>();
  private readonly limit?: TokenBucket;
  private readonly deploymentsMade = new Map<string, number>();

  constructor(options: LocalEcsOptions) {
    this.clock = options.clock;
    this.emitEvent = options.emit;
    this.account = options.account ?? "123456789012";
    this.region = options.region ?? "eu-west-1";
    this.timing = { ...DEFAULT_ECS_TIMING, ...options.timing };
    this.origin = { clock: this.clock, account: this.account, region: this.region };
    if (options.registrationLimit) {
      this.limit = { ...options.registrationLimit, tokens: options.registrationLimit.burst, last: this.clock.now() };
    }
  }

  // ── the API ──────────────────────────────────────────────────────────────────────────────

  readonly handle = async (request: AwsRequest): Promise<AwsResponse> => {
    this.calls[request.operation] = (this.calls[request.operation] ?? 0) + 1;
    const body = request.body ?? {};
    switch (request.operation) {
      case "RegisterTaskDefinition":
        return ok(this.registerTaskDefinition(body));
      case "DescribeTaskDefinition":
        return ok(this.describeTaskDefinition(body));
      case "ListTaskDefinitions":
        return ok(this.listTaskDefinitions(body));
      case "ListTagsForResource":
        return ok(this.listTagsForResource(body));
      case "DescribeServices":
        return ok(this.describeServices(body));
      case "UpdateService":
        return ok(this.updateService(body));
      case "StopServiceDeployment":
        return ok(this.stopServiceDeployment(body));
      case "CreateCluster":
        return ok(this.createCluster(body));
      case "CreateService":
        return ok(this.createServiceCall(body));
      case "DeleteService":
        return ok(this.deleteService(body));
      default:
        throw new AwsError("UnknownOperationException", `${request.operation} is not implemented by the sandbox`);
    }
  };

  private registerTaskDefinition(body: Json): Json {
    if (this.limit) this.takeRegistrationToken(this.limit);
    const td = this.register(body);
    return { taskDefinition: this.taskDefinitionJson(td), tags: td.tags };
  }

  private takeRegistrationToken(limit: TokenBucket): void {
    const now = this.clock.now();
    limit.tokens = Math.min(limit.burst, limit.tokens + ((now - limit.last) / 1000) * limit.perSecond);
    limit.last = now;
    if (limit.tokens < 1) throw new AwsError("ThrottlingException", "Rate exceeded", 400);
    limit.tokens -= 1;
  }

  private register(body: Json): TaskDefinition {
    checkWireTypes(body);
    const family = body.family;
    if (typeof family !== "string" || family === "") throw client("Family must be specified.");
    if (!NAME.test(family)) {
      throw client("Invalid family name. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.");
    }
    const containers = body.containerDefinitions;
    if (!Array.isArray(containers) || containers.length === 0) throw client("Container list cannot be empty.");
    // ECS service quotas: 10 containers per task definition, 64 KiB of task definition.
    if (containers.length > 10) throw client(`Too many containers: ${containers.length}. A task definition can have at most 10.`);
    const size = Buffer.byteLength(JSON.stringify(body));
    if (size > 64 * 1024) throw client(`Task definition size ${size} bytes exceeds the maximum of 65536 bytes.`);
    const names = new Set<string>();
    for (const container of containers as unknown[]) {
      if (!isObject(container)) throw client("Container definitions must be objects.");
      if (typeof container.name !== "string" || container.name === "") throw client("Container.name should not be null or empty.");
      if (!NAME.test(container.name)) {
        throw client(`Invalid container name: ${container.name}. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.`);
      }
      if (names.has(container.name)) throw client(`Duplicate container name: ${container.name}.`);
      names.add(container.name);
      if (typeof container.image !== "string" || container.image.trim() === "") throw client("Container.image should not be null or empty.");
      if (body.memory === undefined && container.memory === undefined && container.memoryReservation === undefined) {
        throw client(`Invalid setting for container '${container.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`);
      }
    }
    // What a container refers to by name: the containers it waits for, the volumes it mounts.
    const volumes = Array.isArray(body.volumes) ? (body.volumes as unknown[]) : [];
    for (const container of containers as Json[]) {
      for (const dep of Array.isArray(container.dependsOn) ? (container.dependsOn as unknown[]) : []) {
        if (!isObject(dep)) continue;
        const awaited = (containers as Json[]).find((c) => c.name === dep.containerName);
        if (!awaited) throw client(`Cannot depend on container + '${String(dep.containerName)}' because it does not exist`);
        if ((dep.condition === "SUCCESS" || dep.condition === "COMPLETE") && awaited.essential !== false) {
          throw client("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container");
        }
      }
      for (const mount of Array.isArray(container.mountPoints) ? (container.mountPoints as unknown[]) : []) {
        const name = isObject(mount) ? mount.sourceVolume : undefined;
        if (typeof name === "string" && !volumes.some((v) => isObject(v) && v.name === name)) throw client(`Unknown volume '${name}'.`);
      }
    }
    const requires = Array.isArray(body.requiresCompatibilities) ? (body.requiresCompatibilities as unknown[]) : [];
    for (const compatibility of requires) {
      if (!["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"].includes(String(compatibility))) {
        throw client(`Invalid requiresCompatibilities value: ${String(compatibility)}.`);
      }
    }
    if (requires.includes("FARGATE")) {
      if (body.networkMode !== "awsvpc") throw client("Fargate only supports network mode 'awsvpc'.");
      if (volumes.some((v) => isObject(v) && isObject(v.host) && v.host.sourcePath !== undefined)) {
        throw client("Fargate compatible task definitions do not support sourcePath");
      }
      if (body.cpu === undefined) throw client("Fargate requires that 'cpu' be defined at the task level.");
      if (body.memory === undefined) throw client("Fargate requires that 'memory' be defined at the task level.");
      const cpu = cpuUnits(body.cpu);
      const memory = memoryMiB(body.memory);
      if (cpu === undefined || memory === undefined || !fargateAllows(cpu, memory)) {
        throw client(
          `No Fargate configuration exists for given values: ${String(body.cpu)} CPU, ${String(body.memory)} memory. See the Amazon ECS documentation for the valid values.`,
        );
      }
    }
    const tags = parseTags(body.tags);

    const revisions = this.families.get(family) ?? [];
    this.families.set(family, revisions);
    const revision = revisions.length + 1;
    const arn = `arn:aws:ecs:${this.region}:${this.account}:task-definition/${family}:${revision}`;
    const { tags: _tags, ...definition } = body;
    const fargateReady = body.networkMode === "awsvpc" && body.cpu !== undefined && body.memory !== undefined;
    const stored: Json = {
      taskDefinitionArn: arn,
      ...structuredClone(definition),
      family,
      revision,
      volumes: definition.volumes ?? [],
      status: "ACTIVE",
      requiresAttributes: requiredAttributes(body),
      placementConstraints: definition.placementConstraints ?? [],
      compatibilities: ["EC2", ...(fargateReady || requires.includes("FARGATE") ? ["FARGATE"] : []), ...(requires.includes("EXTERNAL") ? ["EXTERNAL"] : [])],
      registeredAt: this.clock.now(),
      registeredBy: `arn:aws:sts::${this.account}:assumed-role/sandbox/stevedore`,
    };
    const td: TaskDefinition = {
      arn,
      family,
      revision,
      body: stored,
      tags,
      images: (containers as Json[]).map((c) => String(c.image)),
    };
    revisions.push(td);
    return td;
  }

  private describeTaskDefinition(body: Json): Json {
    const ref = body.taskDefinition;
    if (typeof ref !== "string" || ref === "") throw client("Task definition must be specified.");
    const td = this.resolveTaskDefinition(ref);
    if (!td) throw client("Unable to describe task definition.");
    const include = Array.isArray(body.include) ? body.include : [];
    return { taskDefinition: this.taskDefinitionJson(td), ...(include.includes("TAGS") ? { tags: td.tags } : {}) };
  }

  /** Revision ARNs of one family (familyPrefix is a whole family name, as documented) or all, ACTIVE ones (none are deregistered here). */
  private listTaskDefinitions(body: Json): Json {
    const { familyPrefix, status, sort, maxResults, nextToken } = body;
    if (familyPrefix !== undefined && (typeof familyPrefix !== "string" || familyPrefix === "")) throw invalid("familyPrefix must be a non-empty string.");
    if (status !== undefined && !["ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"].includes(String(status))) throw invalid(`Invalid status: ${String(status)}.`);
    if (sort !== undefined && sort !== "ASC" && sort !== "DESC") throw invalid(`Invalid sort: ${String(sort)}.`);
    if (maxResults !== undefined && (!Number.isInteger(maxResults) || (maxResults as number) < 1 || (maxResults as number) > 100)) {
      throw invalid("maxResults must be between 1 and 100.");
    }
    const all = (familyPrefix ? (this.families.get(familyPrefix) ?? []) : [...this.families.values()].flat())
      .filter(() => (status ?? "ACTIVE") === "ACTIVE")
      .sort((a, b) => (a.family === b.family ? a.revision - b.revision : a.family < b.family ? -1 : 1));
    if (sort === "DESC") all.reverse();
    const start = nextToken === undefined ? 0 : Number(nextToken);
    if (!Number.isInteger(start) || start < 0 || start > all.length) throw invalid("Invalid nextToken.");
    const size = (maxResults as number | undefined) ?? 100;
    const page = all.slice(start, start + size).map((td) => td.arn);
    return { taskDefinitionArns: page, ...(start + size < all.length ? { nextToken: String(start + size) } : {}) };
  }

  private listTagsForResource(body: Json): Json {
    const arn = body.resourceArn;
    if (typeof arn !== "string" || arn === "") throw invalid("resourceArn must be specified.");
    if (/:task-definition\//.test(arn)) {
      const td = this.resolveTaskDefinition(arn);
      if (!td) throw client("The specified task definition does not exist.");
      return { tags: td.tags };
    }
    const service = [...this.services.values()].find((s) => s.arn === arn);
    if (service) return { tags: service.tags };
    throw invalid("The specified resource could not be found.");
  }

  private describeServices(body: Json): Json {
    const cluster = this.clusterOf(body.cluster);
    const names = body.services;
    if (!Array.isArray(names) || names.length === 0) throw invalid("Services cannot be empty.");
    if (names.length > 10) throw invalid("services can have at most 10 items.");
    const include = Array.isArray(body.include) ? body.include : [];
    const services: Json[] = [];
    const failures: Json[] = [];
    for (const ref of names) {
      const { cluster: c, name } = this.serviceRef(String(ref), cluster);
      const service = this.services.get(`${c}/${name}`);
      if (service) services.push(this.serviceJson(service, include.includes("TAGS")));
      else failures.push({ arn: this.serviceArn(c, name), reason: "MISSING" });
    }
    return { services, failures };
  }

  private updateService(body: Json): Json {
    const service = this.activeService(body.cluster, body.service);
    let target = service.taskDefinition;
    if (body.taskDefinition !== undefined) {
      if (typeof body.taskDefinition !== "string" || body.taskDefinition === "") throw invalid("taskDefinition must be a string.");
      const td = this.resolveTaskDefinition(body.taskDefinition);
      if (!td) throw client("TaskDefinition not found.");
      if (td.arn !== service.taskDefinition.arn && service.controller !== "ECS") {
        throw invalid(
          service.controller === "CODE_DEPLOY"
            ? "Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment."
            : "Unable to update task definition on services with a EXTERNAL deployment controller. Use the task set API to start a new deployment.",
        );
      }
      target = td;
    }
    if (body.desiredCount !== undefined) {
      if (!Number.isInteger(body.desiredCount) || (body.desiredCount as number) < 0) throw invalid("desiredCount must be a non-negative integer.");
    }
    const config =
      body.deploymentConfiguration === undefined
        ? service.config
        : mergeConfiguration(service.config, validateConfiguration(body.deploymentConfiguration, service.config));
    if (body.forceNewDeployment !== undefined && typeof body.forceNewDeployment !== "boolean") {
      throw invalid("forceNewDeployment must be a boolean.");
    }

    shiftsTraffic(service, config.strategy);
    if (body.desiredCount !== undefined) service.desiredCount = body.desiredCount as number;
    service.config = config;
    if (target.arn !== service.taskDefinition.arn || body.forceNewDeployment === true) {
      this.startDeployment(service, target, "update");
    }
    return { service: this.serviceJson(service, false) };
  }

  private stopServiceDeployment(body: Json): Json {
    const arn = body.serviceDeploymentArn;
    if (typeof arn !== "string" || arn === "") throw invalid("serviceDeploymentArn must be specified.");
    const stopType = body.stopType ?? "ROLLBACK";
    if (stopType !== "ROLLBACK") {
      throw invalid(stopType === "ABORT" ? "Stop type ABORT is not supported; use ROLLBACK." : `Invalid stop type: ${String(stopType)}.`);
    }
    if (!/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service-deployment\/[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/.test(arn)) {
      throw invalid("Invalid service deployment ARN.");
    }
    let found: { service: Service; deployment: Deployment } | undefined;
    for (const service of this.services.values()) {
      const deployment = service.deployments.find((d) => d.arn === arn);
      if (deployment) found = { service, deployment };
    }
    if (!found) throw new AwsError("ServiceDeploymentNotFoundException", "The service deployment does not exist.");
    const { service, deployment } = found;
    // A deployment ECS is already rolling back cannot be stopped again: the current ECS API
    // model answers ConflictException.
    if (deployment.rollback?.live || (deployment.live && deployment.cause !== "update")) {
      throw new AwsError("ConflictException", "The request could not be processed because of conflict in the current state of the resource.");
    }
    if (!deployment.live) {
      throw invalid(`The service deployment is not in a state that can be stopped. Its rollout state is ${deployment.rolloutState}.`);
    }
    if (!service.lastCompleted) throw invalid("There is no completed service deployment to roll back to.");
    this.fail(service, deployment, `ECS deployment ${deployment.id} stopped: rollback requested.`, "stop-rollback", "ECS deployment rollback requested");
    return { serviceDeploymentArn: arn };
  }

  private createCluster(body: Json): Json {
    const name = body.clusterName ?? "default";
    if (typeof name !== "string" || !NAME.test(name)) throw invalid("Cluster name must be 1-255 letters, numbers, hyphens and underscores.");
    this.clusters.add(name);
    return { cluster: { clusterArn: this.clusterArn(name), clusterName: name, status: "ACTIVE", activeServicesCount: this.servicesIn(name) } };
  }

  private createServiceCall(body: Json): Json {
    const cluster = this.clusterOf(body.cluster);
    if (typeof body.serviceName !== "string" || !NAME.test(body.serviceName))
      throw invalid("serviceName must be 1-255 letters, numbers, hyphens and underscores.");
    if (typeof body.taskDefinition !== "string") throw invalid("taskDefinition must be specified.");
    const existing = this.services.get(`${cluster}/${body.serviceName}`);
    if (existing && existing.status !== "INACTIVE") throw invalid("Creation of service was not idempotent.");
    if (!this.resolveTaskDefinition(body.taskDefinition)) throw client("TaskDefinition not found.");
    const controller = isObject(body.deploymentController) ? String(body.deploymentController.type ?? "ECS") : "ECS";
    if (!(CONTROLLERS as readonly string[]).includes(controller)) throw invalid(`Invalid deployment controller type: ${controller}.`);
    const service = this.setUpService({
      cluster,
      service: body.serviceName,
      taskDefinition: body.taskDefinition,
      desiredCount: typeof body.desiredCount === "number" ? body.desiredCount : 1,
      deploymentConfiguration: isObject(body.deploymentConfiguration) ? body.deploymentConfiguration : undefined,
      controller: controller as DeploymentControllerType,
      tags: parseTags(body.tags),
      loadBalancers: Array.isArray(body.loadBalancers) ? body.loadBalancers.filter(isObject) : undefined,
      serviceConnect: isObject(body.serviceConnectConfiguration) && body.serviceConnectConfiguration.enabled === true,
    });
    return { service: this.serviceJson(service, false) };
  }

  private deleteService(body: Json): Json {
    const service = this.activeService(body.cluster, body.service);
    if (service.desiredCount > 0 && body.force !== true) {
      throw invalid("The service cannot be stopped while it is scaled above 0.");
    }
    for (const d of service.deployments) this.settle(d);
    service.status = "INACTIVE";
    service.desiredCount = 0;
    return { service: this.serviceJson(service, false) };
  }

  // ── control (the sandbox's, not Stevedore's) ────────────────────────────────────────────

  /** A service with one COMPLETED PRIMARY deployment of `taskDefinition`, as if long running. */
  createService(input: CreateServiceInput): ServiceSnapshot {
    return this.snapshot(this.setUpService(input));
  }

  /** Task definitions whose container images contain `digest` can never start a task. */
  markBad(digest: string): void {
    this.badDigests.add(digest);
  }

  /** Whether `digest` was marked as an image that can never start a task. */
  isBadImage(digest: string): boolean {
    return this.badDigests.has(digest);
  }

  /** CloudWatch changed an alarm: ECS's deployment alarms react (wire it to LocalCloudWatch). */
  alarmChanged(name: string, state: string): void {
    this.alarmStates.set(name, state);
    for (const service of this.services.values()) {
      for (const d of [...service.deployments]) {
        if (!d.live) continue;
        if (state !== "ALARM") {
          // An alarm that was firing when the deployment began guards it again once it recovers.
          d.firingAtStart.delete(name);
          continue;
        }
        const alarms = d.config.alarms as Json | undefined;
        if (d.cause !== "update" || alarms?.enable !== true) continue;
        if (!(Array.isArray(alarms.alarmNames) && alarms.alarmNames.includes(name)) || d.firingAtStart.has(name)) continue;
        this.fail(
          service,
          d,
          `ECS deployment alarms: alarm ${name} is in ALARM state.`,
          alarms.rollback === true ? "alarm-rollback" : undefined,
          "ECS deployment alarms",
        );
      }
    }
  }

  service(cluster: string, name: string): ServiceSnapshot | undefined {
    const service = this.services.get(`${cluster}/${name}`);
    return service && this.snapshot(service);
  }

  /** Every deployment that became PRIMARY, oldest first. */
  primaryHistory(cluster: string, name: string): PrimaryChange[] {
    return structuredClone(this.services.get(`${cluster}/${name}`)?.primaryHistory ?? []);
  }

  /** Every deployment that reached COMPLETED, oldest first. */
  completedHistory(cluster: string, name: string): Completion[] {
    return structuredClone(this.services.get(`${cluster}/${name}`)?.completedHistory ?? []);
  }

  /** The revision the next RegisterTaskDefinition of `family` gets (IAM authorizes against its ARN). */
  nextRevision(family: string): number {
    return (this.families.get(family)?.length ?? 0) + 1;
  }

  /** Every revision registered so far (seeds included), with its tags. */
  revisions(): { arn: string; tags: Tag[] }[] {
    return [...this.families.values()].flat().map((td) => ({ arn: String(td.body.taskDefinitionArn), tags: structuredClone(td.tags) }));
  }

  /** A registered task definition (family, family:revision or ARN) as the SDK would return it, and its tags. */
  taskDefinition(ref: string): (EcsTaskDefinition & { tags: Tag[] }) | undefined {
    const td = this.resolveTaskDefinition(ref);
    if (!td) return undefined;
    const body = structuredClone(td.body) as unknown as EcsTaskDefinition;
    return { ...body, registeredAt: new Date(td.body.registeredAt as number), tags: structuredClone(td.tags) };
  }

  // ── rollouts ─────────────────────────────────────────────────────────────────────────────

  private setUpService(input: CreateServiceInput): Service {
    if (!NAME.test(input.cluster) || !NAME.test(input.service)) throw new Error(`invalid cluster or service name: ${input.cluster}/${input.service}`);
    const td = typeof input.taskDefinition === "string" ? this.resolveTaskDefinition(input.taskDefinition) : this.register(input.taskDefinition as Json);
    if (!td) throw new Error(`task definition ${String(input.taskDefinition)} is not registered`);
    const controller = input.controller ?? "ECS";
    const config = input.deploymentConfiguration
      ? mergeConfiguration(DEFAULT_CONFIGURATION, validateConfiguration(input.deploymentConfiguration, DEFAULT_CONFIGURATION))
      : structuredClone(DEFAULT_CONFIGURATION);
    this.clusters.add(input.cluster);
    const now = this.clock.now();
    const service: Service = {
      cluster: input.cluster,
      name: input.service,
      arn: this.serviceArn(input.cluster, input.service),
      clusterArn: this.clusterArn(input.cluster),
      status: "ACTIVE",
      desiredCount: input.desiredCount ?? 2,
      taskDefinition: td,
      controller,
      config,
      deployments: [],
      events: [],
      createdAt: now,
      tags: input.tags ?? [],
      primaryHistory: [],
      completedHistory: [],
      lastEventAt: 0,
      loadBalancers: structuredClone(input.loadBalancers ?? []),
      serviceConnect: input.serviceConnect ?? false,
    };
    shiftsTraffic(service, config.strategy);
    this.services.set(`${input.cluster}/${input.service}`, service);
    const seed = this.newDeployment(service, td, "create");
    seed.rolloutState = "COMPLETED";
    seed.rolloutStateReason = `ECS deployment ${seed.id} completed.`;
    seed.live = false;
    seed.finishedAt = now;
    service.deployments.unshift(seed);
    service.primaryHistory.push(change(seed, now));
    service.completedHistory.push(change(seed, now));
    service.lastCompleted = seed;
    this.log(service, `(service ${service.name}) has reached a steady state.`);
    return service;
  }

  private newDeployment(service: Service, td: TaskDefinition, cause: PrimaryCause): Deployment {
    const now = this.clock.now();
    // Ids as ECS shapes them, derived from the service and its count of deployments: a replayed
    // run names its deployments the same, whatever order concurrent calls came in. Counted per
    // ARN, not from the service's history: a service made again still gets new ids.
    const made = (this.deploymentsMade.get(service.arn) ?? 0) + 1;
    this.deploymentsMade.set(service.arn, made);
    const hash = createHash("sha256").update(`${service.arn}#${made}`).digest();
    const alarms = service.config.alarms as Json | undefined;
    const names = Array.isArray(alarms?.alarmNames) ? (alarms.alarmNames as string[]) : [];
    return {
      id: `ecs-svc/${1 + ((hash[0] as number) % 9)}${Array.from(hash.subarray(1, 19), (b) => b % 10).join("")}`,
      arn: `arn:aws:ecs:${this.region}:${this.account}:service-deployment/${service.cluster}/${service.name}/${createHash("sha256").update(hash).digest("base64url").slice(0, 22)}`,
      status: "PRIMARY",
      taskDefinition: td,
      rolloutState: "IN_PROGRESS",
      rolloutStateReason: "",
      cause,
      createdAt: now,
      updatedAt: now,
      desiredCount: service.desiredCount,
      config: structuredClone(service.config),
      duration: cause === "update" ? rolloutDuration(service.config, this.timing) : this.timing.rollbackDuration,
      firingAtStart: new Set(names.filter((n) => this.alarmStates.get(n) === "ALARM")),
      bad: this.isBad(td),
      impaired: false,
      announced: false,
      live: true,
      timers: [],
    };
  }

  /** A new PRIMARY deployment; the previous ones become ACTIVE and stop being rolled out. */
  private startDeployment(service: Service, td: TaskDefinition, cause: PrimaryCause, reason?: string): Deployment {
    const d = this.newDeployment(service, td, cause);
    d.rolloutStateReason = reason ?? `ECS deployment ${d.id} in progress.`;
    for (const old of service.deployments) {
      this.settle(old);
      if (old.status === "PRIMARY") old.status = "ACTIVE";
    }
    service.deployments.unshift(d);
    service.taskDefinition = td;
    service.primaryHistory.push(change(d, d.createdAt));

    const at = (delay: number, fn: () => void) =>
      d.timers.push(
        this.clock.after(delay, () => {
          if (d.live) fn();
        }),
      );
    if (cause === "update") {
      at(this.timing.inProgressAfter, () => this.announce(service, d));
    } else {
      // A rollback says so at once, right after the FAILED of the deployment it replaces.
      this.announce(service, d);
    }
    at(this.timing.impairedAfter, () => {
      d.bad ||= this.isBad(td);
      if (!d.bad) return;
      d.impaired = true;
      this.emit("ECS Service Action", service, {
        eventType: "WARN",
        eventName: "SERVICE_TASK_START_IMPAIRED",
        clusterArn: service.clusterArn,
        createdAt: this.clock.iso(),
      });
      this.log(
        service,
        `(service ${service.name}) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`,
      );
    });
    at(this.timing.circuitBreakerAfter, () => {
      const breaker = d.config.deploymentCircuitBreaker as Json | undefined;
      if (!d.bad || breaker?.enable !== true) return;
      // A rollback that cannot start either is not rolled back again.
      const rollback = breaker.rollback === true && d.cause === "update" ? "circuit-breaker-rollback" : undefined;
      this.fail(service, d, CB_FAILED, rollback, "ECS deployment circuit breaker");
    });
    at(Math.max(d.duration, cause === "update" ? this.timing.inProgressAfter : 0), () => {
      d.bad ||= this.isBad(td);
      if (!d.bad) this.complete(service, d);
    });
    return d;
  }

  private announce(service: Service, d: Deployment): void {
    if (d.announced) return;
    d.announced = true;
    this.deploymentEvent(service, "INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", d, d.rolloutStateReason);
    this.log(service, `(service ${service.name}) has started ${d.desiredCount} tasks: ${taskList(d.desiredCount)}.`);
  }

  private complete(service: Service, d: Deployment): void {
    this.announce(service, d);
    this.settle(d);
    d.rolloutState = "COMPLETED";
    d.rolloutStateReason = `ECS deployment ${d.id} completed.`;
    d.updatedAt = d.finishedAt = this.clock.now();
    for (const other of service.deployments) {
      if (other !== d && other.status !== "INACTIVE") {
        this.settle(other);
        other.status = "INACTIVE";
        other.updatedAt = d.updatedAt;
      }
    }
    service.lastCompleted = d;
    service.completedHistory.push(change(d, d.updatedAt));
    this.deploymentEvent(service, "INFO", "SERVICE_DEPLOYMENT_COMPLETED", d, d.rolloutStateReason);
    this.log(service, `(service ${service.name}) (deployment ${d.id}) deployment completed.`);
    this.log(service, `(service ${service.name}) has reached a steady state.`);
  }

  /** FAILED, and (if asked and possible) a rollback to the last COMPLETED task definition. */
  private fail(service: Service, d: Deployment, reason: string, rollback: PrimaryCause | undefined, mechanism: string): void {
    // A deployment stopped or failed within its first seconds has still been announced first.
    this.announce(service, d);
    this.settle(d);
    d.rolloutState = "FAILED";
    d.rolloutStateReason = reason;
    d.updatedAt = d.finishedAt = this.clock.now();
    this.deploymentEvent(service, "ERROR", "SERVICE_DEPLOYMENT_FAILED", d, reason);
    this.log(service, `(service ${service.name}) (deployment ${d.id}) deployment failed: ${reason.replace(/^[^:]*: /, "").replace(/\.$/, "")}.`);
    const target = service.lastCompleted;
    if (!rollback || !target) return;
    d.rollback = this.startDeployment(service, target.taskDefinition, rollback, `${mechanism}: rolling back to deploymentId ${target.id}.`);
    this.log(service, `(service ${service.name}) rolling back to deployment ${target.id}.`);
  }

  /** ECS stops driving it: no more timers, no more events. */
  private settle(d: Deployment): void {
    d.live = false;
    for (const cancel of d.timers) cancel();
    d.timers = [];
  }

  private isBad(td: TaskDefinition): boolean {
    return td.images.some((image) => [...this.badDigests].some((digest) => image.includes(digest)));
  }

  private deploymentEvent(service: Service, eventType: string, eventName: string, d: Deployment, reason: string): void {
    // A failure and the rollback it starts happen together; consumers order by updatedAt, so
    // the rollback's IN_PROGRESS is stamped (at least) a millisecond after the FAILED.
    const at = Math.max(Math.round(this.clock.now()), service.lastEventAt + 1);
    service.lastEventAt = at;
    this.emit("ECS Deployment State Change", service, {
      eventType,
      eventName,
      deploymentId: d.id,
      updatedAt: this.clock.iso(at),
      reason,
    });
  }

  private emit(detailType: string, service: Service, detail: Json): void {
    this.emitEvent(awsEvent(this.origin, "aws.ecs", detailType, detail, [service.arn]));
  }

  private log(service: Service, message: string): void {
    service.events.unshift({ id: madeUpId({ service: service.arn, at: this.clock.now(), message }), createdAt: this.clock.now(), message });
    service.events.length = Math.min(service.events.length, EVENTS_KEPT);
  }

  // ── lookups and wire shapes ──────────────────────────────────────────────────────────────

  private resolveTaskDefinition(ref: string): TaskDefinition | undefined {
    const m = /^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?([A-Za-z0-9_-]+)(?::(\d+))?$/.exec(ref);
    if (!m) return undefined;
    const revisions = this.families.get(m[1] as string);
    if (!revisions) return undefined;
    if (m[2] === undefined) return ref.startsWith("arn:") ? undefined : revisions[revisions.length - 1];
    return revisions[Number(m[2]) - 1];
  }

  private clusterOf(ref: unknown): string {
    if (ref !== undefined && typeof ref !== "string") throw invalid("cluster must be a string.");
    const name = ref === undefined || ref === "" ? "default" : (/:cluster\/(.+)$/.exec(ref)?.[1] ?? ref);
    if (!this.clusters.has(name)) throw new AwsError("ClusterNotFoundException", "Cluster not found.");
    return name;
  }

  private serviceRef(ref: string, cluster: string): { cluster: string; name: string } {
    const m = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/(?:([^/]+)\/)?([^/]+)$/.exec(ref);
    return m ? { cluster: m[1] ?? cluster, name: m[2] as string } : { cluster, name: ref };
  }

  private activeService(clusterRef: unknown, serviceRef: unknown): Service {
    const cluster = this.clusterOf(clusterRef);
    if (typeof serviceRef !== "string" || serviceRef === "") throw invalid("service must be specified.");
    const { cluster: c, name } = this.serviceRef(serviceRef, cluster);
    const service = this.services.get(`${c}/${name}`);
    if (!service) throw new AwsError("ServiceNotFoundException", "Service not found.");
    if (service.status !== "ACTIVE") throw new AwsError("ServiceNotActiveException", "Service was not ACTIVE.");
    return service;
  }

  private servicesIn(cluster: string): number {
    return [...this.services.values()].filter((s) => s.cluster === cluster && s.status === "ACTIVE").length;
  }

  private clusterArn(cluster: string): string {
    return `arn:aws:ecs:${this.region}:${this.account}:cluster/${cluster}`;
  }

  private serviceArn(cluster: string, name: string): string {
    return `arn:aws:ecs:${this.region}:${this.account}:service/${cluster}/${name}`;
  }

  private taskDefinitionJson(td: TaskDefinition): Json {
    const body = structuredClone(td.body);
    body.registeredAt = seconds(body.registeredAt as number);
    return body;
  }

  private serviceJson(service: Service, withTags: boolean): Json {
    const now = this.clock.now();
    const primary = service.deployments.find((d) => d.status === "PRIMARY");
    const inactive = service.deployments.filter((d) => d.status === "INACTIVE").slice(0, INACTIVE_SHOWN);
    const shown = service.deployments.filter((d) => d.status !== "INACTIVE" || inactive.includes(d));
    const deployments = shown.map((d) => {
      const counts = this.counts(d, primary, now);
      return {
        id: d.id,
        status: d.status,
        taskDefinition: d.taskDefinition.arn,
        desiredCount: counts.desired,
        pendingCount: counts.pending,
        runningCount: counts.running,
        failedTasks: counts.failed,
        createdAt: seconds(d.createdAt),
        updatedAt: seconds(d.updatedAt),
        launchType: "FARGATE",
        platformVersion: "1.4.0",
        platformFamily: "Linux",
        rolloutState: d.rolloutState,
        rolloutStateReason: d.rolloutStateReason,
        ...(service.serviceConnect ? { serviceConnectConfiguration: { enabled: true, namespace: `${service.cluster}.local` } } : {}),
      };
    });
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: service.clusterArn,
      loadBalancers: structuredClone(service.loadBalancers),
      serviceRegistries: [],
      status: service.status,
      desiredCount: service.desiredCount,
      runningCount: deployments.reduce((sum, d) => sum + d.runningCount, 0),
      pendingCount: deployments.reduce((sum, d) => sum + d.pendingCount, 0),
      launchType: "FARGATE",
      platformVersion: "LATEST",
      platformFamily: "Linux",
      taskDefinition: service.taskDefinition.arn,
      deploymentConfiguration: structuredClone(service.config),
      deployments,
      events: service.events.map((e) => ({ id: e.id, createdAt: seconds(e.createdAt), message: e.message })),
      createdAt: seconds(service.createdAt),
      currentServiceDeployment: service.deployments[0]?.arn,
      placementConstraints: [],
      placementStrategy: [],
      schedulingStrategy: "REPLICA",
      deploymentController: { type: service.controller },
      createdBy: `arn:aws:iam::${this.account}:role/sandbox`,
      enableECSManagedTags: false,
      propagateTags: "NONE",
      enableExecuteCommand: false,
      availabilityZoneRebalancing: "ENABLED",
      ...(withTags ? { tags: structuredClone(service.tags) } : {}),
    };
  }

  /** Task counts as they would look at `now`: cosmetic, but consistent with the rollout. */
  private counts(d: Deployment, primary: Deployment | undefined, now: number): { desired: number; running: number; pending: number; failed: number } {
    const end = d.finishedAt ?? now;
    const failed = d.bad ? Math.floor((end - d.createdAt) / (10 * SECOND)) : 0;
    if (d.status === "INACTIVE") return { desired: 0, running: 0, pending: 0, failed };
    if (d.status === "PRIMARY") {
      if (d.rolloutState === "COMPLETED") return { desired: d.desiredCount, running: d.desiredCount, pending: 0, failed };
      if (d.bad || d.rolloutState === "FAILED") return { desired: d.desiredCount, running: 0, pending: d.live ? d.desiredCount : 0, failed };
      const running = Math.min(d.desiredCount, Math.floor((d.desiredCount * (now - d.createdAt)) / Math.max(1, d.duration)));
      return { desired: d.desiredCount, running, pending: d.desiredCount - running, failed };
    }
    // ACTIVE: an older deployment, scaled down as the PRIMARY one comes up.
    const replaced = primary ? this.counts(primary, undefined, now).running : 0;
    const running = Math.max(0, d.desiredCount - replaced);
    return { desired: running, running, pending: 0, failed };
  }

  private snapshot(service: Service): ServiceSnapshot {
    return {
      cluster: service.cluster,
      name: service.name,
      serviceArn: service.arn,
      status: service.status,
      desiredCount: service.desiredCount,
      taskDefinition: service.taskDefinition.arn,
      controller: service.controller,
      deploymentConfiguration: structuredClone(service.config),
      deployments: service.deployments.map((d) => ({
        id: d.id,
        serviceDeploymentArn: d.arn,
        status: d.status,
        taskDefinition: d.taskDefinition.arn,
        images: [...d.taskDefinition.images],
        rolloutState: d.rolloutState,
        rolloutStateReason: d.rolloutStateReason,
        cause: d.cause,
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
      })),
      currentServiceDeployment: service.deployments[0]?.arn ?? "",
      events: service.events.map((e) => ({ createdAt: e.createdAt, message: e.message })),
    };
  }
}

// ── deployment configuration ───────────────────────────────────────────────────────────────

/**
 * ECS shifts a blue-green, linear or canary deployment's traffic between two target groups
 * (a load balancer's advancedConfiguration) or through Service Connect, and refuses the
 * strategy on a service with neither.
 */
function shiftsTraffic(service: { loadBalancers: Json[]; serviceConnect: boolean }, strategy: unknown): void {
  if (strategy === undefined || strategy === "ROLLING" || service.serviceConnect) return;
  const complete = service.loadBalancers.some((lb) => {
    const advanced = isObject(lb.advancedConfiguration) ? lb.advancedConfiguration : {};
    return ["alternateTargetGroupArn", "productionListenerRule", "roleArn"].every((key) => typeof advanced[key] === "string");
  });
  if (!complete) {
    throw invalid(
      `The ${String(strategy)} deployment strategy requires the service to use Service Connect or a load balancer with an advancedConfiguration ` +
        "(alternateTargetGroupArn, productionListenerRule and roleArn).",
    );
  }
}

/** Checks an UpdateService/CreateService deploymentConfiguration like ECS does; returns it. */
function validateConfiguration(given: unknown, current: Json): Json {
  if (!isObject(given)) throw invalid("deploymentConfiguration must be an object.");
  for (const key of ["maximumPercent", "minimumHealthyPercent"] as const) {
    const value = given[key];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 0)) throw invalid(`${key} must be a non-negative integer.`);
  }
  if (given.strategy !== undefined && !(STRATEGIES as readonly unknown[]).includes(given.strategy)) {
    throw invalid(`Invalid deployment strategy: ${String(given.strategy)}. Valid values are ${STRATEGIES.join(", ")}.`);
  }
  const strategy = (given.strategy ?? current.strategy ?? "ROLLING") as Strategy;
  if (given.linearConfiguration !== undefined) {
    if (strategy !== "LINEAR") throw invalid("linearConfiguration can only be specified with the LINEAR deployment strategy.");
    const linear = given.linearConfiguration;
    if (!isObject(linear)) throw invalid("linearConfiguration must be an object.");
    range(linear.stepPercent, 3, 100, "linearConfiguration.stepPercent");
    range(linear.stepBakeTimeInMinutes, 0, 1440, "linearConfiguration.stepBakeTimeInMinutes");
  }
  if (given.canaryConfiguration !== undefined) {
    if (strategy !== "CANARY") throw invalid("canaryConfiguration can only be specified with the CANARY deployment strategy.");
    const canary = given.canaryConfiguration;
    if (!isObject(canary)) throw invalid("canaryConfiguration must be an object.");
    range(canary.canaryPercent, 0.1, 100, "canaryConfiguration.canaryPercent");
    range(canary.canaryBakeTimeInMinutes, 0, 1440, "canaryConfiguration.canaryBakeTimeInMinutes");
  }
  range(given.bakeTimeInMinutes, 0, 1440, "bakeTimeInMinutes");
  if (given.deploymentCircuitBreaker !== undefined) {
    const breaker = given.deploymentCircuitBreaker;
    if (!isObject(breaker) || typeof breaker.enable !== "boolean" || typeof breaker.rollback !== "boolean") {
      throw invalid("deploymentCircuitBreaker needs boolean enable and rollback.");
    }
  }
  if (given.alarms !== undefined) {
    const alarms = given.alarms;
    if (
      !isObject(alarms) ||
      typeof alarms.enable !== "boolean" ||
      typeof alarms.rollback !== "boolean" ||
      !Array.isArray(alarms.alarmNames) ||
      !alarms.alarmNames.every((n) => typeof n === "string")
    ) {
      throw invalid("alarms needs alarmNames (a list of alarm names) and boolean enable and rollback.");
    }
  }
  return given;
}

/** What UpdateService's deploymentConfiguration gives replaces; strategy settings follow the strategy. */
function mergeConfiguration(current: Json, given: Json): Json {
  const merged: Json = { ...structuredClone(current), ...structuredClone(given) };
  if (merged.strategy !== "LINEAR") delete merged.linearConfiguration;
  if (merged.strategy !== "CANARY") delete merged.canaryConfiguration;
  return merged;
}

function range(value: unknown, min: number, max: number, name: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`${name} must be between ${min} and ${max}.`);
  }
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────

function ok(body: Json): AwsResponse {
  return { status: 200, body };
}

function client(message: string): AwsError {
  return new AwsError("ClientException", message);
}

function invalid(message: string): AwsError {
  return new AwsError("InvalidParameterException", message);
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The JSON protocols carry timestamps as epoch seconds. */
function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

function parseTags(tags: unknown): { key: string; value: string }[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw invalid("tags must be a list.");
  if (tags.length > 50) throw invalid("Too many tags: at most 50 are allowed.");
  return tags.map((tag) => {
    if (!isObject(tag) || typeof tag.key !== "string" || tag.key === "" || tag.key.length > 128) {
      throw invalid("Each tag needs a key of 1 to 128 characters.");
    }
    if (tag.value !== undefined && (typeof tag.value !== "string" || tag.value.length > 256)) {
      throw invalid("A tag value must be a string of at most 256 characters.");
    }
    // The model's patterns for Tag.key and Tag.value: letters, spaces, numbers and _.:/=+-@.
    for (const [what, text] of [
      ["key", tag.key],
      ["value", (tag.value as string | undefined) ?? ""],
    ] as const) {
      if (!TAG_TEXT.test(text)) throw invalid(`Tag ${what} '${text}' has characters ECS does not allow: letters, numbers, spaces and _.:/=+-@ only.`);
      // ECS reserves the aws: prefix, in any case, for keys and values.
      if (/^aws:/i.test(text)) throw invalid(`Tag ${what} '${text}' uses the aws: prefix, which is reserved for AWS use.`);
    }
    return { key: tag.key, value: (tag.value as string | undefined) ?? "" };
  });
}

const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * The JSON types RegisterTaskDefinition's model gives the members people most often get wrong:
 * ECS answers a number where a string belongs (cpu, memory) and the reverse (containerPort…)
 * with a SerializationException, before it looks at anything else.
 */
function checkWireTypes(body: Json): void {
  const wrong = (path: string, expected: string, value: unknown) => {
    throw new AwsError("SerializationException", `Unexpected ${typeof value} for ${path}: the model says ${expected}.`);
  };
  for (const key of ["cpu", "memory", "family", "networkMode", "taskRoleArn", "executionRoleArn"]) {
    if (body[key] !== undefined && typeof body[key] !== "string") wrong(key, "string", body[key]);
  }
  for (const [i, container] of ((Array.isArray(body.containerDefinitions) ? body.containerDefinitions : []) as Json[]).entries()) {
    for (const key of ["cpu", "memory", "memoryReservation"]) {
      if (container?.[key] !== undefined && typeof container[key] !== "number") wrong(`containerDefinitions[${i}].${key}`, "integer", container[key]);
    }
    for (const [j, mapping] of ((Array.isArray(container?.portMappings) ? container.portMappings : []) as Json[]).entries()) {
      for (const key of ["containerPort", "hostPort"]) {
        if (mapping?.[key] !== undefined && typeof mapping[key] !== "number")
          wrong(`containerDefinitions[${i}].portMappings[${j}].${key}`, "integer", mapping[key]);
      }
    }
  }
}

/** Task cpu in units: "256", or "0.25 vCPU" as ECS also accepts. */
function cpuUnits(value: unknown): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*$/i.exec(String(value));
  if (!m) return undefined;
  return m[2] ? Math.round(Number(m[1]) * 1024) : Number(m[1]);
}

/** Task memory in MiB: "1024", or "1 GB" as ECS also accepts. */
function memoryMiB(value: unknown): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(gb)?\s*$/i.exec(String(value));
  if (!m) return undefined;
  return m[2] ? Math.round(Number(m[1]) * 1024) : Number(m[1]);
}

/** Fargate's task sizes (ECS Developer Guide, "Amazon ECS task definition parameters for Fargate"). */
function fargateAllows(cpu: number, memory: number): boolean {
  const steps = (from: number, to: number, step: number) => memory >= from && memory <= to && (memory - from) % step === 0;
  switch (cpu) {
    case 256:
      return [512, 1024, 2048].includes(memory);
    case 512:
      return steps(1024, 4096, 1024);
    case 1024:
      return steps(2048, 8192, 1024);
    case 2048:
      return steps(4096, 16384, 1024);
    case 4096:
      return steps(8192, 30720, 1024);
    case 8192:
      return steps(16384, 61440, 4096);
    case 16384:
      return steps(32768, 122880, 8192);
    default:
      return false;
  }
}

/** The attributes ECS derives from a task definition (a plausible subset). */
function requiredAttributes(body: Json): Json[] {
  const names = ["com.amazonaws.ecs.capability.docker-remote-api.1.18"];
  const containers = (body.containerDefinitions ?? []) as Json[];
  if (containers.some((c) => /\.dkr\.ecr\./.test(String(c.image)))) names.push("com.amazonaws.ecs.capability.ecr-auth");
  if (body.executionRoleArn !== undefined) names.push("ecs.capability.execution-role-ecr-pull");
  if (body.taskRoleArn !== undefined) names.push("com.amazonaws.ecs.capability.task-iam-role");
  if (body.networkMode === "awsvpc") names.push("ecs.capability.task-eni");
  if (containers.some((c) => c.secrets !== undefined)) names.push("ecs.capability.secrets.ssm.environment-variables");
  if (containers.some((c) => c.logConfiguration !== undefined)) names.push("com.amazonaws.ecs.capability.logging-driver.awslogs");
  return names.map((name) => ({ name }));
}

function change(d: Deployment, at: number): PrimaryChange {
  return { at, deploymentId: d.id, taskDefinition: d.taskDefinition.arn, images: [...d.taskDefinition.images], cause: d.cause };
}

function taskList(count: number): string {
  return Array.from({ length: Math.max(1, Math.min(count, 10)) }, () => `(task ${madeUpId("task").replaceAll("-", "")})`).join(" ");
}
