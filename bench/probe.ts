// What the benchmarks see of a sandbox world, with wall-clock stamps precise to a fraction of a
// millisecond: every AWS call as the local AWS received and answered it (and which invocation
// made it, by the trace id the bundled SDK stamps on it), every webhook post a function made,
// every event put on the bus, every message the webhook receiver accepted, every invocation with
// the payload it got. Optionally a V8 sampling CPU profile of the world's thread, attributed to
// the function bundles by script URL (see cpuOf below).
//
// Nothing here changes the world's behaviour: it only adds observers (the local AWS server's
// call observers, the bus's observers, the receiver's listeners) and wraps globalThis.fetch
// around the runtime's own guard, which stays in place.
import { Session } from "node:inspector/promises";
import type { AwsEvent } from "../sandbox/events";
import type { Invocation } from "../sandbox/runtime";
import type { ReceivedMessage } from "../sandbox/webhook";
import type { World } from "../sandbox/world";

/** Wall clock in epoch ms with sub-millisecond precision. */
export const now = (): number => performance.timeOrigin + performance.now();

export interface CallStamp {
  /** Function that made it (from the trace id); undefined for callers outside the Lambda runtime. */
  fn?: string;
  trace?: string;
  operation: string;
  status: number;
  /** AWS's error code (`__type`), when the call failed. */
  error?: string;
  /** Wall ms: the local AWS started reading the request / wrote the answer. */
  start: number;
  end: number;
  /** Sandbox time when it was answered. */
  virtualAt: number;
}

export interface FetchStamp {
  trace?: string;
  start: number;
  end: number;
}

export interface Published {
  at: number;
  virtualAt: number;
  event: AwsEvent;
}

export interface Heard {
  at: number;
  virtualAt: number;
  message: ReceivedMessage;
}

export interface InvocationStamp {
  fn: string;
  traceId: string;
  requestId: string;
  /** Wall epoch ms (the runtime's own Date.now() stamps). */
  startedAt: number;
  endedAt: number;
  coldStart: boolean;
  initMs?: number;
  ok: boolean;
  error?: string;
  payload: unknown;
  result?: unknown;
}

/** One CPU sample inside a function bundle's code. */
export interface CpuSample {
  fn: string;
  /** Wall epoch ms. */
  at: number;
  /** ms this sample stands for (the gap to the next sample). */
  ms: number;
}

export interface CpuProfileSummary {
  samples: CpuSample[];
  /** ms sampled anywhere on the thread except (idle): bundles, the local AWS, the bus, GC. */
  busyMs: number;
  /** ms in V8's garbage collector (not attributable to one caller). */
  gcMs: number;
  /** ms sampled in the function bundles, per function. */
  byFunction: Record<string, number>;
  intervalUs: number;
}

export class Probe {
  readonly calls: CallStamp[] = [];
  readonly fetches: FetchStamp[] = [];
  readonly published: Published[] = [];
  readonly heard: Heard[] = [];
  readonly invocations: InvocationStamp[] = [];
  /** Calls and webhook posts by the trace id of the invocation that made them. */
  private readonly callsByTrace = new Map<string, CallStamp[]>();
  private readonly fetchesByTrace = new Map<string, FetchStamp[]>();
  private session?: Session;
  private profileStart?: { hrUs: number; wall: number };

