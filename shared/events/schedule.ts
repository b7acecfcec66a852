import * as z from "zod/mini";
import { envelope } from "./common";

/** EventBridge's scheduled event: its `time` is the sweeper's clock. */
export const scheduledEvent = envelope("Scheduled Event", "aws.events", z.looseObject({}));
export type ScheduledEvent = z.output<typeof scheduledEvent>;
