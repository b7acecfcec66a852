// What ECR itself says of an image. Its push time is the one order of images, whichever trigger
// brings one (ECR's push event, a CodeBuild build, a promotion): a build's finish time is not a
// push time (an overlapping build whose post-build step is slow finishes after a newer image).
import { DescribeImagesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { clientFor } from "../aws/clients";
import { call } from "../aws/errors";
import { TerminalAwsError } from "../errors";
import type { Image } from "../render/task-definition";
import { parseImageUri } from "./image";

export interface PushedImage {
  /** ECR's imagePushedAt, as an ISO timestamp. ECR keeps it to the second. */
  pushedAt: string;
  /** The tags the image holds now: a mutable tag moved to a later push is gone from here. */
  tags: string[];
}

/** The image as ECR has it now (asked in its registry's account and region), or undefined when ECR no longer has it. */
export async function pushedImage(image: Pick<Image, "repository" | "repositoryUri" | "digest">): Promise<PushedImage | undefined> {
  const { repository, digest } = image;
  // `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`: the registry names both.
  const [registryId, , , region] = (parseImageUri(image.repositoryUri)?.registry ?? "").split(".");
  if (!registryId || !region) return undefined;
  try {
    const out = await call("DescribeImages", () =>
      clientFor(ECRClient, region).send(
        new DescribeImagesCommand({
          registryId,
          repositoryName: repository,
          imageIds: [{ imageDigest: digest }],
        }),
      ),
    );
    const detail = out.imageDetails?.find((d) => d.imageDigest === digest);
    if (!detail?.imagePushedAt) return undefined;
    return { pushedAt: detail.imagePushedAt.toISOString(), tags: detail.imageTags ?? [] };
  } catch (error) {
    if (error instanceof TerminalAwsError && error.code === "ImageNotFoundException") return undefined;
    throw error;
  }
}
