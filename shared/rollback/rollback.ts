// Carrying out what the state machine asked for, and recording what happened:
//   stop-deployment    → StopServiceDeployment(ROLLBACK) while ECS still rolls ours out; if
//                        ECS will not (the rollout just ended), fall back to the previous revision
//   redeploy-previous  → UpdateService back to the task definition this deployment replaced
// A rollback that cannot be made is recorded as a failure, loudly: never as success.
import { StevedoreError } from "../errors";
import { logger } from "../log";
import { advance } from "../records/advance";
import type { DeploymentRecord } from "../records/model";
import type { Action } from "../records/state";
import { getRecord } from "../records/store";
import { stopServiceDeployment, updateService } from "../deploy/ecs";

export async function rollBack(record: DeploymentRecord, action: Exclude<Action, { type: "resume" }>, at: string): Promise<DeploymentRecord> {
  logger.warn(`rolling back ${record.targetKey}: ${action.reason}`, { recordId: record.id, digest: record.digest });
  if (action.type === "stop-deployment" && record.serviceDeploymentArn) {
    try {
      await stopServiceDeployment(record.region, record.serviceDeploymentArn);
      return (await advance(record, { kind: "rollback-started", at, reason: action.reason })).record;
    } catch (error) {
      if (!(error instanceof StevedoreError) || error.retryable) throw error;
      // ECS would not stop it: most likely the rollout ended, or ECS is already rolling back.
      const latest = (await getRecord(record.targetKey, record.pushKey)) ?? record;
      if (latest.status === "rolling_back" || latest.status === "rolled_back") return latest;
      logger.warn(`StopServiceDeployment refused (${error.message}); redeploying the previous revision instead`, { recordId: record.id });
    }
  }
  return redeployPrevious(record, action.reason, at);
}

async function redeployPrevious(record: DeploymentRecord, reason: string, at: string): Promise<DeploymentRecord> {
  const previous = record.replacesTaskDefinition;
  if (!previous) {
    return (await advance(record, { kind: "rollback-impossible", at, reason: `${reason}; there is no earlier revision to roll back to` })).record;
  }
  try {
    // No deployment configuration: the service keeps the one (circuit breaker, alarms) it has.
    const started = await updateService(record.region, { cluster: record.cluster, service: record.service, taskDefinition: previous });
    return (await advance(record, { kind: "rollback-started", at, reason, rollbackDeploymentId: started.ecsDeploymentId })).record;
  } catch (error) {
    if (!(error instanceof StevedoreError) || error.retryable) throw error;
    return (await advance(record, { kind: "rollback-impossible", at, reason: `${reason}; the rollback to ${previous} failed: ${error.message}` })).record;
  }
}
