// ECS Deployment State Change / ECS Service Action → the deployment Stevedore started there.
import { ecsEvent } from "../shared/events/ecs";
import { eventHandler } from "../shared/handler";
import { followDeployment } from "../shared/verify/follow";

export const handler = eventHandler("on-deployment-changed", ecsEvent, (event) => followDeployment(event));
