// The deployment state machine: a pure function from (record, fact) to the next record and the
// AWS actions that must follow. Facts come from events that may repeat or arrive out of order,
// so every transition only moves forward, final states absorb everything, and a fact that
// changes nothing returns the record unchanged (the caller then writes nothing).
//
//   pending ─▶ started ─▶ completed ─▶ verified
//      │          │            │
//      │          └────────────┴──▶ rolling_back ─▶ rolled_back | failed
//      ├─▶ failed             (ECS's circuit breaker or alarms; a guarding alarm; a timeout)
//      └─▶ timed_out ◀── any unfinished state past its deadline
//   superseded: a newer image took the service before this one was verified
//   refused: never started (a guarding alarm was already firing)
//
// A rollback Stevedore decides is written (rolling_back, with the request and a lease) before
// ECS is asked: the writer acts, a concurrent alarm only adds its name, and if the writer dies
// before ECS confirmed, the next alarm or sweep after the lease acts again.
import { withoutUndefined } from "../objects";
import { isFinal, type BuildVerdict, type DeploymentRecord, type DeploymentStatus } from "./model";

/** A guarding alarm's state, as read with DescribeAlarms. */
export interface AlarmReading {
  name: string;
  state: string;
  /** CloudWatch's reason for that state. */
  reason?: string;
  /** When it entered that state (ISO). */
  since?: string;
}

export type Fact =
  /** UpdateService accepted the deployment. */
  | { kind: "started"; at: string; ecsDeploymentId: string; serviceDeploymentArn?: string; taskDefinitionArn: string }
  /** Registering or updating failed for good: nothing was rolled out. */
  /** ECS was not asked, or refused; `taskDefinitionArn`: the revision registered for it, if one was. */
  | { kind: "start-failed"; at: string; reason: string; taskDefinitionArn?: string }
  /** An ECS Deployment State Change for this service. */
  | { kind: "ecs"; at: string; event: "IN_PROGRESS" | "COMPLETED" | "FAILED"; deploymentId: string; reason?: string }
  /** A guarding alarm went to ALARM at `at`. `wallNow`/`leaseUntil`: this invocation's clock and deadline. */
  | { kind: "alarm"; at: string; alarm: string; reason: string; wallNow: number; leaseUntil: number }
  /** ECS accepted our rollback (the result of a rollback action). */
  | { kind: "rollback-started"; at: string; reason: string; rollbackDeploymentId?: string }
  /** A rollback was needed but could not be made. */
  | { kind: "rollback-impossible"; at: string; reason: string }
  /** Asking ECS failed for now (throttled): give the request's lease back, so a retry acts at once. */
  | { kind: "rollback-interrupted"; at: string }
  /** The sweeper: `at` is event time; `wallNow`/`leaseUntil` its clock and deadline; the alarm states it read. */
  | { kind: "sweep"; at: string; wallNow: number; leaseUntil: number; alarms?: AlarmReading[]; build?: BuildWord }
  /** A newer image claimed the service. */
  /** `taskDefinitionArn`: the revision an abandoned claim registered before its invocation died, found by the newer image. */
  | { kind: "superseded"; at: string; by: string; taskDefinitionArn?: string }
  /** The image's own build failed after pushing it: the image must not stay. `wallNow`/`leaseUntil` as for alarms. */
  | { kind: "rejected"; at: string; reason: string; wallNow: number; leaseUntil: number }
  /** ECS Service Action warnings (task start impaired, placement failures). */
  | { kind: "warning"; at: string; message: string };

/**
 * For an image of an app that CodeBuild builds: what the build that pushed it said, whether a
 * build that may have pushed it still runs, or why nobody could tell.
 */
export interface BuildWord {
  project: string;
  verdict?: BuildVerdict;
  /** A build of the project that started before the push and has not finished. */
  running?: string;
  /** CodeBuild could not be asked (a terminal error): verification goes on, and says so. */
  unknown?: string;
}

