// Carrying out a rollback the state machine decided, once its decision is written:
//   stop-deployment    → StopServiceDeployment(ROLLBACK) while ECS still rolls ours out; if
//                        ECS will not (the rollout just ended), fall back to the previous revision
//   redeploy-previous  → UpdateService back to the task definition this deployment replaced
// ECS's answer confirms the rollback on the record. A rollback that cannot be made is recorded
// as a failure, loudly, never as success. A retryable failure is thrown: the event is retried,
// and after the request's lease another alarm or the sweeper acts again.
import { StevedoreError } from "../errors";
import { logger } from "../log";
import { advance } from "../records/advance";
import type { DeploymentRecord } from "../records/model";
import type { Action } from "../records/state";
import { stopServiceDeployment, updateService } from "../deploy/ecs";

export type RollbackAction = Exclude<Action, { type: "resume" }>;

export async function rollBack(record: DeploymentRecord, action: RollbackAction, at: string): Promise<DeploymentRecord> {
  try {
    return await askEcs(record, action, at);
  } catch (error) {
    // Throttled or unavailable: the decision stays; its lease is given back so the retried
    // event (or the next sweep) acts at once instead of waiting for this invocation's deadline.
    await advance(record, { kind: "rollback-interrupted", at }).catch(() => undefined);
    throw error;
  }
}

async function askEcs(record: DeploymentRecord, action: RollbackAction, at: string): Promise<DeploymentRecord> {
  logger.warn(`rolling back ${record.targetKey}: ${action.reason}`, { recordId: record.id, digest: record.digest });
  if (action.type === "stop-deployment" && record.serviceDeploymentArn) {
    try {
      await stopServiceDeployment(record.region, record.serviceDeploymentArn);
      return (await advance(record, { kind: "rollback-started", at, reason: action.reason })).record;
    } catch (error) {
      if (!(error instanceof StevedoreError) || error.retryable) throw error;
      // ECS would not stop it: most likely the rollout just ended, so bring the previous back.
      logger.warn(`StopServiceDeployment refused (${error.message}); redeploying the previous revision instead`, { recordId: record.id });
    }
  }
  const previous = record.replacesTaskDefinition;
  if (!previous) {
    return (await advance(record, { kind: "rollback-impossible", at, reason: `${action.reason}; there is no earlier revision to roll back to` })).record;
  }
  try {
    // No deployment configuration: the service keeps the one (circuit breaker, alarms) it has.
    const started = await updateService(record.region, { cluster: record.cluster, service: record.service, taskDefinition: previous });
    return (await advance(record, { kind: "rollback-started", at, reason: action.reason, rollbackDeploymentId: started.ecsDeploymentId })).record;
  } catch (error) {
    if (!(error instanceof StevedoreError) || error.retryable) throw error;
    return (await advance(record, { kind: "rollback-impossible", at, reason: `${action.reason}; the rollback to ${previous} failed: ${error.message}` })).record;
  }
}