  constructor(world: World) {
    world.server.observe((request, response, ms) => {
      const end = now();
      const trace = String(request.headers["x-amzn-trace-id"] ?? "") || undefined;
      const body = response.body as { __type?: unknown } | undefined;
      const stamp: CallStamp = {
        fn: trace ? /Sandbox=([\w-]+)/.exec(trace)?.[1] : undefined,
        trace,
        operation: request.operation,
        status: response.status,
        ...(response.status >= 300 && typeof body?.__type === "string" ? { error: body.__type.replace(/^.*#/, "") } : {}),
        start: end - ms,
        end,
        virtualAt: world.clock.now(),
      };
      this.calls.push(stamp);
      if (trace) append(this.callsByTrace, trace, stamp);
    });
    world.bus.observe({
      published: (event) => this.published.push({ at: now(), virtualAt: world.clock.now(), event }),
      invoked: (invocation, payload) => this.noteInvocation(invocation, payload),
    });
    world.webhook.onMessage((message) => this.heard.push({ at: now(), virtualAt: world.clock.now(), message }));
    // Webhook posts (the functions' only fetches: the SDK speaks node:http). The runtime's guard
    // is what we wrap, so a dead invocation's fetch still fails as before.
    const inner = globalThis.fetch;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const stamp: FetchStamp = { trace: world.runtime.currentTrace(), start: now(), end: 0 };
      this.fetches.push(stamp);
      if (stamp.trace) append(this.fetchesByTrace, stamp.trace, stamp);
      try {
        return await inner(input, init);
      } finally {
        stamp.end = now();
      }
    }) as typeof fetch;
  }

  /** Invocations made directly (not through the bus) are noted with this. */
  noteInvocation(invocation: Invocation, payload: unknown): InvocationStamp {
    const stamp: InvocationStamp = {
      fn: invocation.function,
      traceId: invocation.traceId,
      requestId: invocation.requestId,
      startedAt: invocation.startedAt,
      endedAt: invocation.endedAt ?? Date.now(),
      coldStart: invocation.coldStart,
      ...(invocation.initMs !== undefined ? { initMs: invocation.initMs } : {}),
      ok: invocation.outcome?.ok !== false,
      ...(invocation.outcome?.ok === false ? { error: invocation.outcome.error } : {}),
      ...(invocation.outcome?.ok ? { result: invocation.outcome.result } : {}),
      payload,
    };
    this.invocations.push(stamp);
    return stamp;
  }

  callsOf(invocation: InvocationStamp): CallStamp[] {
    return this.callsByTrace.get(invocation.traceId) ?? [];
  }

  fetchesOf(invocation: InvocationStamp): FetchStamp[] {
    return this.fetchesByTrace.get(invocation.traceId) ?? [];
  }

  /**
   * Wall ms of an invocation not spent waiting on its own AWS calls or webhook posts: its wall
   * time minus the union of those intervals (as the local AWS / the fetch wrapper saw them).
   * It still includes other work the shared thread did meanwhile (the local AWS answering
   * someone else, another function), so it is an upper bound of the handler's own CPU time.
   */
  activeMs(invocation: InvocationStamp): number {
    const intervals = [...this.callsOf(invocation), ...this.fetchesOf(invocation)]
      .map((i) => [Math.max(i.start, invocation.startedAt), Math.min(i.end || invocation.endedAt, invocation.endedAt)] as const)
      .filter(([a, b]) => b > a)
      .sort((x, y) => x[0] - y[0]);
    let waited = 0;
    let until = -Infinity;
    for (const [a, b] of intervals) {
      if (b <= until) continue;
      waited += b - Math.max(a, until);
      until = b;
    }
    return Math.max(0, invocation.endedAt - invocation.startedAt - waited);
  }

  // ── CPU ─────────────────────────────────────────────────────────────────────────────────

  /** Starts V8's sampling profiler on this thread (every `intervalUs` µs). */
  async startProfiler(intervalUs = 250): Promise<void> {
    this.session = new Session();
    this.session.connect();
    await this.session.post("Profiler.enable");
    await this.session.post("Profiler.setSamplingInterval", { interval: intervalUs });
    this.profileStart = { hrUs: Number(process.hrtime.bigint() / 1000n), wall: now() };
    await this.session.post("Profiler.start");
    this.intervalUs = intervalUs;
  }

  private intervalUs = 250;

  /**
   * Stops the profiler. A sample counts for function F when any frame of its stack is code of
   * F's bundle (its URL is the bundle file the runtime imported); the samples' timestamps map
   * them to invocations (cpuOf). Work done for a function outside its own frames (V8 compiling
   * the bundle at a cold start, the garbage collector, Node's HTTP parser before it calls back
   * into the SDK) is not attributed to it.
   */
  async stopProfiler(): Promise<CpuProfileSummary> {
    if (!this.session || !this.profileStart) throw new Error("the profiler is not running");
    const { profile } = await this.session.post("Profiler.stop");
    await this.session.post("Profiler.disable");
    this.session.disconnect();
    this.session = undefined;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
    const owner = new Map<number, string | null>();
    const ownerOf = (id: number): string | null => {
      const known = owner.get(id);
      if (known !== undefined) return known;
      const url = nodes.get(id)?.callFrame.url ?? "";
      const own = /\/functions\/([\w-]+)\.mjs\?runtime=/.exec(url)?.[1];
      const up = parent.get(id);
      const result = own ?? (up !== undefined ? ownerOf(up) : null);
      owner.set(id, result);
      return result;
    };
    const toWall = (us: number) => this.profileStart!.wall + (us - this.profileStart!.hrUs) / 1000;
    const samples: CpuSample[] = [];
    const byFunction: Record<string, number> = {};
    let busyMs = 0;
    let gcMs = 0;
    const ids = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    let t = profile.startTime;
    for (let i = 0; i < ids.length; i++) {
      t += deltas[i] ?? 0;
      const ms = (deltas[i + 1] ?? this.intervalUs) / 1000;
      const id = ids[i] as number;
      const name = nodes.get(id)?.callFrame.functionName;
      if (name === "(idle)") continue;
      busyMs += ms;
      if (name === "(garbage collector)") gcMs += ms;
      const fn = ownerOf(id);
      if (!fn) continue;
      samples.push({ fn, at: toWall(t), ms });
      byFunction[fn] = (byFunction[fn] ?? 0) + ms;
    }
    return { samples, busyMs, gcMs, byFunction, intervalUs: this.intervalUs };
  }
}

function append<T>(index: Map<string, T[]>, key: string, item: T): void {
  const list = index.get(key);
  if (list) list.push(item);
  else index.set(key, [item]);
}

/**
 * CPU ms of each invocation: the samples of its function taken while it ran (its wall interval,
 * ±1 ms for the runtime's millisecond stamps). When several invocations of one function ran at
 * once, a sample is shared equally between them.
 */
export function cpuOf(profile: CpuProfileSummary, invocations: InvocationStamp[]): Map<InvocationStamp, number> {
  const result = new Map<InvocationStamp, number>(invocations.map((i) => [i, 0]));
  const byFn = new Map<string, InvocationStamp[]>();
  for (const i of invocations) byFn.set(i.fn, [...(byFn.get(i.fn) ?? []), i]);
  for (const s of profile.samples) {
    const running = (byFn.get(s.fn) ?? []).filter((i) => s.at >= i.startedAt - 1 && s.at <= i.endedAt + 1);
    for (const i of running) result.set(i, (result.get(i) ?? 0) + s.ms / running.length);
  }
  return result;
}

// ── small statistics ──────────────────────────────────────────────────────────────────────

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}
