// Two simulated polling deployers, driven against the same sandbox ECS through the same 5-minute
// rollout as Stevedore, with the real SDK (ECSClient) over the wire, so every call they make is
// counted by the same local AWS:
//
//   every-second  ecs-deploy's default (the most used deploy CLI with Slack support): after
//                 UpdateService it checks the service every second (`--sleep-time 1`). Per the
//                 design notes, two calls a check: DescribeServices + DescribeTaskDefinition.
//                 (Its source, ecs_deploy/cli.py wait_for_finish + ecs.py is_deployed, makes one
//                 DescribeServices a check while more than one deployment is listed and adds
//                 ListTasks + DescribeTasks once one is left, which the sandbox does not serve;
//                 the table shows the ratio for one call a check as well.)
//   sdk-waiter    `waitUntilServicesStable` of @aws-sdk/client-ecs: DescribeServices at once, then
//                 after delays from @smithy's exponentialBackoffWithJitter (minDelay 15 s,
//                 maxDelay 120 s as the issue states; the installed client-ecs 3.1162 defaults to
//                 600 s). Its schedule is re-implemented here on the sandbox clock (sandbox time,
//                 not real time); its success test is the SDK's (one deployment listed, running =
//                 desired) except that INACTIVE deployments, which the sandbox keeps listing, are
//                 not counted.
//
// Both first do what a deploy CLI does: DescribeServices, DescribeTaskDefinition (the current
// revision), RegisterTaskDefinition (new image), UpdateService. They deploy a service of their
// own (cluster bench-poller), so Stevedore's rules, which match only configured services, never
// see its events; the sweeper still runs in their world and its calls are not theirs.
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
} from "@aws-sdk/client-ecs";
import { random } from "../sandbox/random";
import { World } from "../sandbox/world";
import { READ_ONLY_KEYS } from "../shared/render/template";
import { countBy, median, now, percentile, Probe } from "./probe";
import type { JobContext } from "./threads";

/**
 * Every AWS call takes this long on the sandbox clock, in Stevedore's world and the pollers'
 * alike: sandbox time stands still while work runs, so without it a poller's checks and ECS's
 * timers would fall on the same instants and a 1-s poller would notice at once.
 */
export const CALL_LATENCY_MS = 20;

type PollerKind = "every-second" | "sdk-waiter";

export interface PollerParams extends JobContext {
  kind: PollerKind;
  rolloutMs: number;
  seed: number;
}

export interface PollerRun {
  kind: PollerKind;
  /** Every call it made, start to "noticed". */
  calls: number;
  callsByApi: Record<string, number>;
  setupCalls: number;
  checks: number;
  /** Sandbox ms from UpdateService to ECS's COMPLETED, and from COMPLETED to the check that saw it. */
  rolloutMs: number;
  noticeDelayMs: number;
  /** Sandbox ms the deployer ran (it occupies a CI runner all along). */
  runMs: number;
  realMs: number;
  outcome: "stable" | "failed" | "timed out";
}

const CLUSTER = "bench-poller";
const SERVICE = "web";
const GIVE_UP_MS = 30 * 60_000;

/** @smithy/core util-waiter's delay before attempt `attempt` (≥ 1), in ms. */
function waiterDelay(minDelayMs: number, maxDelayMs: number, attempt: number, rng: () => number): number {
  const ceiling = Math.log(maxDelayMs / minDelayMs) / Math.log(2) + 1;
  if (attempt > ceiling) return maxDelayMs;
  const capped = Math.min(minDelayMs * 2 ** (attempt - 1), maxDelayMs);
  return minDelayMs + rng() * (capped - minDelayMs);
}

/** Is the service done, as the poller judges it: one live deployment, all tasks running. */
function stable(service: Service | undefined, taskDefinition: string): "stable" | "failed" | undefined {
  const live = (service?.deployments ?? []).filter((d) => d.status !== "INACTIVE");
  const primary = live.find((d) => d.status === "PRIMARY");
  if (primary?.taskDefinition !== taskDefinition || primary.rolloutState === "FAILED") return primary ? "failed" : undefined;
  return live.length === 1 && service?.runningCount === service?.desiredCount ? "stable" : undefined;
}

