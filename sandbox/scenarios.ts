// The scenarios `npm run demo` plays and the end-to-end tests assert: one definition each.
// A scenario drives a world the way people and AWS would (pushes, builds, alarms, approvals)
// and then states what must be true, judged from the world itself: what ECS runs, what the
// records say, what the webhooks received. Never from Stevedore's own opinion of itself.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { COMPILED_CONFIG_VARIABLE, writeCompiledConfig } from "../shared/config/compiled";
import { loadConfig } from "../shared/config/load";
import { isFinal, type DeploymentRecord } from "../shared/records/model";
import { slackLabel } from "./observe";
import { HOUR, MINUTE, SECOND } from "./clock";
import { WORLD_CONFIG } from "./stack";
import type { World } from "./world";

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface Scenario {
  name: string;
  title: string;
  /** Drives the world; resolves when the outcome is in (or throws if it never comes). */
  run(world: World): Promise<void>;
  /** What must hold afterwards, besides the invariants every run is judged by. */
  expect(world: World): Check[];
  /** Ground truth for invariant 1: what each service it touches must run at the end. */
  truth(world: World): Record<string, string>;
  /** It feeds Stevedore only bad input: invariant 5 then demands no AWS write at all. */
  badInput?: boolean;
  /** Removes what it made outside the world (files), once the world is judged. */
  cleanup?(world: World): void;
}

const COMMIT_A = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const COMMIT_B = "b2c3d4e5f60718293a4b5c6d7e8f901234567890";
const COMMIT_C = "c3d4e5f60718293a4b5c6d7e8f9012345678901a";

/**
 * Pushes an image to shop-web and, by ECS's own account (not Stevedore's), fires staging's
 * guarding alarm a minute after ECS finished rolling it out. The pushed digest.
 */
async function pushThenAlarm(world: World): Promise<string> {
  const { digest } = world.push("shop/web", COMMIT_A.slice(0, 7));
  await world.waitFor(
    "ECS to finish rolling it out",
    () => world.ecs.completedHistory("shop-staging", "web").some((c) => c.images.some((i) => i.endsWith(digest))),
    30 * MINUTE,
  );
  await world.pass(MINUTE);
  await world.setAlarm("shop-staging-web-5xx", "ALARM", "Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (10.0).");
  return digest;
}

function check(name: string, ok: boolean, detail?: string): Check {
  return { name, ok, ...(detail !== undefined ? { detail } : {}) };
}

/** The digest of the image a service's PRIMARY deployment runs. */
export function runningDigest(world: World, cluster: string, service: string): string | undefined {
  const arn = world.ecs.service(cluster, service)?.taskDefinition;
  const image = arn ? world.ecs.taskDefinition(arn)?.containerDefinitions?.[0]?.image : undefined;
  return image?.split("@")[1];
}

/** Everything a message carried, blocks and buttons included. */
function payload(message: { body: unknown }): string {
  return JSON.stringify(message.body);
}

/** Slack titles a destination received about one deployment record (by its id in the message). */
function slackAbout(world: World, recordId: string): string[] {
  return world.webhook.messages.filter((m) => m.kind === "slack" && payload(m).includes(recordId)).map((m) => m.title);
}

/** The signed-webhook events (deduplicated by delivery id) about one record. */
function eventsAbout(world: World, recordId: string): string[] {
  return world.webhook.messages.filter((m) => m.kind === "webhook" && m.deliveryId?.startsWith(`${recordId}:`)).map((m) => m.event ?? "");
}

/** Every service of shop-worker, staging's three and production's one. */
const WORKER_SERVICES = ["shop-staging/worker", "shop-staging/worker-priority", "shop-batch/worker-reports", "shop-prod/worker"];

/** Pushes shop-worker:`tag` and waits until staging verified it and its promotion waits for a person; the promotion's id. */
async function workerAwaitingApproval(world: World, tag: string): Promise<string> {
  world.state.digest = world.push("shop/worker", tag).digest;
  await world.waitFor(
    "a promotion waiting for approval",
    () => [...world.records.values()].some((r) => r.kind === "promotion" && r.status === "awaiting_approval"),
    60 * MINUTE,
  );
  return String([...world.records.values()].find((r) => r.kind === "promotion")?.id);
}

/** alarm-gap: staging's record says the alarm was already in ALARM at Stevedore's check of it. */
function warnedAtCheck(world: World): boolean {
  return one(world, { app: "shop-web", env: "staging" })?.warnings.some((w) => /alarm shop-staging-web-5xx was already in ALARM/.test(w.message)) ?? false;
}

function one(world: World, filter: Parameters<World["deployments"]>[0]): DeploymentRecord | undefined {
  return world.deployments(filter)[0];
}

