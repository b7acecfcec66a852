// The scenarios `npm run demo` plays and the end-to-end tests assert: one definition each.
// A scenario drives a world the way people and AWS would (pushes, builds, alarms, approvals)
// and then states what must be true, judged from the world itself: what ECS runs, what the
// records say, what the webhooks received. Never from Stevedore's own opinion of itself.
import type { DeploymentRecord } from "../shared/records/model";
import { MINUTE, SECOND } from "./clock";
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
  /** What must hold afterwards. */
  expect(world: World): Check[];
}

const COMMIT_A = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const COMMIT_B = "b2c3d4e5f60718293a4b5c6d7e8f901234567890";

const isFinal = (r?: DeploymentRecord) => !!r && ["verified", "failed", "rolled_back", "timed_out", "superseded", "refused"].includes(r.status);

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
  return world.webhook.messages
    .filter((m) => m.kind === "slack" && payload(m).includes(recordId))
    .map((m) => m.title);
}

/** The signed-webhook events (deduplicated by delivery id) about one record. */
function eventsAbout(world: World, recordId: string): string[] {
  return world.webhook.messages
    .filter((m) => m.kind === "webhook" && m.deliveryId?.startsWith(`${recordId}:`))
    .map((m) => m.event ?? "");
}

function one(world: World, filter: Parameters<World["deployments"]>[0]): DeploymentRecord | undefined {
  return world.deployments(filter)[0];
}

