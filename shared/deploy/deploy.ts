// Deploying one image to the targets of some environments. Each service goes through these
// phases, each adding what it learnt (the types below are named after them):
//   classified  its head says the image may go there: new, or its own abandoned claim to resume
//               (a duplicate, an older image or a tie is settled here);
//   checked     the environment's guarding alarms allow it, and ECS described the service;
//   rendered    the service can take the deployment, and its task definition renders;
//   registered  the service is claimed and its head locked (one conditional transaction), and the
//               revision is registered, once per distinct definition;
//   started     UpdateService started it; "started" is recorded and the head unlocked (one
//               conditional transaction).
// Reads and pure checks come first, so bad input or a refused deployment writes nothing to ECS;
// a service that stops before "started" is recorded in one place (notStarted).
// The claim comes before registration: an image that loses the race to a newer one registers
// nothing (no unused revision becomes its family's newest). While one image's claim is held, no
// other image can claim the service, so an older image's UpdateService can never land after a
// newer one's.
import { createHash } from "node:crypto";
import type { RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import type { Environment, Target } from "../config/model";
import { RetryableAwsError, StevedoreError } from "../errors";
import type { Lease } from "../lambda";
import { CONCURRENCY, mapLimit } from "../limit";
import { logger } from "../log";
import { advance } from "../records/advance";
import { pushKeyOf, recordKeyOf, shortDigest, type DeploymentRecord, type Head, type TargetState, type Trigger } from "../records/model";
import { addSeconds, decide } from "../records/state";
import { claim, create, getRecord, readTarget, readVerdict, retake, saveAndUnlock, unlock } from "../records/store";
import { canonical, provenanceTags, renderTarget, type Image } from "../render/task-definition";
import { decideAndRollBack } from "../rollback/rollback";
import { describeAlarms } from "./alarms";
import {
  describeServices,
  registeredEarlier,
  registerTaskDefinition,
  updateService,
  type EcsDeployment,
  type RegistrationOf,
  type ServiceState,
  type StartedDeployment,
} from "./ecs";
import { classifyArrival, deploymentConfiguration, lastStableTaskDefinition, serviceProblem, shortTaskDefinition, type Arrival, type Arriving } from "./plan";

/** An image that should be deployed, and what brought it. */
export interface ImageArrival {
  image: Image;
  /** When ECR says the image was pushed: newer images win, by this (see classifyArrival). */
  pushedAt: string;
  /** The tags ECR gives the image now (see classifyArrival); unknown for a promotion. */
  tagsNow?: string[];
  /** When the triggering event happened: the record's history starts here (its deadline does not). */
  at: string;
  trigger: Trigger;
  triggerRef: string;
  /** A person's decision that deploys the image (its event id): its own record on each service. */
  attempt?: string;
  buildUrl?: string;
  promotedFrom?: { env: string; deploymentId: string };
}

export type TargetOutcome = {
  target: string;
  outcome: "started" | "duplicate" | "stale" | "refused" | "failed" | "busy";
  reason?: string;
  recordId?: string;
};

/** How long a claim waits for another image's UpdateService to finish before giving up. */
const LOCK_WAIT_MS = 5000;

export async function deployImage(arrival: ImageArrival, environments: Environment[], lease: Lease): Promise<TargetOutcome[]> {
  const perEnvironment = await Promise.all(
    environments.map((env) => deployToEnvironment({ arrival, env, lease, pushKey: pushKeyOf(arrival.pushedAt, arrival.image.digest) })),
  );
  const outcomes = perEnvironment.flatMap((p) => p.outcomes);
  for (const o of outcomes) {
    logger.info(`deploy ${o.target}: ${o.outcome}${o.reason ? ` (${o.reason})` : ""}`, {
      digest: arrival.image.digest,
      tag: arrival.image.tag,
      trigger: arrival.trigger,
      recordId: o.recordId,
    });
  }
  // Lambda retries the event; the records make the retry resume exactly where this one stopped.
  const retry = perEnvironment.find((p) => p.retry)?.retry;
  if (retry) throw retry;
  return outcomes;
}

/** One image going to one environment: what every phase needs. */
interface Deploying {
  arrival: ImageArrival;
  env: Environment;
  lease: Lease;
  /** The image's place in its services' partitions (see pushKeyOf). */
  pushKey: string;
}

/** A service, what its records say, and what that makes of this image. */
interface Classified {
  target: Target;
  state: TargetState;
  arrival: Arrival;
}

/** A service the image may go to, as ECS described it. */
interface Checked extends Classified {
  service: ServiceState;
}

/** A service that can take the deployment, and its task definition. */
interface Rendered extends Checked {
  input: RegisterTaskDefinitionCommandInput;
  /** The definition in canonical form: services whose definitions are equal share one revision. */
  definition: string;
  /** A resumed claim: the revision its dead invocation registered, if it got that far. */
  registered?: string;
}

/** A claimed service, and the revision it gets. */
interface Registered extends Rendered {
  record: DeploymentRecord;
  taskDefinition: string;
}

/** A service ECS is deploying to: the deployment UpdateService started, or the one a dead invocation's did. */
interface Started extends Registered {
  deployment: StartedDeployment;
  /** The dead invocation's deployment, as ECS describes it now. */
  landed?: EcsDeployment;
}

/** What the alarm check learnt, for each record: warnings, and when the alarms were read. */
interface AlarmCheck {
  warnings: string[];
  checkedAt?: string;
}

async function deployToEnvironment(ctx: Deploying): Promise<{ outcomes: TargetOutcome[]; retry?: StevedoreError }> {
  const outcomes: TargetOutcome[] = [];
  const states = await mapLimit(ctx.env.targets, CONCURRENCY, (t) => readTarget(t.key));
  const going: Classified[] = [];
  for (const [i, target] of ctx.env.targets.entries()) {
    const state = states[i] as TargetState;
    const c: Classified = { target, state, arrival: classifyArrival(state, arriving(ctx.arrival), Date.now()) };
    const settled = await settledByHead(ctx, c);
    if (settled) outcomes.push(settled);
    else going.push(c);
  }
  if (going.length === 0) return { outcomes };

  const alarms = await checkAlarms(ctx);
  if ("refusal" in alarms) {
    for (const c of going) outcomes.push(await notStarted(ctx, c, "refused", alarms.refusal));
    return { outcomes };
  }
  const rendered: Rendered[] = [];
  for (const c of await describe(ctx, going)) {
    const r = await render(ctx, c);
    if ("outcome" in r) outcomes.push(r);
    else rendered.push(r);
  }

  const register = registrar(ctx, states, rendered);
  let retry: StevedoreError | undefined;
  await mapLimit(rendered, CONCURRENCY, async (c) => {
    try {
      outcomes.push(await claimAndStart(ctx, c, alarms, register));
    } catch (error) {
      if (error instanceof StevedoreError && !error.retryable) {
        outcomes.push(await notStarted(ctx, c, "failed", error.message));
        return;
      }
      retry ??= error instanceof StevedoreError ? error : new RetryableAwsError("deploy", "Unexpected", String(error), { cause: error });
      outcomes.push({ target: c.target.key, outcome: "busy", reason: `will be retried: ${(error as Error).message}` });
    }
  });
  return { outcomes, retry };
}

/** What the head alone settles: this image already owns the service, a newer one does, or nothing tells which is newer. */
async function settledByHead(ctx: Deploying, c: Classified): Promise<TargetOutcome | undefined> {
  const { arrival } = c;
  if (arrival.kind === "duplicate") {
    return { target: c.target.key, outcome: "duplicate", reason: `this image already owns the service (${arrival.status})`, recordId: c.state.record?.id };
  }
  if (arrival.kind === "stale") return notStarted(ctx, c, "stale", newerReason(arrival.newer));
  if (arrival.kind === "tie") return notStarted(ctx, c, "refused", tieReason(ctx.arrival, arrival.other, c.state.record?.tag));
  return undefined;
}

/**
 * ECS ignores an alarm that is already firing when a deployment starts: with whenAlarmFiring:
 * refuse that refuses the deployment, otherwise each record says so.
 */
async function checkAlarms({ env }: Deploying): Promise<AlarmCheck | { refusal: string }> {
  if (env.alarms.length === 0) return { warnings: [] };
  const checkedAt = new Date().toISOString();
  const alarms = await describeAlarms(env.region, env.alarms);
  const firing = alarms.filter((a) => a.state === "ALARM");
  const missing = env.alarms.filter((n) => !alarms.some((a) => a.name === n));
  if (env.whenAlarmFiring === "refuse") {
    if (firing.length > 0) return { refusal: `refused: alarm ${firing.map((a) => a.name).join(", ")} is already in ALARM (whenAlarmFiring: refuse)` };
    // A missing alarm would let the deployment run unguarded, the very thing "refuse" is there to prevent.
    if (missing.length > 0) {
      return {
        refusal: `refused: alarm ${missing.join(", ")} does not exist in ${env.region}, so nothing would guard this deployment (whenAlarmFiring: refuse); create it or correct its name`,
      };
    }
  }
  return {
    checkedAt,
    warnings: [
      ...missing.map((name) => `alarm ${name} does not exist, so it guards nothing: ${env.name} is unguarded against it`),
      ...firing.map(
        (a) => `alarm ${a.name} was already in ALARM when this deployment started; ECS ignores alarms that fire at the start, so it does not guard this one`,
      ),
    ],
  };
}

/** ECS's view of each service: one call per ten services of a cluster. */
async function describe(ctx: Deploying, going: Classified[]): Promise<Checked[]> {
  const byCluster = new Map<string, Classified[]>();
  for (const c of going) byCluster.set(c.target.cluster, [...(byCluster.get(c.target.cluster) ?? []), c]);
  const described = new Map<Classified, ServiceState>();
  for (const [cluster, group] of byCluster) {
    const services = await describeServices(
      ctx.env.region,
      cluster,
      group.map((c) => c.target.service),
    );
    for (const c of group) described.set(c, services.get(c.target.service) as ServiceState);
  }
  return going.map((c) => ({ ...c, service: described.get(c) as ServiceState }));
}

/** The service's own problems, then the task definition; a resumed claim also looks for the revision it may have registered. */
async function render(ctx: Deploying, c: Checked): Promise<Rendered | TargetOutcome> {
  const problem = serviceProblem(c.service, ctx.env.strategy);
  if (problem) return notStarted(ctx, c, "failed", problem);
  const rendered = renderTarget(c.target, ctx.arrival.image);
  if (!rendered.ok) return notStarted(ctx, c, "failed", `the task definition does not render: ${rendered.problems.join("; ")}`);
  // The invocation that claimed it may have died between registering and recording the revision.
  const registered =
    c.arrival.kind === "resume"
      ? (c.state.record?.taskDefinitionArn ?? (await registeredEarlier(ctx.env.region, registrationOf(ctx, rendered.input))))
      : undefined;
  return { ...c, input: rendered.input, definition: canonical(rendered.input), registered };
}

/**
 * Registers once per distinct definition (services sharing a family share the revision), and
 * only once a service is claimed: an image that loses the race registers nothing, so no
 * revision that no service runs can become its family's newest.
 */
function registrar(ctx: Deploying, states: TargetState[], rendered: Rendered[]): (c: Rendered) => Promise<string> {
  const registrations = new Map<string, Promise<string>>();
  // A retried event: services of this environment that this image already owns name the
  // revision registered for them; the others sharing their definition use it too.
  ctx.env.targets.forEach((target, i) => {
    const owned = (states[i] as TargetState).record;
    if (owned?.pushKey !== ctx.pushKey || !owned.taskDefinitionArn) return;
    const r = renderTarget(target, ctx.arrival.image);
    if (!r.ok) return;
    const definition = canonical(r.input);
    if (!registrations.has(definition)) registrations.set(definition, Promise.resolve(owned.taskDefinitionArn));
  });
  return (c) => {
    let registration = registrations.get(c.definition);
    if (!registration) {
      const group = rendered.filter((o) => o.definition === c.definition);
      registration = registerTaskDefinition(ctx.env.region, withTags(ctx, c.input, group));
      registrations.set(c.definition, registration);
    }
    return registration;
  };
}

/** Claims the service (or retakes an abandoned claim), registers, calls UpdateService, records the start. */
async function claimAndStart(ctx: Deploying, c: Rendered, alarms: AlarmCheck, register: (c: Rendered) => Promise<string>): Promise<TargetOutcome> {
  const record = await claimOrRetake(ctx, c, alarms);
  if ("outcome" in record) return record;

  let taskDefinition = c.registered;
  let started: Started;
  try {
    taskDefinition ??= await register(c);
    started = await start(ctx, { ...c, record, taskDefinition });
  } catch (error) {
    if (error instanceof StevedoreError && !error.retryable) {
      const { record: failed } = decide(record, { kind: "start-failed", at: ctx.arrival.at, reason: error.message, taskDefinitionArn: taskDefinition });
      await saveAndUnlock(failed, record.version);
      return { target: c.target.key, outcome: "failed", reason: error.message, recordId: record.id };
    }
    // Give the claim back so Lambda's retry of this event can resume it at once, with the
    // revision it registered (if it got that far): the retry uses it instead of registering again.
    await saveAndUnlock({ ...record, taskDefinitionArn: taskDefinition, leaseUntil: 0, version: record.version + 1 }, record.version).catch(() => false);
    throw error;
  }
  return recordStart(ctx, started);
}

/**
 * UpdateService. A resumed claim whose dead invocation's UpdateService landed adopts the
 * deployment it started instead: asking again would start nothing, and its events went by unheard.
 */
async function start({ env }: Deploying, r: Registered): Promise<Started> {
  const landed = landedDeployment(r);
  const deployment = landed
    ? adopted(r, landed)
    : await updateService(env.region, {
        cluster: r.target.cluster,
        service: r.target.service,
        taskDefinition: r.taskDefinition,
        deploymentConfiguration: deploymentConfiguration(env, r.service.deploymentConfiguration),
      });
  return { ...r, deployment, landed };
}

/** Records "started" and unlocks the head; an adopted deployment also catches up with what ECS did meanwhile. */
async function recordStart(ctx: Deploying, s: Started): Promise<TargetOutcome> {
  const { record, taskDefinition, landed } = s;
  const { createdAt, ...ids } = s.deployment;
  const change = { kind: "started", at: createdAt ?? ctx.arrival.at, taskDefinitionArn: taskDefinition, ...ids } as const;
  let current = decide(record, change).record;
  if (!(await saveAndUnlock(current, record.version))) {
    // Someone moved the record while ECS was being asked (an early ECS event): apply ours on top.
    await unlock(record).catch(() => undefined);
    current = (await advance(record, change)).record;
  }
  if (landed) await caughtUp(current, landed, ctx.arrival);
  return { target: s.target.key, outcome: "started", reason: `${shortTaskDefinition(taskDefinition)}, ${s.deployment.ecsDeploymentId}`, recordId: record.id };
}

async function claimOrRetake(ctx: Deploying, c: Rendered, alarms: AlarmCheck): Promise<DeploymentRecord | TargetOutcome> {
  const { arrival } = ctx;
  // What the head says now: first as classified, then as read again after a lost race.
  let current: Classified = c;
  const giveUpAt = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const { state } = current;
    if (current.arrival.kind === "resume" && state.record) {
      const lease = ctx.lease.until();
      const taken = { ...state.record, taskDefinitionArn: c.registered, leaseUntil: lease, updatedAt: arrival.at, version: state.record.version + 1 };
      const result = await retake(taken, state.record.version, lease, Date.now());
      if (result === "claimed") return taken;
      if (result === "rejected") return rejected(ctx, c);
    } else {
      const record = newRecord(ctx, c.target, "pending", undefined, {
        taskDefinitionArn: c.registered,
        replacesTaskDefinition: lastStableTaskDefinition(c.service),
        warnings: alarms.warnings.map((message) => ({ at: arrival.at, message })),
        alarmsCheckedAt: alarms.checkedAt,
        // A rollback still rolling out keeps being followed through this record (verify/follow.ts).
        overtook: state.record?.status === "rolling_back" ? recordKeyOf(state.record) : undefined,
      });
      const result = await claim(record, state.head, record.leaseUntil as number, Date.now());
      if (result === "exists") {
        // The same trigger again, after this very record ended (a duplicate of a refused push, a
        // repeated decision): nothing to claim, and nothing to wait for.
        const existing = await getRecord(c.target.key, recordKeyOf(record));
        const said = existing ? `${existing.status}${existing.reason ? `: ${existing.reason}` : ""}` : "written before";
        return {
          target: c.target.key,
          outcome: "duplicate",
          reason: `this ${arrival.trigger}'s deployment to this service is already ${said}${arrival.trigger === "promotion" ? "; approve again to try once more" : "; push the image again to try once more"}`,
          recordId: record.id,
        };
      }
      if (result === "claimed") {
        if (state.record) await supersede(ctx, c, state.record, record);
        return record;
      }
      if (result === "rejected") return rejected(ctx, c);
    }
    // Somebody changed the head since we read it, or holds its lock: look again.
    const again = await readTarget(c.target.key);
    current = { ...c, state: again, arrival: classifyArrival(again, arriving(arrival), Date.now()) };
    const settled = await settledByHead(ctx, current);
    if (settled) return settled;
    if (Date.now() > giveUpAt) throw new RetryableAwsError("claim", "HeadLocked", `${c.target.key} is locked by another image's UpdateService`);
    if ((again.head?.lockUntil ?? 0) > Date.now()) await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
}

/** The record of the image whose service this one just claimed ends as superseded. */
async function supersede(ctx: Deploying, c: Rendered, older: DeploymentRecord, by: DeploymentRecord): Promise<void> {
  const { image } = ctx.arrival;
  // An abandoned claim may have registered a revision it never recorded: name it in its record.
  const orphan =
    older.status === "pending" && !older.taskDefinitionArn
      ? await registeredEarlier(ctx.env.region, { ...registrationOf(ctx, c.input), digest: older.digest, pushedAt: older.pushedAt })
      : undefined;
  await advance(older, {
    kind: "superseded",
    at: ctx.arrival.at,
    by: `${image.tag ?? "untagged"} (${shortDigest(image.digest)}, record ${by.id})`,
    taskDefinitionArn: orphan,
  });
}

/**
 * For a resumed claim: the deployment its dead invocation's UpdateService started, if it landed
 * (the revision registered for this image is unique to it).
 */
function landedDeployment(c: Rendered): EcsDeployment | undefined {
  if (c.arrival.kind !== "resume" || !c.registered) return undefined;
  return c.service.deployments.find((d) => d.id && d.taskDefinition === c.registered);
}

/** The deployment a dead invocation started, as UpdateService would have answered it. */
function adopted(c: Checked, landed: EcsDeployment): StartedDeployment {
  return {
    ecsDeploymentId: landed.id,
    serviceDeploymentArn: landed.status === "PRIMARY" ? c.service.currentServiceDeployment : undefined,
    createdAt: landed.createdAt,
  };
}

/** An adopted deployment may have ended already: what ECS says of it stands for the events missed. */
async function caughtUp(record: DeploymentRecord, landed: EcsDeployment, arrival: ImageArrival): Promise<DeploymentRecord> {
  if (landed.rolloutState !== "COMPLETED" && landed.rolloutState !== "FAILED") return record;
  return (
    await advance(record, {
      kind: "ecs",
      event: landed.rolloutState,
      deploymentId: landed.id,
      at: landed.updatedAt ?? arrival.at,
      reason: landed.rolloutStateReason,
    })
  ).record;
}

/**
 * A build rejected the image while this deployment was being decided: refuse it, saying which.
 * A resumed claim whose dead invocation's UpdateService landed runs the rejected image: it is
 * adopted, then rolled back.
 */
async function rejected(ctx: Deploying, c: Rendered): Promise<TargetOutcome> {
  const { arrival } = ctx;
  const verdict = await readVerdict(arrival.image.repository, arrival.image.digest);
  const why = verdict?.reason ?? "a build that pushed this image failed";
  const landed = landedDeployment(c);
  if (landed && c.state.record) {
    const { createdAt, ...ids } = adopted(c, landed);
    const started = (await advance(c.state.record, { kind: "started", at: createdAt ?? arrival.at, taskDefinitionArn: c.registered as string, ...ids })).record;
    const current = await caughtUp(started, landed, arrival);
    const { record } = await decideAndRollBack(
      current,
      { kind: "rejected", at: arrival.at, reason: why, wallNow: Date.now(), leaseUntil: ctx.lease.until() },
      arrival.at,
    );
    return { target: c.target.key, outcome: "failed", reason: `${why}; its deployment had started, and is rolled back`, recordId: record.id };
  }
  return notStarted(ctx, c, "refused", `refused: ${why}`);
}

/**
 * The one place a service the image did not start on is recorded: on the abandoned claim it
 * was resuming, or as a record of its own (superseded for an older image).
 */
async function notStarted(
  ctx: Deploying,
  c: Classified & { registered?: string },
  outcome: "stale" | "refused" | "failed",
  reason: string,
): Promise<TargetOutcome> {
  let record: DeploymentRecord;
  if (c.arrival.kind === "resume" && c.state.record) {
    record = (await advance(c.state.record, { kind: "start-failed", at: ctx.arrival.at, reason, taskDefinitionArn: c.registered })).record;
  } else {
    record = newRecord(ctx, c.target, outcome === "stale" ? "superseded" : outcome, reason);
    await create(record);
  }
  return { target: c.target.key, outcome, reason, recordId: record.id };
}

function arriving(arrival: ImageArrival): Arriving {
  return { digest: arrival.image.digest, pushedAt: arrival.pushedAt, tag: arrival.image.tag, tagsNow: arrival.tagsNow };
}

function tieReason(arrival: ImageArrival, other: Head, otherTag: string | undefined): string {
  const named = `${otherTag ?? "untagged"} (${shortDigest(other.digest)}, record ${other.recordId})`;
  return (
    `refused: this image and ${named}, which owns the service, were pushed in the same second, ` +
    `the finest time ECR records, so nothing tells which is newer and the service keeps ${otherTag ?? shortDigest(other.digest)}; ` +
    `push images of ${arrival.image.repository} at least a second apart, or to one mutable tag`
  );
}

function newerReason(newer: Head): string {
  return `a newer image (${shortDigest(newer.digest)}, record ${newer.recordId}) already owns the service`;
}

function newRecord(
  { arrival, env, lease, pushKey }: Deploying,
  target: Target,
  status: DeploymentRecord["status"],
  reason?: string,
  extra: Partial<DeploymentRecord> = {},
): DeploymentRecord {
  const { image } = arrival;
  return {
    kind: "deployment",
    id: recordId(target.key, recordKeyOf({ pushKey, attempt: arrival.attempt })),
    attempt: arrival.attempt,
    app: target.app,
    env: target.env,
    region: target.region,
    cluster: target.cluster,
    service: target.service,
    targetKey: target.key,
    repository: image.repository,
    repositoryUri: image.repositoryUri,
    digest: image.digest,
    tag: image.tag,
    commit: image.commit,
    pushedAt: arrival.pushedAt,
    pushKey,
    trigger: arrival.trigger,
    triggerRef: arrival.triggerRef,
    buildUrl: arrival.buildUrl,
    promotedFrom: arrival.promotedFrom,
    status,
    reason,
    history: [reason === undefined ? { status, at: arrival.at } : { status, at: arrival.at, reason }],
    warnings: [],
    createdAt: arrival.at,
    updatedAt: arrival.at,
    // Counted again from ECS's acceptance once started; the event's time may be long past.
    deadline: addSeconds(new Date().toISOString(), env.deadlineSeconds),
    deadlineSeconds: env.deadlineSeconds,
    watchSeconds: env.watchSeconds,
    onTimeout: env.onTimeout,
    alarms: env.alarms,
    leaseUntil: status === "pending" ? lease.until() : undefined,
    version: 1,
    ...extra,
  };
}

/** Short, stable and unique per (service, image push, attempt): `d-3f9c2ab81d6e`. */
export function recordId(targetKey: string, recordKey: string): string {
  return `d-${createHash("sha256").update(`${targetKey}\n${recordKey}`).digest("hex").slice(0, 12)}`;
}

function registrationOf({ arrival, env }: Deploying, input: RegisterTaskDefinitionCommandInput): RegistrationOf {
  return { family: input.family as string, digest: arrival.image.digest, pushedAt: arrival.pushedAt, env: env.name };
}

/** Provenance tags: which image, environment and trigger the revision is for, and which revisions it replaces. */
function withTags({ arrival, env }: Deploying, input: RegisterTaskDefinitionCommandInput, group: Checked[]): RegisterTaskDefinitionCommandInput {
  const replaced = [
    ...new Set(
      group
        .map((c) => lastStableTaskDefinition(c.service))
        .filter((t): t is string => !!t)
        .map(shortTaskDefinition),
    ),
  ];
  const replaces = replaced.join(" ");
  return {
    ...input,
    tags: provenanceTags(input, {
      app: env.app,
      env: env.name,
      digest: arrival.image.digest,
      // With digest and env, finds the revision again if the invocation dies before recording it.
      pushed: arrival.pushedAt,
      tag: arrival.image.tag,
      commit: arrival.image.commit,
      trigger: arrival.trigger,
      replaces: replaces.length <= 256 ? replaces : `${replaced.length} revisions`,
    }),
  };
}