export const SCENARIOS: Scenario[] = [
  {
    name: "promote",
    title: "push → staging → verified → promoted to production → verified",
    truth: (world) => ({ "shop-staging/web": String(world.state.digest), "shop-prod/web": String(world.state.digest) }),
    async run(world) {
      const { digest } = world.push("shop/web", COMMIT_A.slice(0, 7));
      world.state.digest = digest;
      await world.waitFor("production verified", () => isFinal(one(world, { app: "shop-web", env: "production" })?.status), 90 * MINUTE);
      await world.waitFor(
        "the last message",
        () => eventsAbout(world, one(world, { env: "production", app: "shop-web" })?.id ?? "?").includes("deployment.verified"),
        5 * MINUTE,
      );
    },
    expect(world) {
      const digest = String(world.state.digest);
      const staging = one(world, { app: "shop-web", env: "staging" });
      const production = one(world, { app: "shop-web", env: "production" });
      return [
        check("staging verified", staging?.status === "verified", staging?.status),
        check("production verified", production?.status === "verified", production?.status),
        check(
          "production came by promotion from staging, same digest",
          production?.trigger === "promotion" && production.promotedFrom?.env === "staging" && production.digest === digest,
        ),
        check(
          "both services run the pushed image",
          runningDigest(world, "shop-staging", "web") === digest && runningDigest(world, "shop-prod", "web") === digest,
        ),
        heardOnce(world, "Slack heard staging start, rollout and verification, once each", slackAbout(world, staging?.id ?? "?").map(slackLabel), [
          "deploying",
          "rolled out, watching alarms",
          "deployed and verified",
        ]),
        heardOnce(world, "the signed webhook heard the same about production, signatures verified", eventsAbout(world, production?.id ?? "?"), [
          "deployment.started",
          "deployment.completed",
          "deployment.verified",
        ]),
      ];
    },
  },
  {
    name: "failed-build",
    title: "a build that fails → reported, nothing deployed",
    truth: (world) => ({ "shop-staging/web": seed(world, "shop/web") }),
    async run(world) {
      world.build("shop-web", COMMIT_B, "FAILED");
      await world.waitFor(
        "the build failure message",
        () => world.webhook.messages.some((m) => m.kind === "slack" && /build .* failed/.test(m.title)),
        60 * MINUTE,
      );
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const message = world.webhook.messages.find((m) => m.kind === "slack" && /build .* failed/.test(m.title));
      return [
        check(
          "Slack says which build failed, in which phase, with the logs",
          !!message && /phase BUILD/.test(message.text) && /Build logs/.test(payload(message)),
          message?.title,
        ),
        check("nothing was registered or updated", !world.calls.some((c) => /^(RegisterTaskDefinition|UpdateService)$/.test(c.operation))),
        check("no deployment was recorded", world.deployments().length === 0),
      ];
    },
  },
  {
    name: "build-fails-after-push",
    title:
      "a build pushes its image, then fails in POST_BUILD → the push's deployment is rolled back (or refused, when the failure comes first), never verified",
    truth: (world) => ({ "shop-staging/web": seed(world, "shop/web"), "shop-prod/web": seed(world, "shop/web") }),
    async run(world) {
      world.build("shop-web", COMMIT_B, "FAILED", "POST_BUILD");
      await world.waitFor(
        "the build failure message",
        () => world.webhook.messages.some((m) => m.kind === "slack" && /build .* failed/.test(m.title)),
        60 * MINUTE,
      );
      await world.waitFor("the staging outcome", () => isFinal(one(world, { app: "shop-web", env: "staging" })?.status), 60 * MINUTE);
      await world.pass(10 * MINUTE);
    },
    expect(world) {
      const staging = one(world, { app: "shop-web", env: "staging" });
      const titles = slackAbout(world, staging?.id ?? "?");
      const message = world.webhook.messages.find((m) => m.kind === "slack" && /build .* failed/.test(m.title));
      return [
        check(
          "the image was rolled back, or refused, because its build failed",
          ["rolled_back", "failed", "refused"].includes(staging?.status ?? "") && /its build shop-web #\d+ failed in POST_BUILD/.test(staging?.reason ?? ""),
          `${staging?.status}: ${staging?.reason}`,
        ),
        check("the service runs the previous image, at rest", runningDigest(world, "shop-staging", "web") === world.seedDigests.get("shop/web")),
        check("never reported verified", !titles.some((t) => /verified/.test(t)), titles.join(" | ")),
        check(
          "the build message names the image it pushed, never claiming nothing was deployed",
          !!message && /pushed image [0-9a-f]{12}/.test(message.text) && !/deploys nothing|nothing was deployed/.test(message.text),
          message?.text,
        ),
        check("nothing was promoted to production", world.deployments({ env: "production" }).length === 0),
      ];
    },
  },
  {
    name: "late-event",
    title:
      "a push whose event comes 45 minutes late, then one replayed from the dead-letter queue 2 hours on → each deploys on ECS's clock, verified and promoted, never timed out",
    truth: (world) => ({ "shop-staging/web": String(world.state.replayed), "shop-prod/web": String(world.state.replayed) }),
    async run(world) {
      const late = world.push("shop/web", COMMIT_A.slice(0, 7), { delivery: { lateMs: 45 * MINUTE } });
      world.state.late = late.digest;
      await world.waitFor("the late push's outcome in production", () => isFinal(one(world, { env: "production", digest: late.digest })?.status), 3 * HOUR);
      const parked = world.push("shop/web", COMMIT_B.slice(0, 7), { delivery: "dead-letter" });
      world.state.replayed = parked.digest;
      await world.pass(2 * HOUR);
      world.replayDeadLetters();
      await world.waitFor(
        "the replayed push's outcome in production",
        () => isFinal(one(world, { env: "production", digest: parked.digest })?.status),
        3 * HOUR,
      );
      await world.waitFor(
        "the last message",
        () => eventsAbout(world, one(world, { env: "production", digest: parked.digest })?.id ?? "?").includes("deployment.verified"),
        10 * MINUTE,
      );
    },
    expect(world) {
      const records = [String(world.state.late), String(world.state.replayed)].flatMap((digest) =>
        ["staging", "production"].map((env) => one(world, { app: "shop-web", env, digest })),
      );
      const describe = records
        .map((r) => `${r?.env} ${r?.tag}: ${r?.status} (created ${r?.createdAt}, started ${r?.startedAt}, deadline ${r?.deadline})`)
        .join("; ");
      const lateStaging = records[0];
      return [
        check(
          "both images verified in staging and production, none timed out",
          records.every((r) => r?.status === "verified"),
          describe,
        ),
        check(
          "the late push's deadline counts from ECS's acceptance, not from its event's time",
          !!lateStaging?.startedAt &&
            Date.parse(lateStaging.deadline) - Date.parse(lateStaging.startedAt) === (lateStaging.deadlineSeconds ?? 0) * 1000 &&
            Date.parse(lateStaging.startedAt) - Date.parse(lateStaging.createdAt) >= 45 * MINUTE,
          describe,
        ),
        check(
          "both services run the replayed (newer) image",
          runningDigest(world, "shop-staging", "web") === world.state.replayed && runningDigest(world, "shop-prod", "web") === world.state.replayed,
        ),
        check("the dead-letter queue is empty after the replay", world.bus.deadLetters.length === 0, String(world.bus.deadLetters.length)),
      ];
    },
  },
  {
    name: "alarm-gap",
    title: "staging's alarm fires after Stevedore checked the alarms, before UpdateService (ECS ignores it) → rolled back, never verified",
    truth: (world) => {
      // Where the invocation that checked died (a crash fault), the retry's own check finds the
      // alarm firing, and staging's policy (warn) deploys with that recorded: verified is right then.
      const image = warnedAtCheck(world) ? String(world.state.digest) : seed(world, "shop/web");
      return { "shop-staging/web": image, "shop-prod/web": image };
    },
    async run(world) {
      // Claiming and registering take time, as in AWS (a fan-out's last UpdateService comes
      // minutes after the check): the alarm goes off in between, before ECS starts the rollout.
      world.slowCallsOf("on-image-pushed", "RegisterTaskDefinition", 3 * SECOND);
      world.whenCalled(
        (c) => c.function === "on-image-pushed" && c.operation === "DescribeAlarms" && c.status < 300,
        () => world.setAlarmNow("shop-staging-web-5xx", "ALARM", "Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (10.0)."),
      );
      const { digest } = world.push("shop/web", COMMIT_A.slice(0, 7));
      world.state.digest = digest;
      await world.waitFor("the staging outcome", () => isFinal(one(world, { app: "shop-web", env: "staging" })?.status), 60 * MINUTE);
      await world.pass(10 * MINUTE);
    },
    expect(world) {
      const staging = one(world, { app: "shop-web", env: "staging" });
      const titles = slackAbout(world, staging?.id ?? "?");
      if (warnedAtCheck(world)) {
        return [
          check(
            "the alarm was firing at the (retried) check: deployed with that warning, per staging's policy (warn)",
            staging?.status === "verified",
            `${staging?.status}: ${staging?.reason}`,
          ),
        ];
      }
      return [
        check(
          "rolled back for the alarm, never verified",
          ["rolled_back", "failed"].includes(staging?.status ?? "") && /alarm shop-staging-web-5xx fired/.test(staging?.reason ?? ""),
          `${staging?.status}: ${staging?.reason}`,
        ),
        check("never reported verified", !titles.some((t) => /verified/.test(t)), titles.join(" | ")),
        check("the service runs the previous image, at rest", runningDigest(world, "shop-staging", "web") === world.seedDigests.get("shop/web")),
        check("nothing was promoted to production", world.deployments({ env: "production" }).length === 0),
      ];
    },
  },
  {
    name: "circuit-breaker",
    title: "a bad image → the circuit breaker → ECS rolls back → reported as failed",
    truth: (world) => ({ "shop-staging/web": seed(world, "shop/web"), "shop-prod/web": seed(world, "shop/web") }),
    async run(world) {
      world.push("shop/web", COMMIT_B.slice(0, 7), { bad: true });
      await world.waitFor("the staging outcome", () => isFinal(one(world, { app: "shop-web", env: "staging" })?.status), 60 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const staging = one(world, { app: "shop-web", env: "staging" });
      const titles = slackAbout(world, staging?.id ?? "?");
      return [
        check(
          "staging rolled back, with ECS's reason",
          staging?.status === "rolled_back" && /circuit breaker/i.test(staging.reason ?? ""),
          `${staging?.status}: ${staging?.reason}`,
        ),
        check("the service runs the previous image again", runningDigest(world, "shop-staging", "web") === world.seedDigests.get("shop/web")),
        check(
          "reported as a failure, never as success",
          titles.some((t) => /rolled back/.test(t)) && !titles.some((t) => /verified/.test(t)),
          titles.join(" | "),
        ),
        check("nothing was promoted to production", world.deployments({ env: "production" }).length === 0),
      ];
    },
  },
  {
    name: "alarm-rollback",
    title: "deployed fine → an alarm fires inside the watch window → Stevedore rolls back",
    truth: (world) => ({ "shop-staging/web": seed(world, "shop/web"), "shop-prod/web": seed(world, "shop/web") }),
    async run(world) {
      await pushThenAlarm(world);
      await world.waitFor("the staging outcome", () => isFinal(one(world, { app: "shop-web", env: "staging" })?.status), 30 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const staging = one(world, { app: "shop-web", env: "staging" });
      const titles = slackAbout(world, staging?.id ?? "?");
      return [
        check(
          "staging rolled back because of the alarm",
          staging?.status === "rolled_back" && /shop-staging-web-5xx/.test(staging.reason ?? ""),
          `${staging?.status}: ${staging?.reason}`,
        ),
        check("the service runs the previous image again", runningDigest(world, "shop-staging", "web") === world.seedDigests.get("shop/web")),
        check(
          "Slack was told, with the alarm, never as success",
          titles.some((t) => /rolled back/.test(t)) && !titles.some((t) => /verified/.test(t)),
          titles.join(" | "),
        ),
        check("nothing was promoted to production", world.deployments({ env: "production" }).length === 0),
      ];
    },
  },
  {
    name: "rollback-alarm-flaps",
    title: "an alarm rolls a deploy back → the alarm flaps while the rollback rolls out → the rollback holds",
    truth: (world) => ({ "shop-staging/web": seed(world, "shop/web"), "shop-prod/web": seed(world, "shop/web") }),
    async run(world) {
      await pushThenAlarm(world);
      // By ECS's account: Stevedore's rollback is rolling out once the previous image is PRIMARY again.
      await world.waitFor("the rollback to roll out", () => runningDigest(world, "shop-staging", "web") === seed(world, "shop/web"), 30 * MINUTE);
      await world.pass(20 * SECOND);
      await world.setAlarm("shop-staging-web-5xx", "OK", "Threshold Crossed: 1 out of the last 2 datapoints was not greater than the threshold (10.0).");
      await world.pass(10 * SECOND);
      await world.setAlarm("shop-staging-web-5xx", "ALARM", "Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (10.0).");
      await world.waitFor("the staging outcome", () => isFinal(one(world, { app: "shop-web", env: "staging" })?.status), 30 * MINUTE);
      await world.pass(5 * MINUTE);
    },
    expect(world) {
      const staging = one(world, { app: "shop-web", env: "staging" });
      const titles = slackAbout(world, staging?.id ?? "?");
      return [
        check(
          "staging rolled back because of the alarm",
          staging?.status === "rolled_back" && /shop-staging-web-5xx/.test(staging.reason ?? ""),
          `${staging?.status}: ${staging?.reason}`,
        ),
        check("the service runs the previous image, at rest", runningDigest(world, "shop-staging", "web") === world.seedDigests.get("shop/web")),
        check("ECS never rolled the rollback back", !world.ecs.primaryHistory("shop-staging", "web").some((p) => p.cause === "alarm-rollback")),
        check(
          "Slack was told, with the alarm, never as success",
          titles.some((t) => /rolled back/.test(t)) && !titles.some((t) => /verified/.test(t)),
          titles.join(" | "),
        ),
        check("nothing was promoted to production", world.deployments({ env: "production" }).length === 0),
      ];
    },
  },
  {
    name: "push-during-rollback",
    title: "an alarm rolls a deploy back → a fix is pushed while the rollback rolls out → the fix is deployed after it",
    truth: (world) => ({ "shop-staging/web": String(world.state.fix), "shop-prod/web": String(world.state.fix) }),
    async run(world) {
      const digest = await pushThenAlarm(world);
      world.state.rejected = digest;
      await world.waitFor("the rollback to roll out", () => runningDigest(world, "shop-staging", "web") === seed(world, "shop/web"), 30 * MINUTE);
      // The previous image is healthy again; the team pushes its fix while the rollback still rolls out.
      await world.pass(10 * SECOND);
      await world.setAlarm("shop-staging-web-5xx", "OK", "Threshold Crossed: 1 out of the last 2 datapoints was not greater than the threshold (10.0).");
      const fix = world.push("shop/web", COMMIT_B.slice(0, 7));
      world.state.fix = fix.digest;
      await world.waitFor("production verified with the fix", () => one(world, { app: "shop-web", env: "production" })?.status === "verified", 90 * MINUTE);
      await world.waitFor("the rejected image's final word", () => isFinal(one(world, { app: "shop-web", env: "staging", digest })?.status), 30 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const rejected = one(world, { app: "shop-web", env: "staging", digest: String(world.state.rejected) });
      const fix = one(world, { app: "shop-web", env: "staging", digest: String(world.state.fix) });
      const titles = slackAbout(world, rejected?.id ?? "?");
      return [
        check(
          "the rejected image's record ends as a rollback does, with the alarm",
          ["rolled_back", "failed"].includes(rejected?.status ?? "") && /shop-staging-web-5xx/.test(rejected?.reason ?? ""),
          `${rejected?.status}: ${rejected?.reason}`,
        ),
        check(
          "Slack's final word on it names the alarm, never success",
          titles.some((t) => /rolled back|failed/.test(t)) && !titles.some((t) => /verified|superseded/.test(t)),
          titles.join(" | "),
        ),
        check(
          "the fix is verified in staging and promoted",
          fix?.status === "verified" && one(world, { app: "shop-web", env: "production" })?.digest === world.state.fix,
          fix?.status,
        ),
        check("staging runs the fix", runningDigest(world, "shop-staging", "web") === world.state.fix),
      ];
    },
  },
  {
    name: "fan-out",
    title: "one image to several services, one in another cluster; then an approved promotion",
    truth: (world) => Object.fromEntries(WORKER_SERVICES.map((k) => [k, String(world.state.digest)])),
    async run(world) {
      const promotion = await workerAwaitingApproval(world, "v2.0.0");
      await world.waitFor(
        "staging verified everywhere",
        () => world.deployments({ app: "shop-worker", env: "staging" }).filter((r) => r.status === "verified").length === 3,
        60 * MINUTE,
      );
      const answer = await world.cli(["approve", "shop-worker", promotion, "--by", "release-manager"]);
      world.state.cli = answer.output.join("\n");
      await world.waitFor("production verified", () => isFinal(one(world, { app: "shop-worker", env: "production" })?.status), 60 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const digest = String(world.state.digest);
      const staging = world.deployments({ app: "shop-worker", env: "staging" });
      const families = world.calls.filter((c) => c.operation === "RegisterTaskDefinition" && c.status < 300).map((c) => String(c.body?.family));
      const updatedTo = (service: string) =>
        world.calls
          .filter((c) => c.operation === "UpdateService" && c.status < 300 && c.body?.cluster === "shop-staging" && c.body?.service === service)
          .map((c) => String(c.body?.taskDefinition));
      // A push delivered twice at once, or a retried invocation, may register one more revision
      // that no service ever uses; what services run is one revision per family.
      const retried = Boolean(
        world.options.faults &&
          Object.keys(world.options.faults).some((k) =>
            ["duplicateEvents", "throttling", "serverErrors", "crash", "conditionalConflicts", "transactionConflicts"].includes(k),
          ),
      );
      const production = one(world, { app: "shop-worker", env: "production" });
      return [
        check(
          "three staging services verified, one of them in cluster shop-batch",
          staging.length === 3 && staging.every((r) => r.status === "verified") && staging.some((r) => r.cluster === "shop-batch"),
        ),
        check(
          "the two services sharing a definition run one revision of it",
          updatedTo("worker").length > 0 && sameList([...new Set(updatedTo("worker"))], [...new Set(updatedTo("worker-priority"))]),
        ),
        ...(retried
          ? []
          : [
              check(
                "each distinct definition registered once (two families for three services)",
                sameList([...families].sort(), ["shop-worker-production", "shop-worker-reports-staging", "shop-worker-staging"]),
                families.join(", "),
              ),
            ]),
        check(
          "every staging service runs the image",
          ["worker", "worker-priority"].every((s) => runningDigest(world, "shop-staging", s) === digest) &&
            runningDigest(world, "shop-batch", "worker-reports") === digest,
        ),
        check(
          "the approval request reached Slack with the command",
          world.webhook.messages.some(
            (m) => m.kind === "slack" && /waiting for approval/.test(m.title) && /stevedore -- approve shop-worker p-/.test(payload(m)),
          ),
        ),
        check("the CLI sent the approval", /Approved shop-worker p-/.test(String(world.state.cli)), String(world.state.cli)),
        check("production verified after approval, by promotion", production?.status === "verified" && production.trigger === "promotion", production?.status),
      ];
    },
  },
  {
    name: "reapprove",
    title: "an approval while production's alarm fires is refused; the alarm clears, a second approval deploys it, verified",
    truth: (world) => Object.fromEntries(WORKER_SERVICES.map((k) => [k, String(world.state.digest)])),
    async run(world) {
      const promotion = await workerAwaitingApproval(world, "v2.1.0");
      await world.setAlarm("shop-prod-worker-errors", "ALARM", "Threshold Crossed: 1 out of the last 1 datapoints were greater than the threshold (5.0).");
      await world.cli(["approve", "shop-worker", promotion, "--by", "release-manager"]);
      await world.waitFor("the first approval's outcome", () => world.deployments({ app: "shop-worker", env: "production" }).length > 0, 20 * MINUTE);
      await world.setAlarm("shop-prod-worker-errors", "OK", "Threshold Crossed: no datapoints were greater than the threshold (5.0).");
      await world.pass(MINUTE);
      const again = await world.cli(["approve", "shop-worker", promotion, "--by", "release-manager"]);
      world.state.cli = again.output.join("\n");
      await world.waitFor(
        "production verified",
        () => world.deployments({ app: "shop-worker", env: "production" }).some((r) => isFinal(r.status) && r.status !== "refused"),
        60 * MINUTE,
      );
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const production = world.deployments({ app: "shop-worker", env: "production" });
      const refused = production.find((r) => r.status === "refused");
      const deployed = production.find((r) => r.status !== "refused");
      const describe = production.map((r) => `${r.id} ${r.status}: ${r.reason ?? ""}`).join(" | ");
      return [
        check(
          "the approval while the alarm fired was refused, naming the alarm",
          /shop-prod-worker-errors is already in ALARM/.test(refused?.reason ?? ""),
          describe,
        ),
        check(
          "the second approval deployed it as a new attempt, verified",
          !!deployed && deployed.status === "verified" && deployed.id !== refused?.id && deployed.trigger === "promotion",
          describe,
        ),
        check("production runs the image", runningDigest(world, "shop-prod", "worker") === world.state.digest),
        check("the CLI sent the second approval", /Approved shop-worker p-/.test(String(world.state.cli)), String(world.state.cli)),
      ];
    },
  },
  {
    name: "race",
    title: "two pushes in quick succession → the newer wins, the older is superseded",
    truth: (world) => ({ "shop-staging/web": String(world.state.newer) }),
    async run(world) {
      const older = world.push("shop/web", COMMIT_A.slice(0, 7));
      await world.pass(3 * SECOND);
      const newer = world.push("shop/web", COMMIT_B.slice(0, 7));
      world.state.older = older.digest;
      world.state.newer = newer.digest;
      await world.waitFor(
        "both outcomes in staging",
        () => {
          const records = world.deployments({ app: "shop-web", env: "staging" });
          return records.length === 2 && records.every((r) => r.status === "superseded" || r.status === "verified");
        },
        60 * MINUTE,
      );
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const older = one(world, { app: "shop-web", env: "staging", digest: String(world.state.older) });
      const newer = one(world, { app: "shop-web", env: "staging", digest: String(world.state.newer) });
      const primaries = world.ecs.primaryHistory("shop-staging", "web").map((p) => p.images.join(","));
      const newerAt = primaries.findIndex((p) => p.includes(String(world.state.newer)));
      return [
        check("the newer image is verified", newer?.status === "verified", newer?.status),
        check(
          "the older is superseded, and says by what",
          older?.status === "superseded" && /superseded|newer/.test(older.reason ?? ""),
          `${older?.status}: ${older?.reason}`,
        ),
        check("the service runs the newer image", runningDigest(world, "shop-staging", "web") === world.state.newer),
        check(
          "the older image never became PRIMARY after the newer did",
          newerAt >= 0 && !primaries.slice(newerAt).some((p) => p.includes(String(world.state.older))),
        ),
        check(
          "Slack heard the older one was superseded",
          slackAbout(world, older?.id ?? "?").some((t) => /superseded/.test(t)),
        ),
      ];
    },
  },
  {
    name: "build-overlap",
    title:
      "two overlapping builds, the older one's post-build slow (its success comes last), then two pushes to one tag within a second → each time the image ECR got last runs, in staging and production",
    truth: (world) => ({ "shop-staging/web": String(world.state.pairLater), "shop-prod/web": String(world.state.pairLater) }),
    async run(world) {
      // Build A starts first and pushes first; its post-build step (a slow scan) takes 20 minutes.
      // Build B starts 30 s later, pushes later and finishes first: A's success is the last word.
      const a = world.build("shop-web", COMMIT_A, "SUCCEEDED", undefined, { durations: { postBuild: 20 * MINUTE } });
      await world.pass(30 * SECOND);
      const b = world.build("shop-web", COMMIT_B, "SUCCEEDED");
      const done = (id: string) => world.codebuild.describe(id)?.buildStatus === "SUCCEEDED";
      await world.waitFor("both builds to finish", () => done(a) && done(b), 60 * MINUTE);
      world.state.older = world.codebuild.describe(a)?.exportedEnvironmentVariables?.find((v) => v.name === "IMAGE_DIGEST")?.value;
      world.state.newer = world.codebuild.describe(b)?.exportedEnvironmentVariables?.find((v) => v.name === "IMAGE_DIGEST")?.value;
      await world.waitFor(
        "the newer build's image in production",
        () => isFinal(one(world, { env: "production", digest: String(world.state.newer) })?.status),
        2 * HOUR,
      );

      // Two pushes of one commit's tag within one second (ECR's push times are whole seconds):
      // the tag ends on the later one, and only ECR's tag says which came last.
      await world.pass(SECOND - (world.clock.now() % SECOND));
      world.state.pairEarlier = world.push("shop/web", COMMIT_C.slice(0, 7)).digest;
      await world.pass(400);
      world.state.pairLater = world.push("shop/web", COMMIT_C.slice(0, 7)).digest;
      await world.waitFor(
        "the later push's image in production",
        () => isFinal(one(world, { env: "production", digest: String(world.state.pairLater) })?.status),
        2 * HOUR,
      );
      await world.pass(5 * MINUTE);
    },
    expect(world) {
      const older = String(world.state.older),
        newer = String(world.state.newer);
      const earlier = String(world.state.pairEarlier),
        later = String(world.state.pairLater);
      const records = (digest: string) => world.deployments({ app: "shop-web", digest });
      const said = (digest: string) =>
        records(digest)
          .map((r) => `${r.env} ${r.status}${r.reason ? ` (${r.reason})` : ""}`)
          .join("; ");
      const ranAfter = (env: [string, string], first: string, then: string) => {
        const primaries = world.ecs.primaryHistory(...env).map((p) => p.images.join(","));
        const at = primaries.findIndex((p) => p.includes(first));
        return at >= 0 && primaries.slice(at).some((p) => p.includes(then));
      };
      return [
        check(
          "the newer build's image was verified in staging and production",
          ["staging", "production"].every((env) => one(world, { env, digest: newer })?.status === "verified"),
          said(newer),
        ),
        check(
          "the older build's image, whose success came last, never ran after the newer one, nor reached production",
          !ranAfter(["shop-staging", "web"], newer, older) && !records(older).some((r) => r.env === "production"),
          said(older),
        ),
        check(
          "the older build's image is superseded, saying by what",
          records(older).some((r) => r.status === "superseded" && /newer|superseded/.test(r.reason ?? "")),
          said(older),
        ),
        check(
          "of the two pushes within a second, the one the tag ends on was verified in staging and production",
          ["staging", "production"].every((env) => one(world, { env, digest: later })?.status === "verified"),
          said(later),
        ),
        check(
          "the earlier of the pair never ran after the later one",
          !ranAfter(["shop-staging", "web"], later, earlier) && !ranAfter(["shop-prod", "web"], later, earlier),
          said(earlier),
        ),
        check(
          "both services run the later push's image",
          runningDigest(world, "shop-staging", "web") === later && runningDigest(world, "shop-prod", "web") === later,
        ),
      ];
    },
  },
  {
    name: "branch",
    title:
      "two pull-request builds (one whose edited buildspec pushes under a deploying tag) and a main build of the same app → only main's image deploys, is verified and promoted",
    truth: (world) => ({ "shop-staging/web": String(world.state.main), "shop-prod/web": String(world.state.main) }),
    async run(world) {
      // A fork's pull request that edited buildspec.yml to push under the commit's tag, which the app deploys.
      const forged = world.build("shop-web", COMMIT_B, "SUCCEEDED", undefined, { trigger: "pr/7", tag: COMMIT_B.slice(0, 7) });
      // A pull request built by the unedited buildspec: its image goes to a nodeploy- tag.
      const honest = world.build("shop-web", COMMIT_C, "SUCCEEDED", undefined, { trigger: "pr/8" });
      // Time enough for the forged image to be verified and promoted, were it let through.
      await world.pass(40 * MINUTE);
      const main = world.build("shop-web", COMMIT_A, "SUCCEEDED");
      const done = (id: string) => ["SUCCEEDED", "FAILED"].includes(String(world.codebuild.describe(id)?.buildStatus));
      await world.waitFor("the three builds to finish", () => [forged, honest, main].every(done), 60 * MINUTE);
      const pushed = (id: string) => world.codebuild.describe(id)?.exportedEnvironmentVariables?.find((v) => v.name === "IMAGE_DIGEST")?.value;
      world.state.forged = pushed(forged);
      world.state.honest = pushed(honest);
      world.state.honestUri = world.codebuild.describe(honest)?.exportedEnvironmentVariables?.find((v) => v.name === "IMAGE_URI")?.value;
      world.state.main = pushed(main);
      await world.waitFor("main's image in production", () => isFinal(one(world, { env: "production", digest: String(world.state.main) })?.status), 2 * HOUR);
      await world.waitFor(
        "the forged pull request's image to be settled",
        () => world.deployments({ digest: String(world.state.forged) }).every((r) => isFinal(r.status)),
        30 * MINUTE,
      );
      await world.pass(5 * MINUTE);
    },
    expect(world) {
      const main = String(world.state.main),
        forged = String(world.state.forged),
        honest = String(world.state.honest);
      const said = (digest: string) =>
        world
          .deployments({ app: "shop-web", digest })
          .map((r) => `${r.env} ${r.status}${r.reason ? ` (${r.reason})` : ""}`)
          .join("; ") || "no deployment";
      const forgedRecords = world.deployments({ app: "shop-web", digest: forged });
      return [
        check(
          "main's image was verified in staging and production",
          ["staging", "production"].every((env) => one(world, { env, digest: main })?.status === "verified"),
          said(main),
        ),
        check(
          "the forged pull request's image was stopped (refused, or rolled back when its push had started it), saying it was a pull request",
          forgedRecords.length > 0 &&
            forgedRecords.every((r) => ["refused", "failed", "rolled_back", "superseded"].includes(r.status)) &&
            forgedRecords.some((r) => /was of pull request #7/.test(r.reason ?? "")),
          said(forged),
        ),
        check(
          "no pull request's image was ever verified or reached production",
          ![forged, honest].some((d) => world.deployments({ digest: d }).some((r) => r.status === "verified" || r.env === "production")),
          `${said(forged)} | ${said(honest)}`,
        ),
        check(
          "the unedited pull request's image went to a nodeploy- tag, and nothing deployed it",
          /:nodeploy-pr-8-[0-9a-f]{7}$/.test(String(world.state.honestUri)) && world.deployments({ digest: honest }).length === 0,
          `${world.state.honestUri}: ${said(honest)}`,
        ),
        check("both services run main's image", runningDigest(world, "shop-staging", "web") === main && runningDigest(world, "shop-prod", "web") === main),
      ];
    },
  },
  // Scenarios that feed Stevedore only bad input (invariant 5: no AWS write at all). The demo
  // plays them only when asked by name; the fault matrix plays them all.
  {
    name: "bad-events",
    title: "malformed events that match the deployed rules → ignored, nothing written",
    badInput: true,
    truth: (world) => ({ "shop-staging/web": seed(world, "shop/web"), "shop-staging/worker": seed(world, "shop/worker") }),
    async run(world) {
      for (const event of malformedEvents(world)) world.inject(event);
      await world.pass(5 * MINUTE);
    },
    expect(world) {
      return [
        check("nothing was deployed", world.deployments().length === 0, String(world.deployments().length)),
        check("no message was sent", world.webhook.messages.length === 0, String(world.webhook.messages.length)),
      ];
    },
  },
  // A config with mistakes never reaches the functions: packaging (infra/stack.cjs) loads and
  // compiles it, and refuses. The functions only ever read the compiled file, and a compiled
  // file damaged after packaging (cut off, or edited by hand) they refuse in turn.
  ...(["broken-config", "broken-template"] as const).map(
    (name): Scenario => ({
      name,
      title:
        name === "broken-config"
          ? "a config with mistakes → packaging refuses it; functions given a compiled config cut off mid-way refuse it too, and write nothing"
          : "a config whose template is broken → packaging refuses it; functions given a compiled config edited by hand refuse it too, and write nothing",
      badInput: true,
      truth: (world) => ({ "shop-staging/web": seed(world, "shop/web") }),
      async run(world) {
        const yaml = brokenConfig(name);
        const dir = dirname(yaml);
        world.state.configDir = dir;
        try {
          writeCompiledConfig(loadConfig(yaml), dir);
          world.state.packaging = "compiled";
        } catch (error) {
          world.state.packaging = (error as Error).message;
        }
        process.env[COMPILED_CONFIG_VARIABLE] = damagedCompiledConfig(world, name, dir);
        world.push("shop/web", COMMIT_A.slice(0, 7));
        await world.setAlarm("shop-staging-web-5xx", "ALARM", "Threshold Crossed");
        await world.pass(6 * MINUTE); // Lambda's two retries, then the dead-letter queue
      },
      expect(world) {
        const packaging = String(world.state.packaging);
        const mistake = name === "broken-config" ? /apps\.shop-web\.environments\[0\]\.wacth: unknown key/ : /web\.json: cannot parse/;
        const refused = world.bus.deadLetters.filter((d) => /is not a valid Stevedore config/.test(d.error));
        return [
          check(
            "packaging refused the config, naming the file and the mistake",
            /stevedore\.yml is not a valid Stevedore config/.test(packaging) && mistake.test(packaging),
            packaging.split("\n").slice(0, 3).join(" | "),
          ),
          check(
            "the events were kept in the dead-letter queue with the compiled config's problem",
            refused.length > 0 && refused.every((d) => /compiled from .*stevedore\.yml/.test(d.error)),
            world.bus.deadLetters.map((d) => d.error.split("\n").slice(0, 2).join(" ")).join(" | "),
          ),
          check("nothing was deployed", world.deployments().length === 0),
        ];
      },
      cleanup(world) {
        if (typeof world.state.configDir === "string") rmSync(world.state.configDir, { recursive: true, force: true });
      },
    }),
  ),
];

function seed(world: World, repository: string): string {
  return world.seedDigests.get(repository) ?? "";
}

/** Events the deployed rules match that are still wrong: every function must ignore them. */
function malformedEvents(world: World) {
  const envelope = (source: string, detailType: string, detail: Record<string, unknown>, resources: string[] = []) => ({
    version: "0" as const,
    id: `bad-${Math.random().toString(16).slice(2)}`,
    "detail-type": detailType,
    source,
    account: "123456789012",
    time: world.clock.eventTime(),
    region: "eu-west-1",
    resources,
    detail,
  });
  const service = "arn:aws:ecs:eu-west-1:123456789012:service/shop-staging/web";
  const push = { result: "SUCCESS", "action-type": "PUSH", "repository-name": "shop/web" };
  return [
    envelope("aws.ecr", "ECR Image Action", { ...push, "image-digest": "sha256:not-a-digest", "image-tag": "a1b2c3d" }),
    envelope("aws.ecr", "ECR Image Action", { ...push, "image-digest": `sha256:${"a".repeat(64)}`, "image-tag": 'a1b2c3d\n"}{{ image }}' }),
    envelope("aws.ecr", "ECR Image Action", { ...push, "image-digest": `sha256:${"b".repeat(64)}`, "image-tag": "latest" }),
    envelope("aws.ecr", "ECR Image Action", { ...push, "image-digest": `sha256:${"c".repeat(64)}` }),
    envelope("aws.ecr", "ECR Image Action", { ...push, "repository-name": "shop/worker", "image-digest": 42 as unknown as string, "image-tag": "v9" }),
    envelope("aws.codebuild", "CodeBuild Build State Change", { "build-status": "SUCCEEDED", "project-name": "shop-web", "build-id": "not-an-arn" }),
    envelope("aws.codebuild", "CodeBuild Build State Change", { "build-status": "FAILED", "project-name": "shop-web", "build-id": { $ne: null } }),
    envelope(
      "aws.ecs",
      "ECS Deployment State Change",
      { eventType: "INFO", eventName: "SERVICE_DEPLOYMENT_COMPLETED", deploymentId: "ecs-svc/1", updatedAt: "yesterday" },
      [service],
    ),
    envelope(
      "aws.ecs",
      "ECS Deployment State Change",
      { eventType: "ERROR", eventName: "SERVICE_DEPLOYMENT_FAILED", deploymentId: null, updatedAt: "2026-11-20T09:00:00Z" },
      [service],
    ),
    envelope("aws.ecs", "ECS Service Action", { eventType: "WARN", eventName: "SERVICE_TASK_START_IMPAIRED", createdAt: "x".repeat(100_000) }, [service]),
    envelope("aws.cloudwatch", "CloudWatch Alarm State Change", { alarmName: "shop-staging-web-5xx", state: { value: "ALARM", timestamp: "not a time" } }),
    envelope("aws.cloudwatch", "CloudWatch Alarm State Change", { alarmName: "shop-staging-web-5xx", state: "ALARM" }),
    envelope("stevedore", "Stevedore Promotion Decision", { app: "shop-worker", promotionId: "p-../../etc/passwd", decision: "approve", by: "mallory" }),
    envelope("stevedore", "Stevedore Promotion Decision", { app: "shop-worker", promotionId: "p-0123456789ab", decision: "approve; rm -rf /", by: "mallory" }),
  ];
}

/** A copy of the world's config with one kind of mistake, written where the functions can read it. */
function brokenConfig(kind: "broken-config" | "broken-template"): string {
  const dir = mkdtempSync(join(tmpdir(), `stevedore-${kind}-`));
  let text = readFileSync(WORLD_CONFIG, "utf8");
  for (const template of ["web.json", "worker.yaml"]) {
    const body = readFileSync(join(dirname(WORLD_CONFIG), "templates", template), "utf8");
    // A template cut off mid-way: it no longer parses.
    writeFileSync(join(dir, template), kind === "broken-template" && template === "web.json" ? body.slice(0, body.length / 2) : body);
    text = text.replaceAll(`templates/${template}`, template);
  }
  if (kind === "broken-config") text = text.replace("watch: 5m", "wacth: 5m");
  writeFileSync(join(dir, "stevedore.yml"), text);
  return join(dir, "stevedore.yml");
}

/** The world's good config compiled, then damaged the way a package could be after packaging. */
function damagedCompiledConfig(world: World, kind: "broken-config" | "broken-template", dir: string): string {
  const text = readFileSync(world.compiledConfig, "utf8");
  const damaged =
    kind === "broken-config"
      ? text.slice(0, Math.floor(text.length / 2)) // cut off mid-way
      : text.replace('"containerDefinitions"', '"containerDefinition"'); // a template edited by hand
  if (damaged === text) throw new Error("the compiled config has no containerDefinitions to damage");
  const file = join(dir, "stevedore-compiled.json");
  writeFileSync(file, damaged);
  return file;
}

/**
 * Messages heard once each, in order. While the receiver is down (a fault), a message is retried
 * briefly and then given up, as designed: then those may be missing, but never the final one,
 * and none may come twice.
 */
function heardOnce(world: World, name: string, heard: string[], expected: string[]): Check {
  if (!world.options.faults?.webhookDownMs) return check(name, sameList(heard, expected), heard.join(" | "));
  const inOrder = heard.every((h, i) => expected.indexOf(h) > (i > 0 ? expected.indexOf(heard[i - 1] as string) : -1));
  return check(`${name} (while it was down: given up, never twice)`, inOrder && heard.at(-1) === expected.at(-1), heard.join(" | "));
}

function sameList(actual: string[], expected: string[]): boolean {
  return actual.length === expected.length && actual.every((a, i) => a === expected[i]);
}
