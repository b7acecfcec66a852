// Events per second one handler process sustains on the push path: one on-image-pushed container
// gets distinct ECR push events for shop/web (sandbox/fixtures/stevedore.yml: each deploys to shop-web
// staging, superseding the previous image) one after the other, through the sandbox runtime's
// invoke, with no added latency. Nothing else runs: the bus is stopped (no schedules, no routing
// of ECS's events, no stream consumers), so the thread holds the handler and the local AWS
// answering it. The local AWS (dynalite for DynamoDB above all) shares that thread; the profiler
// tells the handler's own share apart.
//
// Every push registers a task definition, and the handler paces registrations with a token
// bucket per container (shared/deploy/ecs.ts: 1 a second, burst 20, ECS's own limit). So there
// are two figures: the burst (the bucket's tokens left after the cold first event) and the
// sustained rate past it.
import { createHash, randomUUID } from "node:crypto";
import type { AwsEvent } from "../sandbox/events";
import type { Prepared } from "../sandbox/run";
import { World } from "../sandbox/world";
import { REGISTRATION_LIMIT } from "../shared/deploy/ecs";
import { countBy, cpuOf, median, now, Probe, round, type CallStamp, type InvocationStamp } from "./probe";
import { progress } from "./progress";
import { byName, notes, table } from "./table";
import { inWorker, type JobContext } from "./threads";

/** Events after the cold first one that the registration bucket lets through at once (20 − 1). */
const BURST = REGISTRATION_LIMIT.burst - 1;
const SUSTAINED = 40;

export interface Phase {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  wallMsMedian: number;
}

export interface ThroughputBench {
  method: string;
  /** The headline: events per second past the burst. */
  eventsPerSecond: number;
  burst: Phase;
  sustained: Phase;
  /** What one event did: calls to AWS, by API, and how each ended. */
  callsPerEvent: number;
  callsByApiPerEvent: Record<string, number>;
  outcomes: Record<string, number>;
  /** Per event (both phases): handler CPU ms (profiler, in the bundle), ms waiting for a registration token. */
  handlerCpuMsPerEvent: number;
  registrationWaitMsMedian: number;
  /** 1000 / handlerCpuMsPerEvent: what the handler's own CPU would allow, unpaced, with AWS elsewhere. */
  handlerCpuBoundEventsPerSecond: number;
  coldFirstEventMs: number;
}