export type Action =
  /** Roll back an active rollout: StopServiceDeployment(ROLLBACK). */
  | { type: "stop-deployment"; reason: string }
  /** Roll back a completed rollout: UpdateService to the definition it replaced. */
  | { type: "redeploy-previous"; taskDefinition: string; reason: string }
  /** The claim was abandoned (its invocation died): start the rollout again. */
  | { type: "resume" };

export interface Outcome {
  record: DeploymentRecord;
  actions: Action[];
}

const RANK: Record<DeploymentStatus, number> = {
  pending: 0,
  started: 1,
  completed: 2,
  rolling_back: 3,
  verified: 9,
  failed: 9,
  rolled_back: 9,
  timed_out: 9,
  superseded: 9,
  refused: 9,
};

export function decide(record: DeploymentRecord, fact: Fact): Outcome {
  const same = { record, actions: [] };
  if (fact.kind === "warning") {
    if (isFinal(record.status) || record.warnings.some((w) => w.message === fact.message)) return same;
    return noted(record, fact.at, { warnings: [...record.warnings, { at: fact.at, message: fact.message }] });
  }
  if (isFinal(record.status)) return same;

  switch (fact.kind) {
    case "started":
      if (record.status !== "pending") return same;
      return moved(record, "started", fact.at, undefined, {
        startedAt: fact.at,
        deadline: addSeconds(fact.at, budgetOf(record)),
        ecsDeploymentId: fact.ecsDeploymentId,
        serviceDeploymentArn: fact.serviceDeploymentArn,
        taskDefinitionArn: fact.taskDefinitionArn,
      });

    case "start-failed":
      return record.status === "pending" ? moved(record, "failed", fact.at, fact.reason, { taskDefinitionArn: fact.taskDefinitionArn }) : same;

    case "superseded":
      // A rollback ends only rolled back, failed or timed out: it is followed to its end.
      if (record.status === "rolling_back") return record.supersededBy ? same : noted(record, fact.at, { supersededBy: fact.by });
      return moved(record, "superseded", fact.at, `superseded by ${fact.by}`, { taskDefinitionArn: record.taskDefinitionArn ?? fact.taskDefinitionArn });

    case "ecs":
      return onEcsEvent(record, fact);

    case "alarm":
      return onAlarm(record, fact.at, fact.alarm, fact.reason, fact.wallNow, fact.leaseUntil);

    case "rejected":
      // Like an alarm, but whenever it comes: a failed build's image is never good.
      return rollBackImage(record, fact.at, fact.reason, fact.reason, fact.wallNow, fact.leaseUntil, true);

    case "rollback-started":
      // ECS accepted our rollback: confirmed, and its deployment is the one to follow.
      if (record.status !== "rolling_back") return same;
      return noted(record, fact.at, {
        rollback: record.rollback && { ...record.rollback, confirmedAt: fact.at },
        rollbackDeploymentId: fact.rollbackDeploymentId ?? record.rollbackDeploymentId,
      });

    case "rollback-impossible":
      return moved(record, "failed", fact.at, fact.reason);

    case "rollback-interrupted":
      return record.status === "rolling_back" && record.rollback && !record.rollback.confirmedAt
        ? noted(record, fact.at, { rollback: { ...record.rollback, leaseUntil: 0 } })
        : same;

    case "sweep":
      return onSweep(record, fact);
  }
}

