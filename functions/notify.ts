// The records table's stream → the messages people must hear. Deploy handlers never call
// webhooks, so a slow or failing webhook cannot delay or fail a deployment.
import { streamConsumer } from "../shared/handler";
import { notifyChange } from "../shared/notify/notify";

export const handler = streamConsumer("notify", (oldImage, newImage) => notifyChange(oldImage, newImage));
