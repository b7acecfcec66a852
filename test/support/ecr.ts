// ECR's DescribeImages as an aws-sdk-client-mock fake holding what was pushed, as ECR keeps it:
// the first push of a digest sets its push time (to the second), a later push of the same digest
// only adds a tag, and a mutable tag moves to the image pushed with it last. An image never
// pushed is ImageNotFoundException, as in ECR.
import { DescribeImagesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { mockClient } from "aws-sdk-client-mock";

interface Held {
  pushedAt: Date;
  tags: string[];
}

/** `anyImage`: every digest asked about exists, pushed then (for corpora of made-up events). */
export function fakeEcr(options: { anyImage?: string } = {}) {
  const ecr = mockClient(ECRClient);
  const images = new Map<string, Held>();
  const at = (repository: string, digest: string) => `${repository}@${digest}`;

  ecr.on(DescribeImagesCommand).callsFake((input: { repositoryName: string; imageIds: { imageDigest: string }[] }) => {
    return {
      imageDetails: input.imageIds.map(({ imageDigest }) => {
        const held = images.get(at(input.repositoryName, imageDigest)) ?? (options.anyImage ? { pushedAt: new Date(options.anyImage), tags: [] } : undefined);
        if (!held) {
          throw Object.assign(
            new Error(
              `The image with imageId {imageDigest:'${imageDigest}', imageTag:'null'} does not exist within the repository with name '${input.repositoryName}'`,
            ),
            { name: "ImageNotFoundException", $fault: "client" },
          );
        }
        return { repositoryName: input.repositoryName, imageDigest, imagePushedAt: held.pushedAt, ...(held.tags.length ? { imageTags: [...held.tags] } : {}) };
      }),
    };
  });

  return {
    ecr,
    /** `docker push repository:tag` of `digest` at `time` (ISO; ECR keeps whole seconds). */
    push(repository: string, digest: string, time: string, tag?: string): void {
      const key = at(repository, digest);
      const held = images.get(key) ?? { pushedAt: new Date(Math.floor(Date.parse(time) / 1000) * 1000), tags: [] };
      images.set(key, held);
      if (tag === undefined || held.tags.includes(tag)) return;
      for (const [other, image] of images) if (other.startsWith(`${repository}@`)) image.tags = image.tags.filter((t) => t !== tag);
      held.tags.push(tag);
    },
    has(repository: string, digest: string): boolean {
      return images.has(at(repository, digest));
    },
    restore(): void {
      ecr.restore();
    },
  };
}