export const SCENARIOS: Scenario[] = [
  {
    name: "promote",
    title: "push → staging → verified → promoted to production → verified",
    async run(world) {
      const { digest } = world.push("shop/web", COMMIT_A.slice(0, 7));
      world.state.digest = digest;
      await world.waitFor("production verified", () => isFinal(one(world, { app: "shop-web", env: "production" })), 90 * MINUTE);
      await world.waitFor("the last message", () => eventsAbout(world, one(world, { env: "production", app: "shop-web" })?.id ?? "?").includes("deployment.verified"), 5 * MINUTE);
    },
    expect(world) {
      const digest = String(world.state.digest);
      const staging = one(world, { app: "shop-web", env: "staging" });
      const production = one(world, { app: "shop-web", env: "production" });
      return [
        check("staging verified", staging?.status === "verified", staging?.status),
        check("production verified", production?.status === "verified", production?.status),
        check("production came by promotion from staging, same digest", production?.trigger === "promotion" && production.promotedFrom?.env === "staging" && production.digest === digest),
        check("both services run the pushed image", runningDigest(world, "shop-staging", "web") === digest && runningDigest(world, "shop-prod", "web") === digest),
        heardOnce(world, "Slack heard staging start, rollout and verification, once each", slackAbout(world, staging?.id ?? "?").map(status), ["deploying", "rolled out, watching alarms", "deployed and verified"]),
        heardOnce(world, "the signed webhook heard the same about production, signatures verified", eventsAbout(world, production?.id ?? "?"), ["deployment.started", "deployment.completed", "deployment.verified"]),
      ];
    },
  },
  {
    name: "failed-build",
    title: "a build that fails → reported, nothing deployed",
    async run(world) {
      world.build("shop-web", COMMIT_B, "FAILED");
      await world.waitFor("the build failure message", () => world.webhook.messages.some((m) => m.kind === "slack" && /build .* failed/.test(m.title)), 30 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const message = world.webhook.messages.find((m) => m.kind === "slack" && /build .* failed/.test(m.title));
      return [
        check("Slack says which build failed, in which phase, with the logs", !!message && /phase BUILD/.test(message.text) && /Build logs/.test(payload(message)), message?.title),
        check("nothing was registered or updated", !world.calls.some((c) => /^(RegisterTaskDefinition|UpdateService)$/.test(c.operation))),
        check("no deployment was recorded", world.deployments().length === 0),
      ];
    },
  },
  {
    name: "circuit-breaker",
    title: "a bad image → the circuit breaker → ECS rolls back → reported as failed",
    async run(world) {
      world.push("shop/web", COMMIT_B.slice(0, 7), { bad: true });
      await world.waitFor("the staging outcome", () => isFinal(one(world, { app: "shop-web", env: "staging" })), 60 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const staging = one(world, { app: "shop-web", env: "staging" });
      const titles = slackAbout(world, staging?.id ?? "?");
      return [
        check("staging rolled back, with ECS's reason", staging?.status === "rolled_back" && /circuit breaker/i.test(staging.reason ?? ""), `${staging?.status}: ${staging?.reason}`),
        check("the service runs the previous image again", runningDigest(world, "shop-staging", "web") === world.seedDigests.get("shop/web")),
        check("reported as a failure, never as success", titles.some((t) => /rolled back/.test(t)) && !titles.some((t) => /verified/.test(t)), titles.join(" | ")),
        check("nothing was promoted to production", world.deployments({ env: "production" }).length === 0),
      ];
    },
  },
  {
    name: "alarm-rollback",
    title: "deployed fine → an alarm fires inside the watch window → Stevedore rolls back",
    async run(world) {
      world.push("shop/web", COMMIT_A.slice(0, 7));
      await world.waitFor("staging completed", () => one(world, { app: "shop-web", env: "staging" })?.status === "completed", 30 * MINUTE);
      await world.pass(MINUTE);
      await world.setAlarm("shop-staging-web-5xx", "ALARM", "Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (10.0).");
      await world.waitFor("the staging outcome", () => isFinal(one(world, { app: "shop-web", env: "staging" })), 30 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const staging = one(world, { app: "shop-web", env: "staging" });
      const titles = slackAbout(world, staging?.id ?? "?");
      return [
        check("staging rolled back because of the alarm", staging?.status === "rolled_back" && /shop-staging-web-5xx/.test(staging.reason ?? ""), `${staging?.status}: ${staging?.reason}`),
        check("the service runs the previous image again", runningDigest(world, "shop-staging", "web") === world.seedDigests.get("shop/web")),
        check("Slack was told, with the alarm, never as success", titles.some((t) => /rolled back/.test(t)) && !titles.some((t) => /verified/.test(t)), titles.join(" | ")),
        check("nothing was promoted to production", world.deployments({ env: "production" }).length === 0),
      ];
    },
  },
  {
    name: "fan-out",
    title: "one image to several services, one in another cluster; then an approved promotion",
    async run(world) {
      const { digest } = world.push("shop/worker", "v2.0.0");
      world.state.digest = digest;
      await world.waitFor("staging verified everywhere", () => world.deployments({ app: "shop-worker", env: "staging" }).filter((r) => r.status === "verified").length === 3, 60 * MINUTE);
      await world.waitFor("a promotion waiting for approval", () => [...world.records.values()].some((r) => r.kind === "promotion" && r.status === "awaiting_approval"), 10 * MINUTE);
      const promotion = [...world.records.values()].find((r) => r.kind === "promotion");
      const answer = await world.cli(["approve", "shop-worker", String(promotion?.id), "--by", "release-manager"]);
      world.state.cli = answer.output.join("\n");
      await world.waitFor("production verified", () => isFinal(one(world, { app: "shop-worker", env: "production" })), 60 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const digest = String(world.state.digest);
      const staging = world.deployments({ app: "shop-worker", env: "staging" });
      const families = world.calls.filter((c) => c.operation === "RegisterTaskDefinition" && c.status < 300).map((c) => String(c.body?.family));
      const production = one(world, { app: "shop-worker", env: "production" });
      return [
        check("three staging services verified, one of them in cluster shop-batch", staging.length === 3 && staging.every((r) => r.status === "verified") && staging.some((r) => r.cluster === "shop-batch")),
        check("each distinct definition registered once (two families for three services)", sameList([...families].sort(), ["shop-worker-production", "shop-worker-reports-staging", "shop-worker-staging"]), families.join(", ")),
        check("every staging service runs the image", ["worker", "worker-priority"].every((s) => runningDigest(world, "shop-staging", s) === digest) && runningDigest(world, "shop-batch", "worker-reports") === digest),
        check("the approval request reached Slack with the command", world.webhook.messages.some((m) => m.kind === "slack" && /waiting for approval/.test(m.title) && /stevedore -- approve shop-worker p-/.test(payload(m)))),
        check("the CLI sent the approval", /Approved shop-worker p-/.test(String(world.state.cli)), String(world.state.cli)),
        check("production verified after approval, by promotion", production?.status === "verified" && production.trigger === "promotion", production?.status),
      ];
    },
  },
  {
    name: "race",
    title: "two pushes in quick succession → the newer wins, the older is superseded",
    async run(world) {
      const older = world.push("shop/web", COMMIT_A.slice(0, 7));
      await world.pass(3 * SECOND);
      const newer = world.push("shop/web", COMMIT_B.slice(0, 7));
      world.state.older = older.digest;
      world.state.newer = newer.digest;
      await world.waitFor("both outcomes in staging", () => {
        const records = world.deployments({ app: "shop-web", env: "staging" });
        return records.length === 2 && records.every((r) => r.status === "superseded" || r.status === "verified");
      }, 60 * MINUTE);
      await world.pass(2 * MINUTE);
    },
    expect(world) {
      const older = one(world, { app: "shop-web", env: "staging", digest: String(world.state.older) });
      const newer = one(world, { app: "shop-web", env: "staging", digest: String(world.state.newer) });
      const primaries = world.ecs.primaryHistory("shop-staging", "web").map((p) => p.images.join(","));
      const newerAt = primaries.findIndex((p) => p.includes(String(world.state.newer)));
      return [
        check("the newer image is verified", newer?.status === "verified", newer?.status),
        check("the older is superseded, and says by what", older?.status === "superseded" && /superseded|newer/.test(older.reason ?? ""), `${older?.status}: ${older?.reason}`),
        check("the service runs the newer image", runningDigest(world, "shop-staging", "web") === world.state.newer),
        check("the older image never became PRIMARY after the newer did", newerAt >= 0 && !primaries.slice(newerAt).some((p) => p.includes(String(world.state.older)))),
        check("Slack heard the older one was superseded", slackAbout(world, older?.id ?? "?").some((t) => /superseded/.test(t))),
      ];
    },
  },
];

/** The status word of a Slack title "shop-web → staging: deployed and verified". */
function status(title: string): string {
  return title.replace(/^.*?: /, "");
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
