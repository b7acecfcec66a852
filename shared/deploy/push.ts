// An image pushed to ECR → deploy it to the environments its repository feeds.
import type { PipelineConfig } from "../config/model";
import type { EcrImageAction } from "../events/ecr";
import { logger } from "../log";
import { deployImage, type TargetOutcome } from "./deploy";
import type { Lease } from "../lambda";
import { pushedImage } from "./ecr";
import { imageOf, repositoryUri } from "./image";
import { matchPush } from "./plan";

export type TriggerResult = { deployed: TargetOutcome[] } | { ignored: string };

/** Artifacts that are container images; signatures, SBOMs and other OCI artifacts are not. */
const IMAGE_CONFIG_TYPES = ["application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json"];

export async function deployPushedImage(event: EcrImageAction, config: PipelineConfig, lease: Lease): Promise<TriggerResult> {
  const d = event.detail;
  const repository = d["repository-name"];
  const ignored = (reason: string): TriggerResult => {
    logger.info(`push ignored: ${reason}`, { eventId: event.id, repository, digest: d["image-digest"], tag: d["image-tag"] });
    return { ignored: reason };
  };
  if (d["action-type"] !== "PUSH" || d.result !== "SUCCESS") {
    return ignored(`${d["action-type"]} with result ${d.result}: only successful pushes deploy`);
  }
  const artifact = d["artifact-media-type"];
  if (artifact !== undefined && !IMAGE_CONFIG_TYPES.includes(artifact)) {
    return ignored(`${artifact} is not a container image (a signature, SBOM or other artifact)`);
  }
  const match = matchPush(config, repository, d["image-tag"]);
  if ("ignored" in match) return ignored(match.ignored);

  const image = imageOf(repository, repositoryUri(event.account, event.region, repository), d["image-digest"], d["image-tag"]);
  // ECR's own push time orders images (the event's time is when EventBridge heard of it).
  const pushed = await pushedImage(image);
  if (!pushed) return ignored("ECR no longer has the image (deleted since its push)");
  const environments = match.apps.flatMap((m) => m.environments);
  const deployed = await deployImage(
    {
      image,
      pushedAt: pushed.pushedAt,
      tagsNow: pushed.tags,
      at: event.time,
      trigger: "push",
      triggerRef: event.id,
    },
    environments,
    lease,
  );
  return { deployed };
}
