// A Lambda runtime for the sandbox: it runs the very bundles `osls package` ships (built with
// build/esbuild.cjs), not the TypeScript sources, the way Lambda's Node runtime does:
//   - each container is its own instance of the bundle module, so module state (clients, the
//     config) and cold starts behave per container, and one container runs one event at a time;
//   - each invocation runs inside the runtime's per-invocation store (@aws/lambda-invoke-store),
//     from which the bundled SDK stamps every AWS call with the invocation's X-Amzn-Trace-Id;
//   - an invocation has a deadline on the sandbox clock (context.getRemainingTimeInMillis) and is
//     killed at it;
//   - each invocation has a name that does not depend on arrival order (its function, what its
//     event says, and which delivery of that event it is) and its own seeded Math.random, so
//     concurrent invocations draw the same numbers however the machine schedules them;
//   - an invocation can be made to crash midway (a fault): from then on it is dead, and since a
//     dead process makes no more calls, its AWS calls are refused by the local AWS and its
//     fetches (webhooks) fail here.
import { randomBytes, randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { InvokeStore } from "@aws/lambda-invoke-store";
import { wallNow, type Clock } from "./clock";
import { contentDigest, keyed, Occurrences } from "./random";

const TRACE_KEY = Symbol.for("_AWS_LAMBDA_X_RAY_TRACE_ID");
const REQUEST_KEY = Symbol.for("_AWS_LAMBDA_REQUEST_ID");

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

interface Container {
  id: number;
  /** A new process for this container after a crash: a new module instance. */
  generation: number;
  handler?: Handler;
  busy: boolean;
  invocations: number;
}

export interface Invocation {
  function: string;
  requestId: string;
  traceId: string;
  /** Its name in a replay: function, event content and delivery (random draws are keyed by it). */
  key: string;
  /** Wall-clock ms (what Lambda bills): sandbox time stands still while an invocation works. */
  startedAt: number;
  endedAt?: number;
  coldStart: boolean;
  /** Real ms the container took to import the bundle (cold starts only). */
  initMs?: number;
  /** How it ended: a result, a thrown error, a timeout, or a crash injected by a fault. */
  outcome?: { ok: true; result: unknown } | { ok: false; error: string; kind: "error" | "timeout" | "crash" };
}

export interface RuntimeOptions {
  /** Function name → bundle file (an .mjs built by build/esbuild.cjs). */
  bundles: Record<string, string>;
  /** Function name → timeout in sandbox ms. */
  timeouts: Record<string, number>;
  /** The sandbox clock: deadlines, and loading a bundle holds it (reading a file is work in flight). */
  clock: Clock;
  /** At most this many containers per function (Lambda's concurrency). */
  maxContainers?: number;
  /** The run's seed: each invocation's Math.random is seeded from it and the invocation's key. */
  seed?: number;
}

let runtimes = 0;

export class LambdaRuntime {
  /** Two runtimes in one thread must never share a module instance (its clients, its endpoint). */
  private readonly id = ++runtimes;
  private readonly containers = new Map<string, Container[]>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly dead = new Set<string>();
  private readonly running = new Map<string, { invocation: Invocation; random: () => number; kill: (kind: "timeout" | "crash", why: string) => void }>();
  private readonly deliveries = new Occurrences();
  readonly invocations: Invocation[] = [];
  private store?: Awaited<ReturnType<typeof InvokeStore.getInstanceAsync>>;

  constructor(private readonly options: RuntimeOptions) {}

  /** Installs the per-invocation store the bundles will find, and guards fetch. Call once, first. */
  async start(): Promise<void> {
    // Like Lambda's runtime when it runs several events at once: an AsyncLocalStorage-backed
    // store on globalThis.awslambda, which every bundled copy of the SDK picks up.
    this.store = await InvokeStore.getInstanceAsync(true);
    const fetchBefore = globalThis.fetch;
    globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const trace = this.currentTrace();
      if (trace && this.dead.has(trace)) return Promise.reject(new Error("sandbox: this invocation has ended; its process no longer exists"));
      return fetchBefore(input, init);
    }) as typeof fetch;
  }

  currentTrace(): string | undefined {
    return this.store?.getXRayTraceId?.() ?? undefined;
  }

  /** Whether the invocation with this trace id is dead (crashed or timed out). */
  isDead(traceId: string): boolean {
    return this.dead.has(traceId);
  }

  /** The running invocation with this trace id, if any. */
  find(traceId: string): Invocation | undefined {
    return this.running.get(traceId)?.invocation;
  }

  /** The Math.random of the invocation this code runs in, if it runs in one. */
  currentRandom(): (() => number) | undefined {
    const trace = this.currentTrace();
    return trace === undefined ? undefined : this.running.get(trace)?.random;
  }

  /** Kills a running invocation now (a crash fault): its promise rejects, its process is gone. Whether one was running. */
  crash(traceId: string, why: string): boolean {
    const running = this.running.get(traceId);
    running?.kill("crash", why);
    return running !== undefined;
  }

  async invoke(name: string, event: unknown): Promise<Invocation> {
    const file = this.options.bundles[name];
    if (!file) throw new Error(`sandbox: no bundle for function ${name}`);
    const container = await this.acquire(name);
    const requestId = randomUUID();
    const { clock } = this.options;
    const traceId = `Root=1-${Math.floor(clock.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")};Sandbox=${name}`;
    const key = this.deliveries.name(`${name}:${contentDigest(event)}`);
    const invocation: Invocation = { function: name, requestId, traceId, key, startedAt: wallNow(), coldStart: !container.handler };
    this.invocations.push(invocation);
    const timeout = this.options.timeouts[name] ?? 10_000;
    try {
      if (!container.handler) {
        const started = performance.now();
        const release = clock.hold(`loading ${name}`);
        try {
          const module = (await import(`${pathToFileURL(file).href}?runtime=${this.id}&container=${name}-${container.id}-${container.generation}`)) as {
            handler: Handler;
          };
          container.handler = module.handler;
        } finally {
          release();
        }
        invocation.initMs = performance.now() - started;
      }
      const handler = container.handler as Handler;
      const deadline = clock.now() + timeout;
      const context = {
        callbackWaitsForEmptyEventLoop: false,
        functionName: `stevedore-sandbox-${name}`,
        functionVersion: "$LATEST",
        invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:stevedore-sandbox-${name}`,
        memoryLimitInMB: "512",
        awsRequestId: requestId,
        logGroupName: `/aws/lambda/stevedore-sandbox-${name}`,
        logStreamName: `sandbox/[$LATEST]${container.id}`,
        getRemainingTimeInMillis: () => Math.max(0, deadline - clock.now()),
      };
      const result = await new Promise<unknown>((resolve, reject) => {
        const kill = (kind: "timeout" | "crash", why: string) => {
          this.dead.add(traceId);
          reject(Object.assign(new Error(why), { kind }));
        };
        this.running.set(traceId, { invocation, random: keyed(this.options.seed ?? 1, key), kill });
        const cancel = clock.after(timeout, () => kill("timeout", `Task timed out after ${(timeout / 1000).toFixed(2)} seconds`));
        const run = () => handler(event, context);
        (this.store ? this.store.run({ [TRACE_KEY]: traceId, [REQUEST_KEY]: requestId }, run) : run()).then(resolve, reject).finally(cancel);
      });
      invocation.outcome = { ok: true, result };
    } catch (error) {
      const kind = (error as { kind?: "timeout" | "crash" }).kind ?? "error";
      invocation.outcome = { ok: false, error: (error as Error).message ?? String(error), kind };
      // Lambda throws away a container whose process died; an ordinary error keeps it.
      if (kind !== "error") {
        container.handler = undefined;
        container.generation++;
      }
    } finally {
      invocation.endedAt = wallNow();
      this.running.delete(traceId);
      this.release(name, container);
    }
    return invocation;
  }

  private async acquire(name: string): Promise<Container> {
    const pool = this.containers.get(name) ?? [];
    this.containers.set(name, pool);
    for (;;) {
      const idle = pool.find((c) => !c.busy);
      if (idle) {
        idle.busy = true;
        idle.invocations++;
        return idle;
      }
      if (pool.length < (this.options.maxContainers ?? 10)) {
        const container: Container = { id: pool.length + 1, generation: 0, busy: true, invocations: 1 };
        pool.push(container);
        return container;
      }
      await new Promise<void>((resolve) => this.waiting.set(name, [...(this.waiting.get(name) ?? []), resolve]));
    }
  }

  private release(name: string, container: Container): void {
    container.busy = false;
    const next = this.waiting.get(name)?.shift();
    next?.();
  }

  /** Invocations running now. */
  get busy(): number {
    return this.running.size;
  }
}