export async function throughputJob(params: JobContext & { burst: number; sustained: number }): Promise<ThroughputBench> {
  const world = await World.create({ stack: params.stack, bundles: params.bundles });
  const probe = new Probe(world);
  try {
    world.bus.stop();
    const captured: AwsEvent[] = [];
    (world.bus as unknown as { publish: (e: AwsEvent) => void }).publish = (event) => captured.push(event);
    world.push("shop/web", "0000000");
    const template = captured.find((e) => e.source === "aws.ecr");
    if (!template) throw new Error("no ECR event captured");
    const base = Date.parse(template.time);
    // Distinct digests and tags, a second apart: each is newer than the one before, so each deploys.
    const events = Array.from(
      { length: 1 + params.burst + params.sustained },
      (_, i): AwsEvent => ({
        ...template,
        id: randomUUID(),
        time: new Date(base + (i + 1) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        detail: {
          ...template.detail,
          "image-digest": `sha256:${createHash("sha256").update(`bench-${i}`).digest("hex")}`,
          "image-tag": (0x1000000 + i).toString(16),
        },
      }),
    );
    // Each image is in ECR, pushed a second after the one before: the handler orders images by
    // ECR's own push time (whole seconds), and an image ECR does not hold is ignored.
    for (const event of events) {
      await world.clock.sleep(1000);
      world.ecr.push("shop/web", { tag: String(event.detail["image-tag"]), digest: String(event.detail["image-digest"]) });
    }
    const invoke = async (event: AwsEvent) => probe.noteInvocation(await world.runtime.invoke("on-image-pushed", event), event);
    const cold = await invoke(events[0] as AwsEvent);

    await probe.startProfiler();
    // A phase lasts its wall time (the handler's work) plus the sandbox time it waited (the
    // registration bucket's pacing, on sandbox time like ECS's limit): sandbox time stands still
    // while work runs.
    const phase = async (list: AwsEvent[]): Promise<[Phase, InvocationStamp[]]> => {
      const t0 = now();
      const v0 = world.clock.now();
      const stamps: InvocationStamp[] = [];
      for (const event of list) stamps.push(await invoke(event));
      const seconds = (now() - t0 + world.clock.now() - v0) / 1000;
      return [
        {
          events: list.length,
          seconds: round(seconds, 2),
          eventsPerSecond: round(list.length / seconds, 2),
          wallMsMedian: round(median(stamps.map((x) => x.endedAt - x.startedAt)), 1),
        },
        stamps,
      ];
    };
    const [burst, burstStamps] = await phase(events.slice(1, 1 + params.burst));
    progress(`throughput: burst ${burst.eventsPerSecond} events/s`);
    const [sustained, sustainedStamps] = await phase(events.slice(1 + params.burst));
    const profile = await probe.stopProfiler();

    const stamps = [...burstStamps, ...sustainedStamps];
    const calls = stamps.flatMap((x) => probe.callsOf(x));
    const cpu = cpuOf(profile, stamps);
    const handlerCpu = stamps.reduce((a, x) => a + (cpu.get(x) ?? 0), 0);
    // The bucket's wait: from the call before RegisterTaskDefinition answering to it being sent,
    // in wall ms (work) plus sandbox ms (the pacing itself).
    const waits = stamps.map((x) => {
      const mine = probe.callsOf(x);
      const at = mine.findIndex((c) => c.operation === "RegisterTaskDefinition");
      if (at <= 0) return 0;
      const [before, register] = [mine[at - 1] as CallStamp, mine[at] as CallStamp];
      return register.start - before.end + (register.virtualAt - before.virtualAt);
    });
    const outcomes = countBy(stamps, (x) => {
      if (!x.ok) return `error: ${x.error}`;
      const deployed = (x.result as { deployed?: { outcome: string }[]; ignored?: string }).deployed;
      return deployed ? deployed.map((d) => d.outcome).join("+") : "ignored";
    });
    const n = stamps.length;
    return {
      method: `one container, cold first event (${round(cold.endedAt - cold.startedAt, 0)} ms, not counted), then ${params.burst} events (the burst: what the registration bucket holds), then ${params.sustained} more (sustained), each invoked after the previous answered; events/s = events / seconds of the phase (its wall time, the work, plus the sandbox time it waited for registration tokens). Handler CPU: V8 samples in the on-image-pushed bundle. Registration wait: from the answer of the call before RegisterTaskDefinition to it reaching the local AWS (wall plus sandbox time).`,
      eventsPerSecond: sustained.eventsPerSecond,
      burst,
      sustained,
      callsPerEvent: round(calls.length / n, 2),
      callsByApiPerEvent: Object.fromEntries(Object.entries(countBy(calls, (c) => c.operation)).map(([k, v]) => [k, round(v / n, 2)])),
      outcomes,
      handlerCpuMsPerEvent: round(handlerCpu / n, 2),
      registrationWaitMsMedian: round(median(waits), 1),
      handlerCpuBoundEventsPerSecond: round(1000 / (handlerCpu / n), 0),
      coldFirstEventMs: round(cold.endedAt - cold.startedAt, 0),
    };
  } finally {
    await world.close();
  }
}

// ── main side ──────────────────────────────────────────────────────────────────────────────

export function benchThroughput(ctx: Prepared): Promise<ThroughputBench> {
  return inWorker<JobContext & { burst: number; sustained: number }, ThroughputBench>(ctx, "throughput", {
    stack: ctx.stack,
    bundles: ctx.bundles,
    burst: BURST,
    sustained: SUSTAINED,
  });
}

export function throughputTable(t: ThroughputBench): string {
  return [
    table([
      ["push path, 1 container, 0 ms latency", "events", "events/s", "median ms/event"],
      [`burst (registration bucket full)`, t.burst.events, t.burst.eventsPerSecond, t.burst.wallMsMedian],
      [`sustained (past the burst)`, t.sustained.events, t.sustained.eventsPerSecond, t.sustained.wallMsMedian],
    ]),
    "",
    `One event: ${t.callsPerEvent} AWS calls (${byName(t.callsByApiPerEvent)}, averaged); outcomes: ${byName(t.outcomes)}.`,
    `Sustained, each event waits a median ${t.registrationWaitMsMedian} ms for a registration token: the handler paces RegisterTaskDefinition at ECS's limit (${REGISTRATION_LIMIT.perSecond}/s, burst ${REGISTRATION_LIMIT.burst}), so one process sustains about 1 deploying push a second.`,
    `Handler CPU per event ${t.handlerCpuMsPerEvent} ms: unpaced and with AWS answering elsewhere, its own CPU would allow about ${t.handlerCpuBoundEventsPerSecond} events/s. The cold first event took ${t.coldFirstEventMs} ms.`,
    "",
    notes([t.method]),
  ].join("\n");
}
