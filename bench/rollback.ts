// From a guarding alarm going off to the rollback call: shop-web STAGING of sandbox/fixtures/stevedore.yml
// is deployed until ECS reports it COMPLETED (Stevedore's record "completed", inside its 5-minute
// watch window), then its alarm shop-staging-web-5xx goes to ALARM. Measured: wall ms from the
// alarm's "CloudWatch Alarm State Change" event being put on the sandbox bus to the local AWS
// starting to read on-alarm's rollback request (UpdateService back to the replaced revision, or
// StopServiceDeployment).
//
// Two kinds of fresh world (a fresh world is a new thread, so nothing is compiled yet):
//   - as deployed: the rollout's ECS events have woken on-alarm (shared/rollback/warm-up.ts), so
//     the first alarm meets a container that is loaded and primed ("warmed up");
//   - without the warm-up rule: the first alarm meets a cold container, as it would once Lambda
//     has reclaimed the warmed one (an alarm long after the rollout), or as every alarm did
//     before the warm-up existed.
// The next cycles of either kind meet the container that rolled back before ("warm").
//
// One thread holds the whole sandbox (the local AWS, dynalite's tables, the bus, the timeline) and
// every function, so its young generation fills with everyone's garbage; the scavenge that empties
// it lands wherever it falls due. It fell inside every warmed-up first alarm's window (13–16 ms of
// a 65–72 ms median, seen with PerformanceObserver "gc"), a pause of a heap on-alarm does not have
// in AWS, where its process holds only its own objects. So the young generation is collected
// just before each alarm (and before each floor run); the pauses still inside a window, on-alarm's
// own garbage included, stay in the figure and are shown beside it.
//
// Beside each cycle the same world runs bench/rollback-floor.ts (the SDK calls a rollback needs
// and nothing else), cold once per world and warm after: the part of on-alarm's figure that any
// SDK v3 function would pay, and what is left, which is ours.
import { resolve } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { MINUTE, SECOND } from "../sandbox/clock";
import type { Prepared } from "../sandbox/run";
import type { ResolvedStack } from "../sandbox/stack";
import { RECORDS_TABLE, World } from "../sandbox/world";
import type { FloorEvent } from "./rollback-floor";
import { median, now, Probe, round } from "./probe";
import { progress } from "./progress";
import { ms, notes, table, verdict } from "./table";
import { BUILD_DIR, inWorker, type JobContext } from "./threads";

const TARGET_MS = 50;
// Each fresh world gives one first alarm, so first-alarm samples need worlds; 8 of each kind
// keep a stray slow start from deciding the median.
const WORLDS = 8;
const CYCLES = 3;
const ALARM = "shop-staging-web-5xx";

/** What the alarm's on-alarm invocation met. */
type Container = "warmed up" | "cold" | "warm";

export interface RollbackSample {
  world: number;
  cycle: number;
  /** Whether the world has on-alarm's warm-up rule, as serverless.yml deploys it. */
  warmUp: boolean;
  container: Container;
  /** Alarm event on the bus → the local AWS receiving the rollback call. */
  ms: number;
  operation: string;
  /** Alarm event on the bus → on-alarm's invocation starting (the sandbox's delivery). */
  deliveryMs: number;
  /** Cold start import of on-alarm, when cold. */
  initMs?: number;
  /** Garbage-collection pauses of the world's thread inside the window (ms each). */
  gcPausesMs: number[];
  /** What on-alarm asked before the rollback call, with each call's time at the local AWS. */
  before: { operation: string; ms: number }[];
  outcome: string;
}

/** One run of the floor function: invoked → the local AWS starting to read its UpdateService. */
export interface FloorSample {
  world: number;
  cycle: number;
  cold: boolean;
  ms: number;
  initMs?: number;
}

const FLOOR = "rollback-floor";

