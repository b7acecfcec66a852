// A world's thread runs on its sandbox clock: the local AWS, the bus, the webhook receiver and
// the function bundles share one event loop, so whatever they measure with `Date`, `setTimeout`
// or `AbortSignal.timeout` (a claim's lease, an invocation's remaining time, the SDK's backoff, a
// webhook's timeout) must agree with the times the local AWS stamps on its events. The product
// code never knows: it calls the same globals, and only AWS_ENDPOINT_URL points elsewhere.
//
// Installed once per thread (install), then pointed at each new world's clock (use). Also:
//   - every HTTP request (node:http, as the SDK sends them) and every fetch (webhooks, the
//     DynamoDB proxy) holds the clock from its start until its whole response is in, and carries
//     its exchange id to the server in EXCHANGE_HEADER, so a server waiting on sandbox time for
//     it can let time move (Clock.parkedFor);
//   - Math.random is seeded, one generator per invocation, so the SDK's jitter and the product's
//     back-off repeat per seed however concurrent invocations are scheduled.
import http from "node:http";
import { syncBuiltinESMExports } from "node:module";
import timers from "node:timers";
import timersPromises from "node:timers/promises";
import type { Clock } from "./clock";
import { random } from "./random";

const EXCHANGE_HEADER = "x-sandbox-exchange";
/** Statuses a Response cannot be built with a body for (the Fetch standard's null body statuses). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

let clock: Clock | undefined;
let installed = false;

const RealDate = Date;
const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  request: http.request,
  fetch: globalThis.fetch,
  abortTimeout: AbortSignal.timeout,
  sleep: timersPromises.setTimeout,
};

/**
 * Points this thread's virtual globals at `next` (a world's clock) and seeds Math.random. Code
 * running in an invocation draws from that invocation's own generator (`perInvocation`), so the
 * SDK's retry jitter does not depend on which concurrent invocation asked first.
 */
export function useClock(next: Clock, seed: number, perInvocation: () => (() => number) | undefined = () => undefined): void {
  install();
  clock = next;
  const shared = random(seed);
  Math.random = () => (perInvocation() ?? shared)();
}

/** A Node-like Timeout handle on the sandbox clock (clearTimeout, refresh, unref all work). */
class VirtualTimeout {
  private cancel: () => void = () => undefined;
  constructor(
    private readonly fn: () => void,
    private readonly ms: number,
    private readonly repeat: boolean,
  ) {
    this.start();
  }
  private start(): void {
    this.cancel = (clock as Clock).after(this.ms, () => {
      if (this.repeat) this.start();
      this.fn();
    });
  }
  clear(): void {
    this.cancel();
  }
  refresh(): this {
    this.cancel();
    this.start();
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  close(): this {
    this.cancel();
    return this;
  }
  [Symbol.toPrimitive](): number {
    return 0;
  }
}

function virtualSetTimeout(repeat: boolean) {
  return (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (!clock) return repeat ? real.setInterval(fn, ms, ...args) : real.setTimeout(fn, ms, ...args);
    // Node's rule: a delay below 1 ms (or above the 32-bit limit) is 1 ms; fractions are cut.
    const delay = Math.trunc(Number(ms));
    return new VirtualTimeout(() => fn(...args), delay >= 1 && delay <= 2 ** 31 - 1 ? delay : 1, repeat);
  };
}

function virtualClear(realClear: (t: never) => void) {
  return (timer: unknown) => {
    if (timer instanceof VirtualTimeout) timer.clear();
    else if (timer !== undefined && timer !== null) realClear(timer as never);
  };
}

function install(): void {
  if (installed) return;
  installed = true;

  class VirtualDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(clock ? clock.now() : RealDate.now());
      else super(...(args as [number]));
    }
    static override now(): number {
      return clock ? clock.now() : RealDate.now();
    }
    static override [Symbol.hasInstance](value: unknown): boolean {
      return value instanceof RealDate;
    }
  }
  // Date() called as a function returns a string of now.
  const DateShim = new Proxy(VirtualDate, {
    apply: () => new VirtualDate().toString(),
  });
  globalThis.Date = DateShim as DateConstructor;

  const setTimeoutV = virtualSetTimeout(false) as unknown as typeof setTimeout;
  const setIntervalV = virtualSetTimeout(true) as unknown as typeof setInterval;
  const clearTimeoutV = virtualClear(real.clearTimeout as never) as typeof clearTimeout;
  const clearIntervalV = virtualClear(real.clearInterval as never) as typeof clearInterval;
  globalThis.setTimeout = setTimeoutV;
  globalThis.setInterval = setIntervalV;
  globalThis.clearTimeout = clearTimeoutV;
  globalThis.clearInterval = clearIntervalV;
  Object.assign(timers, { setTimeout: setTimeoutV, setInterval: setIntervalV, clearTimeout: clearTimeoutV, clearInterval: clearIntervalV });
  Object.assign(timersPromises, {
    setTimeout: <T>(ms?: number, value?: T, options?: { signal?: AbortSignal }) => {
      if (!clock) return real.sleep(ms, value, options);
      return new Promise<T | undefined>((resolve, reject) => {
        const signal = options?.signal;
        if (signal?.aborted) return reject(signal.reason);
        const cancel = (clock as Clock).after(Number(ms) || 0, () => resolve(value));
        signal?.addEventListener(
          "abort",
          () => {
            cancel();
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
  });

  AbortSignal.timeout = (ms: number): AbortSignal => {
    if (!clock) return real.abortTimeout(ms);
    const controller = new AbortController();
    clock.after(ms, () => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")));
    return controller.signal;
  };

  http.request = countedRequest as typeof http.request;
  http.get = ((...args: Parameters<typeof http.get>) => {
    const req = http.request(...(args as Parameters<typeof http.request>));
    req.end();
    return req;
  }) as typeof http.get;

  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    if (!clock) return real.fetch(input, init);
    const exchange = clock.exchange("fetch");
    try {
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      headers.set(EXCHANGE_HEADER, exchange.id);
      const response = await real.fetch(input, { ...init, headers });
      // The body is read while the exchange holds the clock: reading it is still the exchange.
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      exchange.end();
    }
  }) as typeof fetch;

  // Builtins imported by name (`import { setTimeout } from "node:timers"`) see the changes too.
  syncBuiltinESMExports();
}

function countedRequest(...args: unknown[]): ReturnType<typeof http.request> {
  const req = (real.request as (...a: unknown[]) => ReturnType<typeof http.request>)(...args);
  if (!clock) return req;
  const exchange = clock.exchange("http");
  try {
    req.setHeader(EXCHANGE_HEADER, exchange.id);
  } catch {
    // Headers already sent: the server cannot park it, which only costs a wait.
  }
  req.once("response", (res) => res.once("end", exchange.end));
  req.once("close", exchange.end);
  req.once("error", exchange.end);
  return req;
}

/** The exchange id a request to a local server carries, if it came from this thread. */
export function exchangeOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers[EXCHANGE_HEADER];
  return typeof value === "string" ? value : undefined;
}

/** The globals as they were before install(): for what must not follow (or count on) the sandbox clock. */
export { real as realGlobals };
