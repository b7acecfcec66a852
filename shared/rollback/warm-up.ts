// ECS started or finished rolling out a service an alarm guards: that alarm may fire at any
// moment now (during the rollout or in the watch window after it), and its rollback should not
// wait for a cold start. So these two ECS events also wake on-alarm: it loads its code and config
// and primes the calls a rollback makes (shared/aws/prime.ts), with no AWS call of its own.
// Lambda keeps an idle container for some minutes, so the alarm that follows finds it ready;
// an alarm long after meets a cold container.
import { DynamoDBClient, PutItemCommand, QueryCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { ECSClient, StopServiceDeploymentCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { prime } from "../aws/prime";
import type { PipelineConfig } from "../config/model";
import { parseServiceArn, type EcsDeploymentStateChange } from "../events/ecs";
import { logger } from "../log";

/** The ECS events that open a window in which an alarm can roll back: rollout start and end. */
export const WARM_UP_EVENTS = ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"];

export type WarmUpResult =
  | { ignored: string }
  | { warmedUpFor: string; primed: string[]; failed: string[] }
  /** This container primed before: what it compiled stays compiled, so nothing is done twice. */
  | { warmedUpFor: string; alreadyWarm: true };

let primedHere = false;

export async function warmUp(event: EcsDeploymentStateChange, config: PipelineConfig): Promise<WarmUpResult> {
  const { eventName } = event.detail;
  if (!WARM_UP_EVENTS.includes(eventName)) return ignored(`${eventName} opens no window for an alarm`, event.id);
  const service = parseServiceArn(event.resources?.[0] ?? "");
  if (!service) return ignored("the event names no ECS service", event.id);
  const { key } = service;
  const guarded = config.apps.flatMap((app) => app.environments).some((env) => env.alarms.length > 0 && env.targets.some((target) => target.key === key));
  if (!guarded) return ignored(`no alarm guards ${key}`, event.id);
  if (primedHere) {
    logger.info(`already warm for alarms on ${key} (${eventName})`, { eventId: event.id });
    return { warmedUpFor: key, alreadyWarm: true };
  }

  // The same calls, in the same order, as a rollback: read the target, write the decision with
  // the head's lock, ask ECS, record ECS's answer.
  const records = await prime(DynamoDBClient, {
    Query: new QueryCommand({
      TableName: "priming",
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": { S: key } },
      ConsistentRead: true,
      Limit: 2,
    }),
    TransactWriteItems: new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: "priming", Item: { pk: { S: key } }, ConditionExpression: "version = :v", ExpressionAttributeValues: { ":v": { N: "1" } } } },
        {
          Update: {
            TableName: "priming",
            Key: { pk: { S: key } },
            UpdateExpression: "SET lockUntil = :lock",
            ConditionExpression: "recordId = :id",
            ExpressionAttributeValues: { ":lock": { N: "1" }, ":id": { S: key } },
          },
        },
      ],
    }),
    PutItem: new PutItemCommand({ TableName: "priming", Item: { pk: { S: key } }, ConditionExpression: "attribute_not_exists(pk)" }),
  });
  const ecs = await prime(
    ECSClient,
    {
      StopServiceDeployment: new StopServiceDeploymentCommand({ serviceDeploymentArn: "priming", stopType: "ROLLBACK" }),
      UpdateService: new UpdateServiceCommand({ cluster: service.cluster, service: service.service, taskDefinition: "priming" }),
    },
    service.region,
  );

  const result = { warmedUpFor: key, primed: [...records.primed, ...ecs.primed], failed: [...records.failed, ...ecs.failed] };
  primedHere = result.failed.length === 0;
  if (result.failed.length > 0)
    logger.warn(`warm-up for ${key}: priming failed, the first rollback will start cold`, { eventId: event.id, failed: result.failed });
  else logger.info(`warmed up for alarms on ${key} (${eventName})`, { eventId: event.id, primed: result.primed });
  return result;
}

function ignored(reason: string, eventId: string): WarmUpResult {
  logger.info(`warm-up ignored: ${reason}`, { eventId });
  return { ignored: reason };
}