export async function rollbackJob(
  params: JobContext & { cycles: number; world: number; warmUp: boolean },
): Promise<{ samples: RollbackSample[]; floor: FloorSample[] }> {
  const stack = withFloor(params.warmUp ? params.stack : withoutWarmUp(params.stack));
  const world = await World.create({ stack, bundles: params.bundles });
  const probe = new Probe(world);
  const collectYoungGeneration = youngGenerationCollector();
  const pauses = gcPauses();
  const samples: RollbackSample[] = [];
  const floor: FloorSample[] = [];
  try {
    for (let cycle = 0; cycle < params.cycles; cycle++) {
      const tag = (0xa000000 + params.world * 16 + cycle).toString(16);
      const { digest } = world.push("shop/web", tag);
      const record = () => world.deployments({ app: "shop-web", env: "staging", digest })[0];
      await world.waitFor(`${tag} completed`, () => record()?.status === "completed", 30 * MINUTE);
      await world.pass(20 * SECOND); // well inside the watch window; the stream consumers are done
      const published = probe.published.length;
      const calls = probe.calls.length;
      collectYoungGeneration();
      await world.setAlarm(ALARM, "ALARM", "Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (10.0).");
      await world.waitFor(`${tag} rolled back`, () => ["rolled_back", "failed", "timed_out"].includes(record()?.status ?? ""), 30 * MINUTE);
      const alarm = probe.published.slice(published).find((p) => p.event["detail-type"] === "CloudWatch Alarm State Change");
      const rollback = probe.calls
        .slice(calls)
        .find((c) => c.fn === "on-alarm" && /^(UpdateService|StopServiceDeployment)$/.test(c.operation) && c.status < 300);
      const invocation = probe.invocations.find((i) => i.traceId === rollback?.trace);
      if (!alarm || !rollback || !invocation) throw new Error(`cycle ${cycle}: no alarm event, rollback call or on-alarm invocation seen`);
      const container: Container = invocation.coldStart ? "cold" : cycle === 0 ? "warmed up" : "warm";
      const expected: Container = cycle > 0 ? "warm" : params.warmUp ? "warmed up" : "cold";
      if (container !== expected) throw new Error(`world ${params.world} cycle ${cycle}: the alarm met a ${container} container, not a ${expected} one`);
      samples.push({
        world: params.world,
        cycle,
        warmUp: params.warmUp,
        container,
        ms: round(rollback.start - alarm.at, 2),
        operation: rollback.operation,
        deliveryMs: round(invocation.startedAt - alarm.at, 1),
        gcPausesMs: pauses.within(alarm.at, rollback.start),
        ...(invocation.initMs !== undefined ? { initMs: round(invocation.initMs, 1) } : {}),
        before: probe
          .callsOf(invocation)
          .filter((c) => c.start < rollback.start)
          .map((c) => ({ operation: c.operation, ms: round(c.end - c.start, 2) })),
        outcome: record()?.status ?? "?",
      });
      progress(`rollback world ${params.world + 1} cycle ${cycle + 1}: ${samples.at(-1)?.ms} ms (${container})`);
      await world.setAlarm(ALARM, "OK", "Threshold no longer crossed.");
      await world.pass(10 * SECOND);
      collectYoungGeneration();
      floor.push({ world: params.world, cycle, ...(await runFloor(world, probe)) });
    }
  } finally {
    pauses.stop();
    await world.close();
  }
  return { samples, floor };
}

/** A minor GC on demand: V8 exposes `gc` to code compiled after the flag is set. */
function youngGenerationCollector(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as ((options: { type: "minor" }) => void) | undefined;
  if (typeof gc !== "function") throw new Error("V8 did not expose gc: the rollback bench cannot collect the sandbox's garbage before an alarm");
  return () => gc({ type: "minor" });
}