export async function pollerJob(params: PollerParams): Promise<PollerRun> {
  const started = now();
  const world = await World.create({
    stack: params.stack,
    bundles: params.bundles,
    ecsTiming: { rollout: params.rolloutMs },
    faults: { latencyMs: CALL_LATENCY_MS },
  });
  const probe = new Probe(world);
  try {
    // A service of its own, running what shop-web staging runs, under a family of its own.
    const seed = world.ecs.taskDefinition("shop-web-staging");
    if (!seed) throw new Error("the sandbox has no shop-web-staging task definition");
    const body: Record<string, unknown> = { ...seed, family: "bench-poller-web" };
    for (const key of [...READ_ONLY_KEYS, "tags"]) delete body[key];
    world.ecs.createService({ cluster: CLUSTER, service: SERVICE, taskDefinition: body, desiredCount: 2 });

    const ecs = new ECSClient({
      endpoint: world.endpoint,
      region: "eu-west-1",
      maxAttempts: 1,
      credentials: { accessKeyId: "sandbox", secretAccessKey: "sandbox" },
    });
    const describe = async () => (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }))).services?.[0];
    const t0 = world.clock.now();
    const current = await describe();
    const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: current?.taskDefinition, include: ["TAGS"] }))).taskDefinition;
    const input = { ...td } as Record<string, unknown>;
    for (const key of READ_ONLY_KEYS) delete input[key];
    const containers = (td?.containerDefinitions ?? []).map((c) => ({ ...c, image: `${String(c.image).split("@")[0]}@sha256:${"b".repeat(64)}` }));
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({ ...(input as unknown as RegisterTaskDefinitionCommandInput), containerDefinitions: containers }),
    );
    const arn = registered.taskDefinition?.taskDefinitionArn as string;
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: arn }));
    const updatedAt = world.clock.now();
    const setupCalls = probe.calls.filter((c) => !c.fn).length;

    const rng = random(params.seed);
    let checks = 0;
    let outcome: PollerRun["outcome"] = "timed out";
    const everySecond = params.kind === "every-second";
    for (let attempt = 0; world.clock.now() - updatedAt < GIVE_UP_MS; attempt++) {
      if (attempt > 0) await world.clock.sleep(everySecond ? 1000 : waiterDelay(15_000, 120_000, attempt, rng));
      const service = await describe();
      if (everySecond) await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
      checks++;
      const state = stable(service, arn);
      if (state) {
        outcome = state;
        break;
      }
    }
    const noticedAt = world.clock.now();
    const completed = world.ecs.completedHistory(CLUSTER, SERVICE).find((c) => c.taskDefinition === arn);
    const mine = probe.calls.filter((c) => !c.fn);
    return {
      kind: params.kind,
      calls: mine.length,
      callsByApi: countBy(mine, (c) => c.operation),
      setupCalls,
      checks,
      rolloutMs: completed ? completed.at - updatedAt : NaN,
      noticeDelayMs: completed ? noticedAt - completed.at : NaN,
      runMs: noticedAt - t0,
      realMs: now() - started,
      outcome,
    };
  } finally {
    await world.close();
  }
}

export interface WaiterDistribution {
  maxDelayS: number;
  samples: number;
  checksMedian: number;
  delayMedianS: number;
  delayP95S: number;
  delayMaxS: number;
}

/**
 * The waiter's notice delay over many schedules (its jitter), with the rollout completing
 * `rolloutMs` after the waiter started; call latency left out. Pure arithmetic on the schedule.
 */
export function waiterDistribution(rolloutMs: number, maxDelayS: number, samples = 20_000, seed = 42): WaiterDistribution {
  const rng = random(seed);
  const delays: number[] = [];
  const checks: number[] = [];
  for (let i = 0; i < samples; i++) {
    let t = 0;
    let n = 1;
    for (let attempt = 1; t < rolloutMs; attempt++) {
      t += waiterDelay(15_000, maxDelayS * 1000, attempt, rng);
      n++;
    }
    delays.push((t - rolloutMs) / 1000);
    checks.push(n);
  }
  return {
    maxDelayS,
    samples,
    checksMedian: median(checks),
    delayMedianS: median(delays),
    delayP95S: percentile(delays, 95),
    delayMaxS: Math.max(...delays),
  };
}
