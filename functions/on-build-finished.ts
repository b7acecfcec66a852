// CodeBuild Build State Change → deploy the image a successful build pushed, or report a failure.
import { getConfig } from "../shared/config/compiled";
import { onBuildFinished } from "../shared/deploy/build";
import { codebuildStateChange } from "../shared/events/codebuild";
import { eventHandler } from "../shared/handler";
import { leaseOf } from "../shared/lambda";

export const handler = eventHandler("on-build-finished", codebuildStateChange, (event, context) => onBuildFinished(event, getConfig(), leaseOf(context)));
