// CloudWatch Alarm State Change → roll back what the alarm guards, if it is still watched.
import { getConfig } from "../shared/config/compiled";
import { alarmStateChange } from "../shared/events/alarm";
import { eventHandler } from "../shared/handler";
import { leaseOf } from "../shared/lambda";
import { rollBackOnAlarm } from "../shared/rollback/on-alarm";

export const handler = eventHandler("on-alarm", alarmStateChange, (event, context) => rollBackOnAlarm(event, getConfig(), leaseOf(context)));
