// Carrying out a rollback the state machine decided, once its decision is written:
//   stop-deployment    → StopServiceDeployment(ROLLBACK) while ECS still rolls ours out; if ECS
//                        already rolls it back (ConflictException), follow that rollback; if ECS
//                        will not for another reason (the rollout just ended), fall back to the
//                        previous revision
//   redeploy-previous  → UpdateService back to the task definition this deployment replaced,
//                        with ECS's own rollbacks off for it (they would return the rejected image)
// ECS's answer confirms the rollback on the record. A rollback that cannot be made is recorded
// as a failure, loudly, never as success. A retryable failure is thrown: the event is retried,
// and after the request's lease another alarm or the sweeper acts again.
import { RetryableAwsError, StevedoreError, TerminalAwsError } from "../errors";
import { logger } from "../log";
import { advance } from "../records/advance";
import { shortDigest, type DeploymentRecord } from "../records/model";
import { lockHead, readTarget, saveAndLock, unlock } from "../records/store";
import { decide, type Action, type Fact } from "../records/state";
import { stopServiceDeployment, updateService } from "../deploy/ecs";

export type RollbackAction = Exclude<Action, { type: "resume" }>;

/**
 * Applies a fact that can decide a rollback (an alarm, a build's failure) and carries the
 * rollback out. Only the invocation that wrote the decision acts on it: a duplicate event or a
 * second reason does not. `decided`: this call decided (and asked ECS for) a rollback.
 */
export async function decideAndRollBack(record: DeploymentRecord, fact: Fact, at: string): Promise<{ record: DeploymentRecord; decided: boolean }> {
  // Usually the decision and the head's lock are written together: one write less between the
  // alarm and ECS. When that transaction fails, the record or the head moved: decide again from
  // a fresh read, then lock (or find out why not) as the sweeper's rollbacks do.
  const outcome = decide(record, fact);
  const [action, ...more] = outcome.actions as RollbackAction[];
  if (outcome.record !== record && action && more.length === 0) {
    const lockUntil = lockUntilFor(outcome.record);
    if ((await saveAndLock(outcome.record, record.version, lockUntil, Date.now())) === "locked") {
      return { record: await rollBack(outcome.record, action, at, { locked: true }), decided: true };
    }
  }
  const applied = await advance(record, fact);
  let after = applied.record;
  if (applied.written) for (const next of applied.actions as RollbackAction[]) after = await rollBack(after, next, at);
  return { record: after, decided: applied.written && applied.actions.length > 0 };
}

/** `locked`: the head's lock was taken with the decision (decideAndRollBack). */
export async function rollBack(record: DeploymentRecord, action: RollbackAction, at: string, options: { locked?: boolean } = {}): Promise<DeploymentRecord> {
  try {
    return await askEcs(record, action, at, options.locked ?? false);
  } catch (error) {
    // Throttled or unavailable: the decision stays; its lease is given back so the retried
    // event (or the next sweep) acts at once instead of waiting for this invocation's deadline.
    await advance(record, { kind: "rollback-interrupted", at }).catch(() => undefined);
    throw error;
  }
}

async function askEcs(record: DeploymentRecord, action: RollbackAction, at: string, locked: boolean): Promise<DeploymentRecord> {
  logger.warn(`rolling back ${record.targetKey}: ${action.reason}`, { recordId: record.id, digest: record.digest });
  // The head's lock orders this rollback against a newer image's UpdateService: a rollback
  // landing after it would replace the very fix being pushed.
  if (!locked && !(await lockHead(record, lockUntilFor(record), Date.now()))) {
    const { head } = await readTarget(record.targetKey);
    if (head && head.recordId !== record.id) {
      const by = `a newer image (${shortDigest(head.digest)}, record ${head.recordId}) took the service before the rollback was made, and replaces this one`;
      return (await advance(record, { kind: "rollback-impossible", at, reason: `${action.reason}; ${by}` })).record;
    }
    throw new RetryableAwsError("rollback", "HeadLocked", `${record.targetKey} is locked by another UpdateService`);
  }
  try {
    return await rollBackNow(record, action, at);
  } finally {
    await unlock(record).catch(() => undefined);
  }
}

async function rollBackNow(record: DeploymentRecord, action: RollbackAction, at: string): Promise<DeploymentRecord> {
  if (action.type === "stop-deployment" && record.serviceDeploymentArn) {
    try {
      await stopServiceDeployment(record.region, record.serviceDeploymentArn);
      return (await advance(record, { kind: "rollback-started", at, reason: action.reason })).record;
    } catch (error) {
      if (!(error instanceof StevedoreError) || error.retryable) throw error;
      if (error instanceof TerminalAwsError && error.code === "ConflictException") {
        // ECS is already rolling it back (its circuit breaker or its own alarm got there first,
        // as the current ECS API model answers): that rollback is followed through its events,
        // never doubled by an UpdateService on top of it.
        logger.warn(`ECS is already rolling back ${record.targetKey}; following its rollback`, { recordId: record.id });
        return (await advance(record, { kind: "rollback-started", at, reason: action.reason })).record;
      }
      // ECS would not stop it: most likely the rollout just ended, so bring the previous back.
      logger.warn(`StopServiceDeployment refused (${error.message}); redeploying the previous revision instead`, { recordId: record.id });
    }
  }
  const previous = record.replacesTaskDefinition;
  if (!previous) {
    return (await advance(record, { kind: "rollback-impossible", at, reason: `${action.reason}; there is no earlier revision to roll back to` })).record;
  }
  try {
    const started = await updateService(record.region, {
      cluster: record.cluster,
      service: record.service,
      taskDefinition: previous,
      deploymentConfiguration: rollbackConfiguration(record),
    });
    return (await advance(record, { kind: "rollback-started", at, reason: action.reason, rollbackDeploymentId: started.ecsDeploymentId })).record;
  } catch (error) {
    if (!(error instanceof StevedoreError) || error.retryable) throw error;
    return (await advance(record, { kind: "rollback-impossible", at, reason: `${action.reason}; the rollback to ${previous} failed: ${error.message}` }))
      .record;
  }
}

/** How long a rollback may hold the head's lock at least (wall-clock ms): its ECS calls, retried. */
const ROLLBACK_LOCK_MS = 30_000;

/** Until when a rollback of `record` holds the head: its decision's lease, or ROLLBACK_LOCK_MS from now. */
function lockUntilFor(record: DeploymentRecord): number {
  return Math.max(record.rollback?.leaseUntil ?? 0, Date.now() + ROLLBACK_LOCK_MS);
}

/**
 * ECS rolls a failed deployment back to the last COMPLETED one, which for this rollback is the
 * very image it rejects. So neither the guarding alarms (a second or flapping alarm while it
 * rolls out) nor the circuit breaker may roll it back: the alarms stay named but off (ECS needs
 * all three fields), and the breaker only fails it, which the record then reports as a failed
 * rollback. Sizing and strategy are not sent: the rollback asks ECS for no other change.
 * Stevedore's next deployment turns the alarms on again.
 */
function rollbackConfiguration(record: DeploymentRecord) {
  return {
    alarms: { alarmNames: record.alarms, enable: false, rollback: false },
    deploymentCircuitBreaker: { enable: true, rollback: false },
  };
}
