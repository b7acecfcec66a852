import * as z from "zod/mini";
import { envelope, timestamp } from "./common";

const state = z.looseObject({
  value: z.string(),
  reason: z.optional(z.string()),
  timestamp: timestamp,
});

/** "CloudWatch Alarm State Change", metric and composite alarms alike. */
export const alarmStateChange = envelope(
  "CloudWatch Alarm State Change",
  "aws.cloudwatch",
  z.looseObject({
    alarmName: z.string().check(z.minLength(1), z.maxLength(255)),
    state,
    previousState: z.optional(state),
  }),
);

export type AlarmStateChange = z.output<typeof alarmStateChange>;
