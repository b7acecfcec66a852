// The records table's stream → the messages people must hear. Deploy handlers never call
// webhooks, so a slow or failing webhook cannot delay or fail a deployment.
import { streamConsumer } from "../shared/handler";
import { notifyChange } from "../shared/notify/notify";

// A final message may be retried until a second before this invocation's deadline.
export const handler = streamConsumer("notify", (oldImage, newImage, context, writtenAt) =>
  notifyChange(oldImage, newImage, { deadline: Date.now() + context.getRemainingTimeInMillis() - 1000, writtenAt }),
);
