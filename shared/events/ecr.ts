import * as z from "zod/mini";
import { digest, envelope, imageTag } from "./common";

/**
 * "ECR Image Action". Best effort and repeated: a multi-arch push sends one event per
 * platform manifest (untagged) and one for the tagged index; `image-tag` can be missing.
 * Action and result stay plain strings so that DELETE or FAILURE parse and are ignored with a
 * reason rather than rejected as malformed.
 */
export const ecrImageAction = envelope(
  "ECR Image Action",
  "aws.ecr",
  z.looseObject({
    result: z.string(),
    "action-type": z.string(),
    "repository-name": z.string().check(z.minLength(2), z.maxLength(256)),
    "image-digest": digest,
    "image-tag": z.optional(imageTag),
    "manifest-media-type": z.optional(z.string()),
    "artifact-media-type": z.optional(z.string()),
  }),
);

export type EcrImageAction = z.output<typeof ecrImageAction>;
