// Pieces shared by the schemas of the EventBridge events we consume. AWS adds fields over
// time, so objects are loose (unknown keys pass); the fields we rely on are checked.
import * as z from "zod/mini";

/**
 * Any timestamp AWS writes ("2026-11-20T09:17:51.903Z", "…+0000"), normalised to ISO UTC.
 * A four-digit year first: Date.parse also takes "0", " 2026" and "+275760-09-13T00:00:00Z",
 * the last Date of all, and adding a deadline to that one throws a RangeError mid-deploy.
 */
export const timestamp = z.pipe(
  z.string().check(z.refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), "not a timestamp")),
  z.transform((s) => new Date(s).toISOString()),
);

export const digest = z.string().check(z.regex(/^sha256:[a-f0-9]{64}$/, "not a sha256 digest"));

/** The Docker tag grammar: what ECR accepts, nothing that could smuggle text into a template. */
export const imageTag = z.string().check(z.regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "not an image tag"));

export function envelope<D extends z.ZodMiniType>(detailType: string, source: string, detail: D) {
  return z.looseObject({
    id: z.string().check(z.minLength(1), z.maxLength(200)),
    "detail-type": z.literal(detailType),
    source: z.literal(source),
    account: z.string().check(z.regex(/^\d{12}$/)),
    time: timestamp,
    region: z.string().check(z.regex(/^[a-z0-9-]{4,30}$/)),
    resources: z.optional(z.array(z.string())),
    detail,
  });
}
