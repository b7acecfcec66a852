// The records stream → a verified image goes on to the environments it feeds.
import { getConfig } from "../shared/config/compiled";
import { streamConsumer } from "../shared/handler";
import { leaseOf } from "../shared/lambda";
import { onRecordChange } from "../shared/promote/on-verified";

export const handler = streamConsumer("promote", (oldImage, newImage, context) => onRecordChange(oldImage, newImage, getConfig(), leaseOf(context)));