function onEcsEvent(record: DeploymentRecord, fact: Extract<Fact, { kind: "ecs" }>): Outcome {
  const same = { record, actions: [] };
  const { event, deploymentId, at, reason } = fact;

  if (deploymentId === record.ecsDeploymentId) {
    // ECS confirming what UpdateService already answered: nobody is told, so nothing is written
    // (one call less per deployment).
    if (event === "IN_PROGRESS") return same;
    if (event === "COMPLETED") {
      if (RANK[record.status] >= RANK.completed) return same;
      const watchUntil = addSeconds(at, record.watchSeconds);
      if (record.watchSeconds === 0) return moved(record, "verified", at, "completed; no watch window", { completedAt: at, watchUntil });
      return moved(record, "completed", at, undefined, { completedAt: at, watchUntil });
    }
    // FAILED: the circuit breaker is always on with rollback, so ECS is now rolling back. If the
    // rollback already completed (its events overtook this one), the outcome is known.
    if (record.status === "rolling_back") return same;
    const settled = record.foreignCompletion && record.startedAt && record.foreignCompletion.at > record.startedAt;
    return settled
      ? moved(record, "rolled_back", at, reason ?? "ECS failed the deployment and rolled back", { finishedAt: at })
      : rollingBack(record, at, reason ?? "ECS failed the deployment");
  }

  if (record.rollbackDeploymentId !== undefined && deploymentId === record.rollbackDeploymentId) {
    if (event === "COMPLETED") return moved(record, "rolled_back", at, record.reason, { finishedAt: at });
    if (event === "FAILED") return moved(record, "failed", at, `the rollback failed too: ${reason ?? "no reason given"}`, { finishedAt: at });
    return same;
  }

  // A deployment we did not start. Only what happened after ours started can concern ours.
  if (!record.startedAt || at <= record.startedAt || record.status === "pending") return same;
  if (record.status === "rolling_back") return duringRollback(record, fact);
  if (event === "IN_PROGRESS") {
    if (reason !== undefined && /rolling back/i.test(reason)) {
      if (record.foreignCompletion?.id === deploymentId)
        return moved(record, "rolled_back", at, reason, { finishedAt: at, rollbackDeploymentId: deploymentId });
      return rollingBack(record, at, reason, { rollbackDeploymentId: deploymentId });
    }
    return moved(record, "superseded", at, `replaced by ECS deployment ${deploymentId}, which Stevedore did not start`);
  }
  // Events can overtake each other: a rollback's COMPLETED may come before the IN_PROGRESS
  // that says it is a rollback, or before our FAILED. Remember it; those events settle it.
  if (event === "COMPLETED") return noted(record, at, { foreignCompletion: { id: deploymentId, at } });
  return same;
}

/**
 * Another deployment than ours and than the known rollback, while ours is rolled back. Until the
 * rollback's id is known, the next deployment is the rollback, whoever started it (ECS's own
 * says "rolling back"; the one Stevedore's UpdateService starts does not say so) — unless a newer
 * image has claimed the service: then one that does not say so is the newer image's. Once the
 * rollback is known, any other deployment means it did not hold: ECS rolled it back (towards the
 * image it rejects) or the newer image replaced it before it completed. Only the rollback's own
 * COMPLETED says rolled_back: the service then runs the rollback target.
 */
function duringRollback(record: DeploymentRecord, fact: Extract<Fact, { kind: "ecs" }>): Outcome {
  const { event, deploymentId, at, reason } = fact;
  const saysRollingBack = reason !== undefined && /rolling back/i.test(reason);
  const isTheRollback = record.rollbackDeploymentId === undefined && (saysRollingBack || !record.supersededBy);
  if (event === "IN_PROGRESS") {
    if (isTheRollback) {
      if (record.foreignCompletion?.id === deploymentId)
        return moved(record, "rolled_back", at, record.reason, { finishedAt: at, rollbackDeploymentId: deploymentId });
      return noted(record, at, { rollbackDeploymentId: deploymentId });
    }
    const rollback = record.rollbackDeploymentId ?? "it";
    const why = saysRollingBack
      ? `ECS rolled the rollback (${rollback}) back with ${deploymentId}: the rejected image runs there again`
      : `the rollback did not complete: ${record.supersededBy ? `the newer image ${record.supersededBy} took the service` : `ECS deployment ${deploymentId}, which Stevedore did not start, replaced it`}`;
    return moved(record, "failed", at, `${record.reason ?? "rolled back"}; ${why}`, { finishedAt: at });
  }
  if (event === "COMPLETED") {
    if (isTheRollback && !record.supersededBy) return moved(record, "rolled_back", at, record.reason, { finishedAt: at, rollbackDeploymentId: deploymentId });
    // Whose it was, its IN_PROGRESS tells (or the deadline ends the wait).
    return noted(record, at, { foreignCompletion: { id: deploymentId, at } });
  }
  return { record, actions: [] };
}

