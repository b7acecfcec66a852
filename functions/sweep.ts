// Every minute: verify quiet watch windows, time out stuck deployments, resume abandoned claims.
import { getConfig } from "../shared/config/compiled";
import { scheduledEvent } from "../shared/events/schedule";
import { eventHandler } from "../shared/handler";
import { leaseOf } from "../shared/lambda";
import { sweep } from "../shared/verify/sweep";

export const handler = eventHandler("sweep", scheduledEvent, (event, context) => sweep(event, getConfig(), leaseOf(context)));
