import * as z from "zod/mini";
import { envelope } from "./common";

/**
 * Our own custom event (PutEvents, source "stevedore"): a person approved or rejected a
 * promotion. The CLI sends it; anything that can call PutEvents can.
 */
export const promotionDecision = envelope(
  "Stevedore Promotion Decision",
  "stevedore",
  z.looseObject({
    app: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/)),
    promotionId: z.string().check(z.regex(/^p-[0-9a-f]{12}$/)),
    decision: z.enum(["approve", "reject"]),
    by: z.string().check(z.minLength(1), z.maxLength(200)),
    reason: z.optional(z.string().check(z.maxLength(1000))),
  }),
);

export type PromotionDecision = z.output<typeof promotionDecision>;
