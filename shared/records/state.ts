// The deployment state machine: a pure function from (record, fact) to the next record and the
// AWS actions that must follow. Facts come from events that may repeat or arrive out of order,
// so every transition only moves forward, final states absorb everything, and a fact that
// changes nothing returns the record unchanged (the caller then writes nothing).
//
//   pending ─▶ started ─▶ in_progress ─▶ completed ─▶ verified
//      │          │            │             │
//      │          └────────────┴──▶ rolling_back ─▶ rolled_back | failed
//      ├─▶ failed            (ECS rollback, alarm, timeout with onTimeout: rollback)
//      └─▶ timed_out ◀── any unfinished state past its deadline
//   superseded: a newer image took the service before this one was verified
//   refused: never started (a guarding alarm was already firing)
import { isFinal, type DeploymentRecord, type DeploymentStatus } from "./model";

export type Fact =
  /** UpdateService accepted the deployment. */
  | { kind: "started"; at: string; ecsDeploymentId: string; serviceDeploymentArn?: string; taskDefinitionArn: string }
  /** Registering or updating failed for good: nothing was rolled out. */
  | { kind: "start-failed"; at: string; reason: string }
  /** An ECS Deployment State Change for this service. */
  | { kind: "ecs"; at: string; event: "IN_PROGRESS" | "COMPLETED" | "FAILED"; deploymentId: string; reason?: string }
  /** A guarding alarm went to ALARM. */
  | { kind: "alarm"; at: string; alarm: string; reason: string }
  /** We asked ECS to roll back (the result of a "rollback" action). */
  | { kind: "rollback-started"; at: string; reason: string; rollbackDeploymentId?: string }
  /** A rollback was needed but could not be made. */
  | { kind: "rollback-impossible"; at: string; reason: string }
  /** The sweeper's clock: `at` is event time; `wallNow` the invocation's own clock (leases). */
  | { kind: "sweep"; at: string; wallNow: number }
  /** A newer image claimed the service. */
  | { kind: "superseded"; at: string; by: string }
  /** ECS Service Action warnings (task start impaired, placement failures). */
  | { kind: "warning"; at: string; message: string };

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

const ROLLING_OUT: DeploymentStatus[] = ["started", "in_progress"];
const RANK: Record<DeploymentStatus, number> = {
  pending: 0, started: 1, in_progress: 2, completed: 3, rolling_back: 4,
  verified: 9, failed: 9, rolled_back: 9, timed_out: 9, superseded: 9, refused: 9,
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
        ecsDeploymentId: fact.ecsDeploymentId,
        serviceDeploymentArn: fact.serviceDeploymentArn,
        taskDefinitionArn: fact.taskDefinitionArn,
      });

    case "start-failed":
      return record.status === "pending" ? moved(record, "failed", fact.at, fact.reason) : same;

    case "superseded":
      return moved(record, "superseded", fact.at, `superseded by ${fact.by}`);

    case "ecs":
      return onEcsEvent(record, fact);

    case "alarm":
      return onAlarm(record, fact);

    case "rollback-started":
      // ECS may have started rolling back first (its events overtake our call's answer): then
      // only fill in what we know, without a second "rolling back".
      if (record.status === "rolling_back") {
        return fact.rollbackDeploymentId && !record.rollbackDeploymentId
          ? noted(record, fact.at, { rollbackDeploymentId: fact.rollbackDeploymentId, reason: mention(record.reason, fact.reason) })
          : same;
      }
      return moved(record, "rolling_back", fact.at, fact.reason, { rollbackDeploymentId: fact.rollbackDeploymentId });

    case "rollback-impossible":
      return moved(record, "failed", fact.at, fact.reason);

    case "sweep":
      return onSweep(record, fact);
  }
}