function onAlarm(record: DeploymentRecord, at: string, alarm: string, alarmReason: string, wallNow: number, leaseUntil: number): Outcome {
  const same = { record, actions: [] };
  // An alarm that went off before Stevedore checked the alarms for this deployment is about what
  // ran before it (its event came late), or was firing at the check (refused, or warned about).
  // One that went off after the check counts, even before ECS started the rollout: ECS ignores it.
  if (!record.alarms.includes(alarm) || at < guardedFrom(record)) return same;
  const inWindow = record.watchUntil !== undefined && at < record.watchUntil;
  return rollBackImage(record, at, `alarm ${alarm} fired: ${alarmReason}`, `alarm ${alarm} fired`, wallNow, leaseUntil, inWindow);
}

/**
 * Something rejected this deployment's image (`reason`; `said` is the part that identifies it):
 * stop it while it rolls out, bring back the replaced revision once completed (if
 * `completedCounts`), or, while already rolling back, only add the reason — unless that rollback
 * was decided and never confirmed past its lease (its decider died): then act again.
 */
function rollBackImage(
  record: DeploymentRecord,
  at: string,
  reason: string,
  said: string,
  wallNow: number,
  leaseUntil: number,
  completedCounts: boolean,
): Outcome {
  const same = { record, actions: [] };
  if (record.status === "rolling_back") {
    const request = record.rollback;
    if (request && !request.confirmedAt && request.leaseUntil < wallNow) return retakeRollback(record, at, leaseUntil);
    return record.reason?.includes(said) ? same : noted(record, at, { reason: mention(record.reason, reason) });
  }
  if (record.status === "started") return requestRollback(record, at, reason, "stop-deployment", leaseUntil);
  if (record.status === "completed" && completedCounts) {
    if (!record.replacesTaskDefinition) return moved(record, "failed", at, `${reason}; there is no earlier revision to roll back to`);
    return requestRollback(record, at, reason, "redeploy-previous", leaseUntil);
  }
  return same;
}

function onSweep(record: DeploymentRecord, fact: Extract<Fact, { kind: "sweep" }>): Outcome {
  const same = { record, actions: [] };
  if (record.status === "completed" && record.watchUntil && fact.at >= record.watchUntil) {
    // An alarm in the window whose own event has not been handled yet still counts: never
    // verify (and promote) an image an alarm fired on.
    const firing = (fact.alarms ?? []).filter(
      (a) => a.state === "ALARM" && record.alarms.includes(a.name) && a.since !== undefined && a.since >= guardedFrom(record),
    );
    const fired = firing.find((a) => (a.since as string) < (record.watchUntil as string));
    if (fired) return onAlarm(record, fired.since as string, fired.name, "in ALARM when the watch window ended", fact.wallNow, fact.leaseUntil);
    // Never verified (and promoted) while a guarding alarm fires: one that went off since the
    // window ended holds the verdict until it clears.
    if (firing.length > 0) return same;
    // Never verify (and promote) an image its build may yet fail: the build pushes the image
    // before its last phase ends, and its own event can come after the watch window.
    const build = fact.build;
    if (build?.verdict?.verdict === "rejected") {
      const reason = build.verdict.reason ?? `its build ${build.verdict.project} failed after pushing this image`;
      return rollBackImage(record, fact.at, reason, reason, fact.wallNow, fact.leaseUntil, true);
    }
    if (build && !build.verdict && build.running) return same;
    if (build?.unknown) {
      const warning = {
        at: fact.at,
        message: `could not ask CodeBuild whether the build of ${build.project} that pushed this image succeeded (${build.unknown}); verified on its watch window alone`,
      };
      return moved(record, "verified", fact.at, undefined, { finishedAt: fact.at, warnings: [...record.warnings, warning] });
    }
    return moved(record, "verified", fact.at, undefined, { finishedAt: fact.at });
  }
  if (fact.at >= record.deadline) {
    const late = `no outcome within the deadline (${record.deadline})`;
    if (record.status === "rolling_back") {
      return moved(record, "timed_out", fact.at, `the rollback did not finish before the deadline: ${record.reason ?? ""}`.trim(), { finishedAt: fact.at });
    }
    if (record.status !== "completed") {
      const rollback = record.onTimeout === "rollback" && record.status === "started";
      const timedOut = moved(record, "timed_out", fact.at, rollback ? `${late}; rolling back` : late, { finishedAt: fact.at });
      return rollback ? { record: timedOut.record, actions: [{ type: "stop-deployment", reason: late }] } : timedOut;
    }
  }
  if (record.status === "rolling_back" && record.rollback && !record.rollback.confirmedAt && record.rollback.leaseUntil < fact.wallNow) {
    return retakeRollback(record, fact.at, fact.leaseUntil);
  }
  if (record.status === "pending" && (record.leaseUntil ?? 0) < fact.wallNow) {
    return { record, actions: [{ type: "resume" }] };
  }
  return same;
}