/** The thread's GC pauses as they happen; `within` gives those overlapping a wall-ms window. */
function gcPauses(): { within(from: number, to: number): number[]; stop(): void } {
  const seen: { start: number; ms: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) seen.push({ start: performance.timeOrigin + entry.startTime, ms: entry.duration });
  });
  observer.observe({ entryTypes: ["gc"] });
  return {
    within: (from, to) => seen.filter((p) => p.start + p.ms >= from && p.start <= to).map((p) => round(p.ms, 1)),
    stop: () => observer.disconnect(),
  };
}

/** The stack without on-alarm's warm-up rule (the one on ECS's events): the first alarm meets a cold container. */
function withoutWarmUp(stack: ResolvedStack): ResolvedStack {
  const onAlarm = stack.functions["on-alarm"];
  const events = (onAlarm?.events ?? []).filter((e) => !("eventBridge" in e && (e.eventBridge.pattern?.source as string[] | undefined)?.[0] === "aws.ecs"));
  if (!onAlarm || events.length !== (onAlarm.events ?? []).length - 1)
    throw new Error("serverless.yml gives on-alarm no warm-up rule on ECS's events to leave out");
  return { ...stack, functions: { ...stack.functions, "on-alarm": { ...onAlarm, events } } };
}

/**
 * The floor function beside the stack's, with on-alarm's role: the sandbox authorizes its calls
 * as it authorizes a rollback's, so both pay the same. (Its UpdateService names a service no
 * role may update; it is timed to the moment the call reaches the local AWS, refused or not.)
 */
function withFloor(stack: ResolvedStack): ResolvedStack {
  const onAlarm = stack.functions["on-alarm"];
  if (!onAlarm?.role) throw new Error("the stack gives on-alarm no role of its own");
  return { ...stack, functions: { ...stack.functions, [FLOOR]: { handler: `${FLOOR}.handler`, role: onAlarm.role } } };
}

async function runFloor(world: World, probe: Probe): Promise<Omit<FloorSample, "world" | "cycle">> {
  const event: FloorEvent = { table: RECORDS_TABLE, targetPk: "TARGET#eu-west-1/shop-staging/web", region: "eu-west-1", cluster: "shop-staging" };
  const invoked = now();
  const invocation = probe.noteInvocation(await world.runtime.invoke(FLOOR, event), event);
  const update = probe.callsOf(invocation).find((c) => c.operation === "UpdateService");
  if (!invocation.ok || !update) throw new Error(`the floor function did not reach UpdateService: ${invocation.error ?? "no call seen"}`);
  return {
    cold: invocation.coldStart,
    ms: round(update.start - invoked, 2),
    ...(invocation.initMs !== undefined ? { initMs: round(invocation.initMs, 1) } : {}),
  };
}

/** The floor function bundled like every Lambda. Main side only: the worker never builds. */
async function buildFloor(): Promise<string> {
  const { build } = await import("./bundle");
  return (await build(FLOOR, BUILD_DIR, { file: resolve(import.meta.dirname, "rollback-floor.ts") })).file;
}

// ── main side ──────────────────────────────────────────────────────────────────────────────

type Stats = { n: number; medianMs: number; maxMs: number };

export interface RollbackBench {
  method: string;
  samples: RollbackSample[];
  /** The first alarm after a rollout, as deployed: on-alarm warmed up by the rollout's ECS events. */
  warmedUp: Stats;
  /** Alarms meeting the container that rolled back before. */
  warm: Stats;
  /** The first alarm in a world without the warm-up rule: a cold container. */
  cold: Stats;
  /** Over the alarms as deployed (warmed up and warm): what the target is judged on. */
  medianMs: number;
  maxMs: number;
  /** The SDK-only function making the same three calls in the same worlds (bench/rollback-floor.ts). */
  floor: {
    samples: FloorSample[];
    cold: Stats;
    warm: Stats;
    /** Median over the cycles of on-alarm's ms minus the floor's in the same world and cycle. */
    aboveColdMs: number;
    aboveWarmMs: number;
  };
  target: { target: string; measured: string; verdict: "PASS" | "MISS"; warmedUp: "PASS" | "MISS"; warm: "PASS" | "MISS"; cold: "PASS" | "MISS" };
}

