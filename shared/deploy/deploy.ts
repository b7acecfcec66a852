// Deploying one image to the targets of some environments:
//   read each service's head → classify the arrival (new, duplicate, stale, abandoned claim)
//   → check the guarding alarms → describe the services → render → claim the service and lock
//   its head (one conditional transaction) → register once per distinct definition →
//   UpdateService → record "started" and unlock (one conditional transaction).
// Reads and pure checks come first, so bad input or a refused deployment writes nothing to ECS.
// The claim comes before registration: an image that loses the race to a newer one registers
// nothing (no unused revision becomes its family's newest). While one image's claim is held, no
// other image can claim the service, so an older image's UpdateService can never land after a
// newer one's.
import { createHash } from "node:crypto";
import type { RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import type { Environment, Target } from "../config/model";
import { RetryableAwsError, StevedoreError } from "../errors";
import { CONCURRENCY, mapLimit } from "../limit";
import { logger } from "../log";
import { canonical, provenanceTags, renderTarget, type Image } from "../render/task-definition";
import { advance } from "../records/advance";
import { decideAndRollBack } from "../rollback/rollback";
import { pushKeyOf, recordKeyOf, shortDigest, type DeploymentRecord, type Trigger } from "../records/model";
import { addSeconds, decide } from "../records/state";
import { claim, create, getRecord, readTarget, readVerdict, retake, saveAndUnlock, unlock, type TargetState } from "../records/store";
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
import { classifyArrival, deploymentConfiguration, type Arriving, lastStableTaskDefinition, serviceProblem, shortTaskDefinition, type Arrival } from "./plan";

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

export interface DeployOptions {
  /** Wall-clock ms until which a claim taken now may be held (see shared/lambda.ts). */
  lease(): number;
}

export type TargetOutcome = {
  target: string;
  outcome: "started" | "duplicate" | "stale" | "refused" | "failed" | "busy";
  reason?: string;
  recordId?: string;
};

/** How long a claim waits for another image's UpdateService to finish before giving up. */
const LOCK_WAIT_MS = 5000;

export async function deployImage(arrival: ImageArrival, environments: Environment[], options: DeployOptions): Promise<TargetOutcome[]> {
  const perEnvironment = await Promise.all(environments.map((env) => deployToEnvironment(arrival, env, options)));
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

interface Candidate {
  target: Target;
  state: TargetState;
  arrival: Arrival;
  service?: ServiceState;
  input?: RegisterTaskDefinitionCommandInput;
  taskDefinition?: string;
}

async function deployToEnvironment(arrival: ImageArrival, env: Environment, options: DeployOptions) {
  const pushKey = pushKeyOf(arrival.pushedAt, arrival.image.digest);
  const outcomes: TargetOutcome[] = [];
  const say = (c: Candidate, outcome: TargetOutcome["outcome"], reason?: string, recordId?: string) =>
    outcomes.push({ target: c.target.key, outcome, reason, recordId });

  const states = await mapLimit(env.targets, CONCURRENCY, (t) => readTarget(t.key));
  let candidates: Candidate[] = env.targets.map((target, i) => {
    const state = states[i] as TargetState;
    return { target, state, arrival: classifyArrival(state, arriving(arrival), Date.now()) };
  });
  for (const c of candidates) {
    if (c.arrival.kind === "duplicate") say(c, "duplicate", `this image already owns the service (${c.arrival.status})`, c.state.record?.id);
    if (c.arrival.kind === "stale") {
      const record = newRecord(c.target, env, arrival, pushKey, options, "superseded", newerReason(c.arrival.newer.digest, c.arrival.newer.recordId));
      await create(record);
      say(c, "stale", record.reason, record.id);
    }
    if (c.arrival.kind === "tie") {
      const record = newRecord(c.target, env, arrival, pushKey, options, "refused", tieReason(arrival, c.arrival.other, c.state.record?.tag));
      await create(record);
      say(c, "refused", record.reason, record.id);
    }
  }
  candidates = candidates.filter((c) => c.arrival.kind === "new" || c.arrival.kind === "resume");
  if (candidates.length === 0) return { outcomes };

  // Alarms: ECS ignores an alarm that is already firing when a deployment starts.
  const warnings: string[] = [];
  let alarmsCheckedAt: string | undefined;
  if (env.alarms.length > 0) {
    alarmsCheckedAt = new Date().toISOString();
    const alarms = await describeAlarms(env.region, env.alarms);
    const firing = alarms.filter((a) => a.state === "ALARM");
    const missing = env.alarms.filter((n) => !alarms.some((a) => a.name === n));
    // Where a firing alarm refuses a deployment, an alarm that does not exist must too: it
    // would let the deployment run unguarded, the very thing "refuse" is there to prevent.
    const refusal =
      env.whenAlarmFiring !== "refuse"
        ? undefined
        : firing.length > 0
          ? `refused: alarm ${firing.map((a) => a.name).join(", ")} is already in ALARM (whenAlarmFiring: refuse)`
          : missing.length > 0
            ? `refused: alarm ${missing.join(", ")} does not exist in ${env.region}, so nothing would guard this deployment (whenAlarmFiring: refuse); create it or correct its name`
            : undefined;
    if (refusal) {
      for (const c of candidates) say(c, "refused", refusal, (await notStarted(c, env, arrival, pushKey, options, "refused", refusal)).id);
      return { outcomes };
    }
    for (const name of missing) warnings.push(`alarm ${name} does not exist, so it guards nothing: ${env.name} is unguarded against it`);
    for (const a of firing) {
      warnings.push(
        `alarm ${a.name} was already in ALARM when this deployment started; ECS ignores alarms that fire at the start, so it does not guard this one`,
      );
    }
  }

  // Services, ten per call per cluster; then the pure checks and rendering.
  const byCluster = new Map<string, Candidate[]>();
  for (const c of candidates) byCluster.set(c.target.cluster, [...(byCluster.get(c.target.cluster) ?? []), c]);
  for (const [cluster, group] of byCluster) {
    const services = await describeServices(
      env.region,
      cluster,
      group.map((c) => c.target.service),
    );
    for (const c of group) c.service = services.get(c.target.service);
  }
  const ready: Candidate[] = [];
  for (const c of candidates) {
    const rendered = renderTarget(c.target, arrival.image);
    const problem =
      serviceProblem(c.service as ServiceState, env.strategy) ?? (rendered.ok ? null : `the task definition does not render: ${rendered.problems.join("; ")}`);
    if (problem) {
      say(c, "failed", problem, (await notStarted(c, env, arrival, pushKey, options, "failed", problem)).id);
      continue;
    }
    if (rendered.ok) c.input = rendered.input;
    if (c.arrival.kind === "resume") {
      // The invocation that claimed it may have died between registering and recording the revision.
      c.taskDefinition = c.state.record?.taskDefinitionArn ?? (await registeredEarlier(env.region, registrationOf(c, env, arrival)));
    }
    ready.push(c);
  }

  // Register once per distinct definition (services sharing a family share the revision), and
  // only once a service is claimed: an image that loses the race registers nothing, so no
  // revision that no service runs can become its family's newest.
  const registrations = new Map<string, Promise<string>>();
  // A retried event: services of this environment that this image already owns name the
  // revision registered for them; the others sharing their definition use it too.
  env.targets.forEach((target, i) => {
    const owned = (states[i] as TargetState).record;
    if (owned?.pushKey !== pushKey || !owned.taskDefinitionArn) return;
    const rendered = renderTarget(target, arrival.image);
    if (rendered.ok && !registrations.has(canonical(rendered.input))) registrations.set(canonical(rendered.input), Promise.resolve(owned.taskDefinitionArn));
  });
  const register = (c: Candidate): Promise<string> => {
    const key = canonical(c.input as RegisterTaskDefinitionCommandInput);
    let registration = registrations.get(key);
    if (!registration) {
      const group = ready.filter((o) => canonical(o.input as RegisterTaskDefinitionCommandInput) === key);
      registration = registerTaskDefinition(env.region, withTags(c.input as RegisterTaskDefinitionCommandInput, arrival, env, group));
      registrations.set(key, registration);
    }
    return registration;
  };
  let retry: StevedoreError | undefined;
  await mapLimit(ready, CONCURRENCY, async (c) => {
    try {
      const outcome = await claimAndStart(c, env, arrival, pushKey, options, { warnings, alarmsCheckedAt }, register);
      say(c, outcome.outcome, outcome.reason, outcome.recordId);
    } catch (error) {
      if (error instanceof StevedoreError && !error.retryable) {
        say(c, "failed", error.message, (await notStarted(c, env, arrival, pushKey, options, "failed", error.message)).id);
        return;
      }
      retry ??= error instanceof StevedoreError ? error : new RetryableAwsError("deploy", "Unexpected", String(error), { cause: error });
      say(c, "busy", `will be retried: ${(error as Error).message}`);
    }
  });
  return { outcomes, retry };
}

/** Claims the service (or retakes an abandoned claim), registers, calls UpdateService, records the start. */
/** What the checks before the claim learnt: warnings for the record, and when the alarms were read. */
interface Checked {
  warnings: string[];
  alarmsCheckedAt?: string;
}

async function claimAndStart(
  c: Candidate,
  env: Environment,
  arrival: ImageArrival,
  pushKey: string,
  options: DeployOptions,
  checked: Checked,
  register: (c: Candidate) => Promise<string>,
): Promise<Omit<TargetOutcome, "target">> {
  const record = await claimOrRetake(c, env, arrival, pushKey, options, checked);
  if ("outcome" in record) return record;

  let started: StartedDeployment;
  let landed: EcsDeployment | undefined;
  try {
    c.taskDefinition ??= await register(c);
    // A resumed claim whose dead invocation's UpdateService landed adopts the deployment it
    // started: asking again would start nothing, and its events went by unheard.
    landed = landedDeployment(c);
    started = landed
      ? adopted(c, landed)
      : await updateService(env.region, {
          cluster: c.target.cluster,
          service: c.target.service,
          taskDefinition: c.taskDefinition as string,
          deploymentConfiguration: deploymentConfiguration(env, c.service?.deploymentConfiguration),
        });
  } catch (error) {
    if (error instanceof StevedoreError && !error.retryable) {
      const { record: failed } = decide(record, { kind: "start-failed", at: arrival.at, reason: error.message, taskDefinitionArn: c.taskDefinition });
      await saveAndUnlock(failed, record.version);
      return { outcome: "failed", reason: error.message, recordId: record.id };
    }
    // Give the claim back so Lambda's retry of this event can resume it at once, with the
    // revision it registered (if it got that far): the retry uses it instead of registering again.
    await saveAndUnlock({ ...record, taskDefinitionArn: c.taskDefinition, leaseUntil: 0, version: record.version + 1 }, record.version).catch(() => false);
    throw error;
  }
  const { createdAt, ...ids } = started;
  const { record: after } = decide(record, { kind: "started", at: createdAt ?? arrival.at, taskDefinitionArn: c.taskDefinition as string, ...ids });
  let current = after;
  if (!(await saveAndUnlock(after, record.version))) {
    // Someone moved the record while ECS was being asked (an early ECS event): apply ours on top.
    await unlock(record).catch(() => undefined);
    current = (await advance(record, { kind: "started", at: createdAt ?? arrival.at, taskDefinitionArn: c.taskDefinition as string, ...ids })).record;
  }
  if (landed) await caughtUp(current, landed, arrival);
  return { outcome: "started", reason: `${shortTaskDefinition(c.taskDefinition as string)}, ${started.ecsDeploymentId}`, recordId: record.id };
}

async function claimOrRetake(
  c: Candidate,
  env: Environment,
  arrival: ImageArrival,
  pushKey: string,
  options: DeployOptions,
  checked: Checked,
): Promise<DeploymentRecord | Omit<TargetOutcome, "target">> {
  let state = c.state;
  let kind = c.arrival.kind;
  const giveUpAt = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    if (kind === "resume" && state.record) {
      const lease = options.lease();
      const taken = { ...state.record, taskDefinitionArn: c.taskDefinition, leaseUntil: lease, updatedAt: arrival.at, version: state.record.version + 1 };
      const result = await retake(taken, state.record.version, lease, Date.now());
      if (result === "claimed") return taken;
      if (result === "rejected") return rejected(c, env, arrival, pushKey, options);
    } else {
      const record = newRecord(c.target, env, arrival, pushKey, options, "pending", undefined, {
        taskDefinitionArn: c.taskDefinition,
        replacesTaskDefinition: c.service ? lastStableTaskDefinition(c.service) : undefined,
        warnings: checked.warnings.map((message) => ({ at: arrival.at, message })),
        alarmsCheckedAt: checked.alarmsCheckedAt,
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
          outcome: "duplicate",
          reason: `this ${arrival.trigger}'s deployment to this service is already ${said}${arrival.trigger === "promotion" ? "; approve again to try once more" : "; push the image again to try once more"}`,
          recordId: record.id,
        };
      }
      if (result === "claimed") {
        const older = state.record;
        if (older) {
          // An abandoned claim may have registered a revision it never recorded: name it in its record.
          const orphan =
            older.status === "pending" && !older.taskDefinitionArn
              ? await registeredEarlier(env.region, { ...registrationOf(c, env, arrival), digest: older.digest, pushedAt: older.pushedAt })
              : undefined;
          await advance(older, {
            kind: "superseded",
            at: arrival.at,
            by: `${arrival.image.tag ?? "untagged"} (${shortDigest(arrival.image.digest)}, record ${record.id})`,
            taskDefinitionArn: orphan,
          });
        }
        return record;
      }
      if (result === "rejected") return rejected(c, env, arrival, pushKey, options);
    }
    // Somebody changed the head since we read it, or holds its lock: look again.
    state = await readTarget(c.target.key);
    const again = classifyArrival(state, arriving(arrival), Date.now());
    if (again.kind === "stale") {
      const record = newRecord(c.target, env, arrival, pushKey, options, "superseded", newerReason(again.newer.digest, again.newer.recordId));
      await create(record);
      return { outcome: "stale", reason: record.reason, recordId: record.id };
    }
    if (again.kind === "tie") {
      const record = newRecord(c.target, env, arrival, pushKey, options, "refused", tieReason(arrival, again.other, state.record?.tag));
      await create(record);
      return { outcome: "refused", reason: record.reason, recordId: record.id };
    }
    if (again.kind === "duplicate")
      return { outcome: "duplicate", reason: `this image already owns the service (${again.status})`, recordId: state.record?.id };
    if (Date.now() > giveUpAt) throw new RetryableAwsError("claim", "HeadLocked", `${c.target.key} is locked by another image's UpdateService`);
    if ((state.head?.lockUntil ?? 0) > Date.now()) await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    kind = again.kind;
  }
}

/**
 * For a resumed claim: the deployment its dead invocation's UpdateService started, if it landed
 * (the revision registered for this image is unique to it).
 */
function landedDeployment(c: Candidate): EcsDeployment | undefined {
  if (c.arrival.kind !== "resume" || !c.taskDefinition) return undefined;
  return c.service?.deployments.find((d) => d.id && d.taskDefinition === c.taskDefinition);
}

/** The deployment a dead invocation started, as UpdateService would have answered it. */
function adopted(c: Candidate, landed: EcsDeployment): StartedDeployment {
  return {
    ecsDeploymentId: landed.id,
    serviceDeploymentArn: landed.status === "PRIMARY" ? c.service?.currentServiceDeployment : undefined,
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
async function rejected(
  c: Candidate,
  env: Environment,
  arrival: ImageArrival,
  pushKey: string,
  options: DeployOptions,
): Promise<Omit<TargetOutcome, "target">> {
  const verdict = await readVerdict(arrival.image.repository, arrival.image.digest);
  const why = verdict?.reason ?? "a build that pushed this image failed";
  const landed = landedDeployment(c);
  if (landed && c.state.record) {
    const { createdAt, ...ids } = adopted(c, landed);
    const started = (await advance(c.state.record, { kind: "started", at: createdAt ?? arrival.at, taskDefinitionArn: c.taskDefinition as string, ...ids }))
      .record;
    const current = await caughtUp(started, landed, arrival);
    const { record } = await decideAndRollBack(
      current,
      { kind: "rejected", at: arrival.at, reason: why, wallNow: Date.now(), leaseUntil: options.lease() },
      arrival.at,
    );
    return { outcome: "failed", reason: `${why}; its deployment had started, and is rolled back`, recordId: record.id };
  }
  const reason = `refused: ${why}`;
  return { outcome: "refused", reason, recordId: (await notStarted(c, env, arrival, pushKey, options, "refused", reason)).id };
}

/** Records a deployment that never reached ECS: as a new record, or on an abandoned claim. */
async function notStarted(
  c: Candidate,
  env: Environment,
  arrival: ImageArrival,
  pushKey: string,
  options: DeployOptions,
  status: "refused" | "failed",
  reason: string,
): Promise<DeploymentRecord> {
  if (c.arrival.kind === "resume" && c.state.record) {
    return (await advance(c.state.record, { kind: "start-failed", at: arrival.at, reason, taskDefinitionArn: c.taskDefinition })).record;
  }
  const record = newRecord(c.target, env, arrival, pushKey, options, status, reason);
  await create(record);
  return record;
}

function arriving(arrival: ImageArrival): Arriving {
  return { digest: arrival.image.digest, pushedAt: arrival.pushedAt, tag: arrival.image.tag, tagsNow: arrival.tagsNow };
}

function tieReason(arrival: ImageArrival, other: { digest: string; recordId: string }, otherTag: string | undefined): string {
  const named = `${otherTag ?? "untagged"} (${shortDigest(other.digest)}, record ${other.recordId})`;
  return (
    `refused: this image and ${named}, which owns the service, were pushed in the same second, ` +
    `the finest time ECR records, so nothing tells which is newer and the service keeps ${otherTag ?? shortDigest(other.digest)}; ` +
    `push images of ${arrival.image.repository} at least a second apart, or to one mutable tag`
  );
}

function newerReason(digest: string, recordId: string): string {
  return `a newer image (${shortDigest(digest)}, record ${recordId}) already owns the service`;
}

function newRecord(
  target: Target,
  env: Environment,
  arrival: ImageArrival,
  pushKey: string,
  options: DeployOptions,
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
    leaseUntil: status === "pending" ? options.lease() : undefined,
    version: 1,
    ...extra,
  };
}

/** Short, stable and unique per (service, image push, attempt): `d-3f9c2ab81d6e`. */
export function recordId(targetKey: string, recordKey: string): string {
  return `d-${createHash("sha256").update(`${targetKey}\n${recordKey}`).digest("hex").slice(0, 12)}`;
}

function registrationOf(c: Candidate, env: Environment, arrival: ImageArrival): RegistrationOf {
  return { family: (c.input as RegisterTaskDefinitionCommandInput).family as string, digest: arrival.image.digest, pushedAt: arrival.pushedAt, env: env.name };
}

function withTags(input: RegisterTaskDefinitionCommandInput, arrival: ImageArrival, env: Environment, group: Candidate[]): RegisterTaskDefinitionCommandInput {
  const replaced = [
    ...new Set(
      group
        .map((c) => (c.service ? lastStableTaskDefinition(c.service) : undefined))
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
