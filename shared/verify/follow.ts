// ECS's events about a service → the deployment we started there. Events for services we do
// not manage, or for deployments that are not ours, are recognised and left alone.
import type { EcsDeploymentStateChange, EcsServiceAction } from "../events/ecs";
import { parseServiceArn } from "../events/ecs";
import { logger } from "../log";
import { advance } from "../records/advance";
import type { Fact } from "../records/state";
import { isFinal, type DeploymentRecord } from "../records/model";
import { getRecord, readTarget } from "../records/store";

export type FollowResult = { ignored: string } | { recordId: string; status: string; changed: boolean };

const DEPLOYMENT_EVENTS = {
  SERVICE_DEPLOYMENT_IN_PROGRESS: "IN_PROGRESS",
  SERVICE_DEPLOYMENT_COMPLETED: "COMPLETED",
  SERVICE_DEPLOYMENT_FAILED: "FAILED",
} as const;

export async function followDeployment(event: EcsDeploymentStateChange | EcsServiceAction): Promise<FollowResult> {
  const target = parseServiceArn(event.resources?.[0] ?? "");
  if (!target) return ignored("the event names no ECS service", event.id);
  const fact = factOf(event);
  if (!fact) return ignored(`${event.detail.eventName} (${event.detail.eventType}) says nothing about a deployment`, event.id);

  const { key } = target;
  const { record } = await readTarget(key);
  if (!record) return ignored(`no deployment of ${key} was started by Stevedore`, event.id);

  // The events of a rollback this image overtook are that rollback's, never a replacement of this one.
  const overtaken = record.overtook ? await followOvertaken(key, record.overtook, fact, event.id) : undefined;
  if (fact.kind === "ecs" && overtaken && overtaken.record.rollbackDeploymentId === fact.deploymentId) {
    return { recordId: overtaken.record.id, status: overtaken.record.status, changed: overtaken.written };
  }
  const outcome = await advance(record, fact);
  const changed = outcome.written;
  logger.info(`${key}: ${event.detail.eventName} → ${outcome.record.status}${changed ? "" : " (nothing changed)"}`, {
    recordId: record.id,
    eventId: event.id,
    fact: fact.kind === "ecs" ? `${fact.event} ${fact.deploymentId}` : fact.kind,
  });
  return { recordId: record.id, status: outcome.record.status, changed };
}

/** A rollback a newer image overtook gets the service's events first, until it has its final word. */
async function followOvertaken(
  key: string,
  recordKey: string,
  fact: Fact,
  eventId: string,
): Promise<{ record: DeploymentRecord; written: boolean } | undefined> {
  const overtaken = await getRecord(key, recordKey);
  if (!overtaken || isFinal(overtaken.status)) return overtaken && { record: overtaken, written: false };
  const outcome = await advance(overtaken, fact);
  if (outcome.written) logger.info(`${key}: the overtaken rollback ${overtaken.id} → ${outcome.record.status}`, { recordId: overtaken.id, eventId });
  return outcome;
}

function factOf(event: EcsDeploymentStateChange | EcsServiceAction): Fact | undefined {
  if (event["detail-type"] === "ECS Deployment State Change") {
    const d = (event as EcsDeploymentStateChange).detail;
    const kind = DEPLOYMENT_EVENTS[d.eventName as keyof typeof DEPLOYMENT_EVENTS];
    return kind && { kind: "ecs", at: d.updatedAt, event: kind, deploymentId: d.deploymentId, reason: d.reason };
  }
  // Service actions worth a person's attention: tasks that cannot start or cannot be placed.
  const d = (event as EcsServiceAction).detail;
  if (d.eventType !== "WARN" && d.eventType !== "ERROR") return undefined;
  return { kind: "warning", at: d.createdAt ?? event.time, message: `ECS ${d.eventName.toLowerCase().replace(/_/g, " ")}${d.reason ? `: ${d.reason}` : ""}` };
}

function ignored(reason: string, eventId: string): FollowResult {
  logger.info(`ECS event ignored: ${reason}`, { eventId });
  return { ignored: reason };
}