export async function benchRollback(ctx: Prepared): Promise<RollbackBench> {
  const samples: RollbackSample[] = [];
  const floor: FloorSample[] = [];
  const bundles = { ...ctx.bundles, [FLOOR]: await buildFloor() };
  // Alternating the two kinds spreads any drift of the machine over both alike.
  for (let w = 0; w < 2 * WORLDS; w++) {
    const result = await inWorker<JobContext & { cycles: number; world: number; warmUp: boolean }, Awaited<ReturnType<typeof rollbackJob>>>(ctx, "rollback", {
      stack: ctx.stack,
      bundles,
      cycles: CYCLES,
      world: w,
      warmUp: w % 2 === 0,
    });
    samples.push(...result.samples);
    floor.push(...result.floor);
  }
  const stats = (list: { ms: number }[]): Stats => ({
    n: list.length,
    medianMs: round(median(list.map((x) => x.ms)), 2),
    maxMs: round(Math.max(...list.map((x) => x.ms)), 2),
  });
  const warmedUp = stats(samplesOf(samples, "warmed up"));
  const warm = stats(samplesOf(samples, "warm"));
  const cold = stats(samplesOf(samples, "cold"));
  const deployed = stats(samples.filter((x) => x.warmUp));
  const within = (group: Stats) => verdict(group.maxMs <= TARGET_MS);
  return {
    method:
      "wall ms from the alarm's event being put on the sandbox bus (bus observer, same thread) to the local AWS starting to read on-alarm's rollback call (its call observer: answer time minus handling time). " +
      `${2 * WORLDS} fresh worlds × ${CYCLES} cycles, alternating ${WORLDS} as deployed and ${WORLDS} without on-alarm's warm-up rule: each cycle deploys a new image to shop-web staging, waits for "completed", 20 sandbox s later sets the alarm to ALARM. ` +
      "The sandbox's local DynamoDB (dynalite) and bus delivery are part of the figure; EventBridge adds its own delivery latency in AWS.",
    samples,
    warmedUp,
    warm,
    cold,
    medianMs: deployed.medianMs,
    maxMs: deployed.maxMs,
    floor: {
      samples: floor,
      cold: stats(floor.filter((x) => x.cold)),
      warm: stats(floor.filter((x) => !x.cold)),
      aboveColdMs: pairedAbove(samples, floor, true),
      aboveWarmMs: pairedAbove(samples, floor, false),
    },
    target: {
      target: `rollback call ≤ ${TARGET_MS} ms after the alarm event (sandbox)`,
      measured:
        `as deployed: first alarm after a rollout (warmed up) median ${ms(warmedUp.medianMs)}, max ${ms(warmedUp.maxMs)}; ` +
        `later alarms (warm) median ${ms(warm.medianMs)}, max ${ms(warm.maxMs)}. ` +
        `Not covered: a container Lambda reclaimed (cold) median ${ms(cold.medianMs)}, max ${ms(cold.maxMs)} (${within(cold)})`,
      verdict: verdict(deployed.maxMs <= TARGET_MS),
      warmedUp: within(warmedUp),
      warm: within(warm),
      cold: within(cold),
    },
  };
}

/** "warmed up 1 of 8 windows (6.1 ms), warm 0 of 32, cold …": GC pauses left inside the measured windows. */
function gcSummary(samples: RollbackSample[]): string {
  return (["warmed up", "warm", "cold"] as const)
    .map((container) => {
      const list = samplesOf(samples, container);
      const paused = list.filter((x) => x.gcPausesMs.length > 0);
      const total = paused.reduce((sum, x) => sum + x.gcPausesMs.reduce((a, b) => a + b, 0), 0);
      return `${container} ${paused.length} of ${list.length} windows${paused.length > 0 ? ` (${ms(round(total, 1))} in all)` : ""}`;
    })
    .join(", ");
}

