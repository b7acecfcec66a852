// The shape of the pipeline config file, as people write it. Strict: an unknown key is an
// error (with a suggestion), so a typo never silently turns a setting off.
import * as z from "zod/mini";

export const DURATION = /^(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/;
const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const name = (what: string) => z.string().check(z.regex(NAME, `${what} must be lowercase letters, digits and dashes, starting with a letter`));
const DURATION_HINT = "must be a duration like 30s, 10m or 1h30m";
// The hint for a number too: `watch: 300` needs a unit, not only quotes.
const duration = z.string({ error: DURATION_HINT }).check(z.regex(DURATION, DURATION_HINT));
const percent = z.number().check(z.gt(0), z.lte(100));
const variables = z.record(
  z.string().check(z.regex(VARIABLE, "variable names are letters, digits and _, not starting with a digit")),
  z.union([z.string(), z.number(), z.boolean()]),
);
const nonEmpty = z.string().check(z.minLength(1, "must not be empty"));

export const destinationSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("slack"), url: nonEmpty, kmsKey: z.optional(nonEmpty) }),
  z.strictObject({ type: z.literal("webhook"), url: nonEmpty, secret: nonEmpty, kmsKey: z.optional(nonEmpty) }),
]);

export const targetSchema = z.strictObject({
  cluster: nonEmpty,
  service: nonEmpty,
  template: z.optional(nonEmpty),
  variables: z.optional(variables),
});

export const strategySchema = z.strictObject({
  type: z.enum(["rolling", "blue-green", "linear", "canary"]),
  bakeTime: z.optional(duration),
  stepPercent: z.optional(percent),
  stepBakeTime: z.optional(duration),
  canaryPercent: z.optional(percent),
  canaryBakeTime: z.optional(duration),
  hooks: z.optional(
    z.array(
      z.strictObject({
        target: nonEmpty,
        role: nonEmpty,
        stages: z
          .array(
            z.enum([
              "RECONCILE_SERVICE",
              "PRE_SCALE_UP",
              "POST_SCALE_UP",
              "TEST_TRAFFIC_SHIFT",
              "POST_TEST_TRAFFIC_SHIFT",
              "PRODUCTION_TRAFFIC_SHIFT",
              "POST_PRODUCTION_TRAFFIC_SHIFT",
            ]),
          )
          .check(z.minLength(1)),
      }),
    ),
  ),
});

export const environmentSchema = z.strictObject({
  name: name("an environment name"),
  region: z.string().check(z.regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$/, "must be an AWS region like eu-west-1")),
  targets: z.array(targetSchema).check(z.minLength(1, "list at least one { cluster, service }")),
  template: z.optional(nonEmpty),
  variables: z.optional(variables),
  alarms: z.optional(z.array(nonEmpty)),
  whenAlarmFiring: z.optional(z.enum(["refuse", "warn"])),
  watch: z.optional(duration),
  deadline: z.optional(duration),
  onTimeout: z.optional(z.enum(["report", "rollback"])),
  strategy: z.optional(strategySchema),
  promote: z.optional(
    z.strictObject({
      from: z.optional(name("promote.from")),
      approval: z.optional(z.enum(["auto", "manual"])),
      expiresAfter: z.optional(duration),
    }),
  ),
  notify: z.optional(z.array(nonEmpty)),
});

export const appSchema = z.strictObject({
  repository: z
    .string()
    .check(z.regex(/^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, "must be an ECR repository name like shop/web")),
  tags: z.optional(nonEmpty),
  build: z.optional(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, "must be a CodeBuild project name"))),
  branches: z.optional(z.array(nonEmpty).check(z.minLength(1, "list at least one branch, or leave branches out for main"))),
  template: z.optional(nonEmpty),
  variables: z.optional(variables),
  notify: z.optional(z.array(nonEmpty)),
  environments: z.array(environmentSchema).check(z.minLength(1, "list at least one environment")),
});

export const configSchema = z.strictObject({
  version: z.literal(1, "write version: 1"),
  notifications: z.optional(z.record(name("a notification name"), destinationSchema)),
  /** The customer-managed key every destination's parameters and secrets are encrypted with, unless it names its own. */
  kmsKey: z.optional(nonEmpty),
  apps: z.record(name("an app name"), appSchema),
});

export type AppFile = z.infer<typeof appSchema>;
export type EnvironmentFile = z.infer<typeof environmentSchema>;
export type StrategyFile = z.infer<typeof strategySchema>;
