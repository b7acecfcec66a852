import * as z from "zod/mini";
import { envelope } from "./common";

/** "CodeBuild Build State Change": we act on its final states. */
export const codebuildStateChange = envelope(
  "CodeBuild Build State Change",
  "aws.codebuild",
  z.looseObject({
    "build-status": z.string(),
    "project-name": z.string().check(z.minLength(1), z.maxLength(255)),
    // PROJECT:BUILD-UUID. The project part is colon-free, so the pattern has one way to split the
    // id and runs in linear time: `.+:.+` backtracked quadratically (40 s on 200,000 colons).
    "build-id": z.string().check(z.regex(/^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:build\/[^:\s]+:.+$/)),
    "current-phase": z.optional(z.string()),
    "additional-information": z.optional(
      z.looseObject({
        "build-number": z.optional(z.number()),
        "source-version": z.optional(z.string()),
        logs: z.optional(z.looseObject({ "deep-link": z.optional(z.string()) })),
        phases: z.optional(
          z.array(
            z.looseObject({
              "phase-type": z.string(),
              "phase-status": z.optional(z.string()),
              "phase-context": z.optional(z.array(z.string())),
            }),
          ),
        ),
      }),
    ),
  }),
);

export type CodebuildStateChange = z.output<typeof codebuildStateChange>;
