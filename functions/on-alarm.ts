// CloudWatch Alarm State Change → roll back what the alarm guards, if it is still watched.
// ECS Deployment State Change of a guarded service → warm up, so that a rollback starts at once.
import * as z from "zod/mini";
import { getConfig } from "../shared/config/compiled";
import { alarmStateChange, type AlarmStateChange } from "../shared/events/alarm";
import { ecsDeploymentStateChange, type EcsDeploymentStateChange } from "../shared/events/ecs";
import { eventHandler } from "../shared/handler";
import { leaseOf } from "../shared/lambda";
import { rollBackOnAlarm, type AlarmResult } from "../shared/rollback/on-alarm";
import { warmUp, type WarmUpResult } from "../shared/rollback/warm-up";

const isAlarm = (event: AlarmStateChange | EcsDeploymentStateChange): event is AlarmStateChange => event["detail-type"] === "CloudWatch Alarm State Change";

export const handler = eventHandler(
  "on-alarm",
  z.discriminatedUnion("detail-type", [alarmStateChange, ecsDeploymentStateChange]),
  (event, context): Promise<AlarmResult | WarmUpResult> =>
    isAlarm(event) ? rollBackOnAlarm(event, getConfig(), leaseOf(context)) : warmUp(event, getConfig()),
);