/** rolling_back with our request written first; the caller acts only if it wrote this. */
function requestRollback(record: DeploymentRecord, at: string, reason: string, action: "stop-deployment" | "redeploy-previous", leaseUntil: number): Outcome {
  const next = rollingBack(record, at, reason, { rollback: { action, reason, requestedAt: at, leaseUntil } });
  return { record: next.record, actions: [actionOf(record, action, reason)] };
}

function retakeRollback(record: DeploymentRecord, at: string, leaseUntil: number): Outcome {
  const request = record.rollback as NonNullable<DeploymentRecord["rollback"]>;
  return { record: noted(record, at, { rollback: { ...request, leaseUntil } }).record, actions: [actionOf(record, request.action, request.reason)] };
}

function actionOf(record: DeploymentRecord, action: "stop-deployment" | "redeploy-previous", reason: string): Action {
  return action === "stop-deployment"
    ? { type: "stop-deployment", reason }
    : { type: "redeploy-previous", taskDefinition: record.replacesTaskDefinition as string, reason };
}

/**
 * From when a guarding alarm's going off counts against this deployment: Stevedore's own check of
 * the alarms, which comes before ECS's start (the earlier of the two, should clocks disagree).
 */
function guardedFrom(record: DeploymentRecord): string {
  const started = record.startedAt ?? record.createdAt;
  return record.alarmsCheckedAt && record.alarmsCheckedAt < started ? record.alarmsCheckedAt : started;
}

/** Seconds from ECS's acceptance to an outcome (records written before the field: their deadline's distance from creation). */
function budgetOf(record: DeploymentRecord): number {
  return record.deadlineSeconds ?? (Date.parse(record.deadline) - Date.parse(record.createdAt)) / 1000;
}

/** Into rolling_back, with a deadline of its own: a rollback starting late must get its time. */
function rollingBack(record: DeploymentRecord, at: string, reason: string, patch: Partial<DeploymentRecord> = {}): Outcome {
  const deadline = [record.deadline, addSeconds(at, budgetOf(record))].sort()[1] as string;
  return moved(record, "rolling_back", at, reason, { ...patch, deadline });
}

function moved(record: DeploymentRecord, status: DeploymentStatus, at: string, reason?: string, patch: Partial<DeploymentRecord> = {}): Outcome {
  const next: DeploymentRecord = {
    ...record,
    ...withoutUndefined(patch),
    status,
    reason: reason ?? record.reason,
    history: [...record.history, reason === undefined ? { status, at } : { status, at, reason }],
    updatedAt: at,
    version: record.version + 1,
  };
  if (isFinal(status) && !next.finishedAt) next.finishedAt = at;
  return { record: next, actions: [] };
}

/** A change of details that is not a change of status: no history entry, no notification. */
function noted(record: DeploymentRecord, at: string, patch: Partial<DeploymentRecord>): Outcome {
  return { record: { ...record, ...withoutUndefined(patch), updatedAt: at, version: record.version + 1 }, actions: [] };
}

function mention(reason: string | undefined, more: string): string {
  if (reason?.includes(more)) return reason;
  return reason ? `${reason}; ${more}` : more;
}

export function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}
