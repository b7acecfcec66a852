// ECR Image Action → deploy the pushed image to every service configured for it.
import { getConfig } from "../shared/config/compiled";
import { deployPushedImage } from "../shared/deploy/push";
import { ecrImageAction } from "../shared/events/ecr";
import { eventHandler } from "../shared/handler";
import { leaseOf } from "../shared/lambda";

export const handler = eventHandler("on-image-pushed", ecrImageAction, (event, context) => deployPushedImage(event, getConfig(), leaseOf(context)));