function samplesOf(samples: RollbackSample[], container: Container): RollbackSample[] {
  return samples.filter((x) => x.container === container);
}

/** Paired, as machine noise hits both alike: on-alarm minus the floor, world by world, cycle by cycle. */
function pairedAbove(samples: RollbackSample[], floor: FloorSample[], cold: boolean): number {
  const differences = samplesOf(samples, cold ? "cold" : "warm").flatMap((x) => {
    const pair = floor.find((f) => f.world === x.world && f.cycle === x.cycle && f.cold === cold);
    return pair ? [x.ms - pair.ms] : [];
  });
  return round(median(differences), 1);
}

export function rollbackTable(r: RollbackBench): string {
  const rows: (string | number)[][] = [
    ["alarm met on-alarm's container", "n", "median", "max", `≤ ${TARGET_MS} ms`, "what on-alarm did first (local AWS ms, median sample)"],
  ];
  const groups = [
    ["warmed up by the rollout (as deployed)", "warmedUp", "warmed up"],
    ["warm, after a rollback", "warm", "warm"],
    ["cold (no warm-up: reclaimed)", "cold", "cold"],
  ] as const;
  for (const [label, key, container] of groups) {
    const group = r[key];
    const list = samplesOf(r.samples, container).sort((a, b) => a.ms - b.ms);
    const mid = list[Math.floor(list.length / 2)];
    const init = container === "cold" ? ` (import ${ms(median(list.map((x) => x.initMs ?? 0)))})` : "";
    rows.push([
      label,
      group.n,
      ms(group.medianMs),
      ms(group.maxMs),
      r.target[key],
      mid
        ? `${mid.before.map((b) => `${b.operation} ${b.ms.toFixed(1)}`).join(" → ")} → ${mid.operation}; delivery ${mid.deliveryMs < 1 ? "< 1 ms" : ms(mid.deliveryMs)}${init}`
        : "—",
    ]);
  }
  const floorRows: (string | number)[][] = [
    ["container", "on-alarm median", "SDK-only floor median (n)", "floor max", "on-alarm above the floor (paired median)"],
  ];
  for (const [label, ours, floor, above] of [
    ["cold", r.cold, r.floor.cold, r.floor.aboveColdMs],
    ["warm", r.warm, r.floor.warm, r.floor.aboveWarmMs],
  ] as const) {
    floorRows.push([label, ms(ours.medianMs), `${ms(floor.medianMs)} (${floor.n})`, ms(floor.maxMs), ms(above)]);
  }
  return [
    table(rows),
    "",
    table(floorRows),
    "",
    table([
      ["target", "measured", "verdict"],
      [r.target.target, r.target.measured, r.target.verdict],
    ]),
    "",
    notes([
      r.method,
      "warmed up: the rollout's SERVICE_DEPLOYMENT_IN_PROGRESS and _COMPLETED events woke on-alarm, which loaded its bundle and config and primed its calls without sending any (shared/rollback/warm-up.ts). " +
        "In AWS an idle container lives for some minutes, not guaranteed: an alarm long after the rollout can still meet a cold one, the third row. The verdict is judged on the first two rows, the pipeline as deployed.",
      "SDK-only floor: bench/rollback-floor.ts, bundled like our functions, makes on-alarm's three calls (Query, the decision and the lock in one conditional TransactWriteItems, UpdateService) with no Stevedore code, in the same worlds after each cycle; timed from its invocation to the local AWS starting to read its UpdateService. \"Above the floor\" pairs each on-alarm sample with the floor's of the same world and cycle.",
      `garbage collection: the world's young generation is collected before each alarm and each floor run (the sandbox's garbage, not on-alarm's; see the header of bench/rollback.ts). Pauses still inside a window, counted in its figure: ${gcSummary(r.samples)}.`,
      `every sample rolled back: ${r.samples.every((x) => x.outcome === "rolled_back") ? "yes" : r.samples.map((x) => x.outcome).join(", ")}`,
    ]),
  ].join("\n");
}