function onEcsEvent(record: DeploymentRecord, fact: Extract<Fact, { kind: "ecs" }>): Outcome {
  const same = { record, actions: [] };
  const { event, deploymentId, at } = fact;
  const reason = fact.reason;

  if (deploymentId === record.ecsDeploymentId) {
    if (event === "IN_PROGRESS") {
      return ROLLING_OUT.includes(record.status) && record.status !== "in_progress" ? moved(record, "in_progress", at) : same;
    }
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
      : moved(record, "rolling_back", at, reason ?? "ECS failed the deployment");
  }

  if (record.rollbackDeploymentId !== undefined && deploymentId === record.rollbackDeploymentId) {
    if (event === "COMPLETED") return moved(record, "rolled_back", at, record.reason, { finishedAt: at });
    if (event === "FAILED") return moved(record, "failed", at, `the rollback failed too: ${reason ?? "no reason given"}`, { finishedAt: at });
    return same;
  }

  // A deployment we did not start. Only what happened after ours started can concern ours.
  if (!record.startedAt || at <= record.startedAt || record.status === "pending") return same;
  if (event === "IN_PROGRESS" && reason !== undefined && /rolling back/i.test(reason)) {
    // Keep the cause we already know (circuit breaker, alarm): ECS's text only says "rolling back".
    const cause = record.status === "rolling_back" ? record.reason : reason;
    if (record.foreignCompletion?.id === deploymentId) return moved(record, "rolled_back", at, cause, { finishedAt: at, rollbackDeploymentId: deploymentId });
    if (record.status === "rolling_back") return noted(record, at, { rollbackDeploymentId: deploymentId });
    return moved(record, "rolling_back", at, cause, { rollbackDeploymentId: deploymentId });
  }
  if (event === "IN_PROGRESS") {
    return moved(record, "superseded", at, `replaced by ECS deployment ${deploymentId}, which Stevedore did not start`);
  }
  if (event === "COMPLETED") {
    // Events can overtake each other: a rollback's COMPLETED may come before the IN_PROGRESS
    // that says it is a rollback, or before our FAILED. Remember it; those events settle it.
    if (record.status === "rolling_back") {
      return moved(record, "rolled_back", at, record.reason, { finishedAt: at, rollbackDeploymentId: deploymentId });
    }
    return noted(record, at, { foreignCompletion: { id: deploymentId, at } });
  }
  return same;
}

function onAlarm(record: DeploymentRecord, fact: Extract<Fact, { kind: "alarm" }>): Outcome {
  const same = { record, actions: [] };
  if (!record.alarms.includes(fact.alarm)) return same;
  const reason = `alarm ${fact.alarm} fired: ${fact.reason}`;
  if (record.status === "rolling_back") {
    // Already rolling back (ECS's own alarm rollback, or another alarm): keep the alarm's word.
    return record.reason?.includes(`alarm ${fact.alarm} fired`) ? same : noted(record, fact.at, { reason: mention(record.reason, reason) });
  }
  if (ROLLING_OUT.includes(record.status)) {
    return { record, actions: [{ type: "stop-deployment", reason }] };
  }
  if (record.status === "completed" && record.watchUntil && fact.at < record.watchUntil) {
    if (!record.replacesTaskDefinition) {
      return moved(record, "failed", fact.at, `${reason}; there is no earlier revision to roll back to`);
    }
    return { record, actions: [{ type: "redeploy-previous", taskDefinition: record.replacesTaskDefinition, reason }] };
  }
  return same;
}

function onSweep(record: DeploymentRecord, fact: Extract<Fact, { kind: "sweep" }>): Outcome {
  const same = { record, actions: [] };
  if (record.status === "completed" && record.watchUntil && fact.at >= record.watchUntil) {
    return moved(record, "verified", fact.at, undefined, { finishedAt: fact.at });
  }
  if (fact.at >= record.deadline) {
    const late = `no outcome within the deadline (${record.deadline})`;
    if (record.status === "rolling_back") {
      return moved(record, "timed_out", fact.at, `the rollback did not finish before the deadline: ${record.reason ?? ""}`.trim(), { finishedAt: fact.at });
    }
    if (record.status !== "completed") {
      const timedOut = moved(record, "timed_out", fact.at, record.onTimeout === "rollback" && ROLLING_OUT.includes(record.status) ? `${late}; rolling back` : late, { finishedAt: fact.at });
      return record.onTimeout === "rollback" && ROLLING_OUT.includes(record.status)
        ? { record: timedOut.record, actions: [{ type: "stop-deployment", reason: late }] }
        : timedOut;
    }
  }
  if (record.status === "pending" && (record.leaseUntil ?? 0) < fact.wallNow) {
    return { record, actions: [{ type: "resume" }] };
  }
  return same;
}

function moved(
  record: DeploymentRecord,
  status: DeploymentStatus,
  at: string,
  reason?: string,
  patch: Partial<DeploymentRecord> = {},
): Outcome {
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

function withoutUndefined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}
