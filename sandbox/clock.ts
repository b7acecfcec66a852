// The sandbox's time: a discrete-event clock. Sandbox time never follows the wall clock. It
// stands still while anything in the world can still act now (an AWS call or a webhook on its
// way, a bundle being loaded, a file being read), and when nothing can, it jumps to the next
// due timer and fires every timer due at that instant together. So a rollout of five minutes
// and a watch window of ten pass as fast as the machine can run the work between them, and how
// busy the machine is changes how long a run takes, never what happens in it: a Lambda in AWS
// has its own CPU, so work that waits for a core must not let deadlines pass.
//
// Two ways to drive it:
//   - running (worlds): the clock moves itself whenever the world is idle. What counts as
//     "acting" is held through hold() and exchange(); sandbox/virtual-time.ts makes a world
//     thread's HTTP, fetch, Date and timers report to it, so the functions' own leases,
//     deadlines and SDK backoff run on this clock too;
//   - stepped (tests of single local services): nothing moves until advance() is called.

export type Cancel = () => void;

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

interface Exchange {
  what: string;
  ended: boolean;
  parks: number;
  /** Whether it counts in `active` now. */
  counted: boolean;
}

/** The wall clock, as it was before a world thread's Date was made virtual. */
const realDateNow = Date.now;
const realSetImmediate = globalThis.setImmediate;
export const wallNow = (): number => realDateNow();

/** Resources that mean the thread still has work of its own in flight (not timers, not idle sockets). */
const BUSY_RESOURCE =
  /^(Immediate|FSReqCallback|FSReqPromise|CloseReq|FileHandleCloseReq|GetAddrInfoReqWrap|GetNameInfoReqWrap|QueryReqWrap|TCPConnectWrap|PipeConnectWrap|WriteWrap|ShutdownWrap)$/;

export interface ClockOptions {
  /** Sandbox epoch ms at creation. Fixed by default, so that two runs of one seed agree. */
  start?: number;
  /** Move by itself whenever nothing is active (worlds); otherwise only advance() moves it. */
  running?: boolean;
}

const DEFAULT_START = Date.parse("2026-12-01T09:00:00.000Z");

export class Clock {
  private current: number;
  private readonly timers: Timer[] = []; // a binary min-heap on (at, seq)
  private seq = 0;
  private active = 0;
  private readonly holders = new Map<string, number>();
  private readonly exchanges = new Map<string, Exchange>();
  private nextExchange = 0;
  private checkPending = false;
  /** Moves on whenever time jumps or work starts: a rest point is new when the epoch moved. */
  private epoch = 0;
  private readonly idleWaiters: { epoch: number; resolve: () => void }[] = [];
  private stopped = false;
  readonly running: boolean;

  constructor(options: ClockOptions = {}) {
    this.current = options.start ?? DEFAULT_START;
    this.running = options.running ?? true;
  }

  now(): number {
    return this.current;
  }

  /** ISO with milliseconds, as ECS writes updatedAt. */
  iso(at = this.now()): string {
    return new Date(at).toISOString();
  }

  /** ISO to the second, as EventBridge writes an event's `time`. */
  eventTime(at = this.now()): string {
    return new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /** Runs `fn` after `virtualMs` of sandbox time (at the earliest once the world is idle). */
  after(virtualMs: number, fn: () => void): Cancel {
    if (this.stopped) return () => undefined;
    // Whole milliseconds, as Date.now() reads them.
    const timer: Timer = { at: this.current + Math.max(0, Math.round(Number(virtualMs) || 0)), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    this.wake();
    return () => {
      timer.cancelled = true;
    };
  }

  sleep(virtualMs: number): Promise<void> {
    return new Promise((resolve) => this.after(virtualMs, resolve));
  }

  /**
   * Marks the world as acting until the returned release is called (idempotent): sandbox time
   * stands still meanwhile. `what` names it for a stuck world's report.
   */
  hold(what = "work"): () => void {
    this.count(what, +1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.count(what, -1);
    };
  }

  /**
   * An HTTP exchange from its request to its whole response: acting, except while the server
   * waits on sandbox time for it (parkedFor). The id travels in a header to the server.
   */
  exchange(what = "http"): { id: string; end: () => void } {
    const id = String(++this.nextExchange);
    const exchange: Exchange = { what, ended: false, parks: 0, counted: false };
    this.exchanges.set(id, exchange);
    this.recount(exchange);
    return {
      id,
      end: () => {
        exchange.ended = true;
        this.exchanges.delete(id);
        this.recount(exchange);
      },
    };
  }

  /**
   * Waits `virtualMs` of sandbox time inside a request the server is answering (a slow webhook,
   * AWS latency): the exchange stops counting as acting meanwhile, or time could never reach the
   * end of the wait. An unknown exchange (a caller outside the world) just waits.
   */
  async parkedFor(exchangeId: string | undefined, virtualMs: number): Promise<void> {
    const exchange = exchangeId ? this.exchanges.get(exchangeId) : undefined;
    if (!exchange) return this.sleep(virtualMs);
    exchange.parks++;
    this.recount(exchange);
    try {
      await this.sleep(virtualMs);
    } finally {
      exchange.parks--;
      this.recount(exchange);
    }
  }

  /** An exchange acts while it is open and not parked. */
  private recount(exchange: Exchange): void {
    const acting = !exchange.ended && exchange.parks === 0;
    if (acting === exchange.counted) return;
    exchange.counted = acting;
    this.count(exchange.what, acting ? +1 : -1);
  }

  private count(what: string, change: 1 | -1): void {
    this.active += change;
    const left = (this.holders.get(what) ?? 0) + change;
    if (left === 0) this.holders.delete(what);
    else this.holders.set(what, left);
    if (change > 0) this.epoch++;
    else this.wake();
  }

  /**
   * Resolves the next time the world comes to rest after something happened (work ran or time
   * moved), before time moves on: a waiter looks at every new state of the world once.
   */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push({ epoch: this.epoch, resolve });
      this.wake();
    });
  }

  /** What holds the clock now, for a stuck world's report. */
  describeActivity(): string {
    const holders = [...this.holders].map(([what, n]) => `${what}×${n}`).join(", ");
    const timers = this.timers.filter((t) => !t.cancelled).length;
    return `${this.active} active (${holders || "nothing held"}); ${timers} timers; resources: ${process.getActiveResourcesInfo().join(", ")}`;
  }

  /**
   * Stepped clocks: fires, in order, every timer due within `virtualMs`, letting the work each
   * batch starts run before the next, then stands at now + virtualMs.
   */
  async advance(virtualMs: number): Promise<void> {
    const until = this.current + virtualMs;
    for (;;) {
      await settle();
      const next = this.peek();
      if (!next || next.at > until || this.stopped) break;
      this.fireBatch();
    }
    if (!this.stopped) this.current = Math.max(this.current, until);
    await settle();
  }

  /**
   * Stepped clocks: lets the work started so far run, then fires the next batch of due timers.
   * False when no timer is left.
   */
  async step(): Promise<boolean> {
    await settle();
    if (this.stopped || !this.peek()) return false;
    this.fireBatch();
    await settle();
    return true;
  }

  /** Cancels every pending timer: the world is over. */
  stop(): void {
    this.stopped = true;
    this.timers.length = 0;
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  // ── the running clock ─────────────────────────────────────────────────────────────────────

  private wake(): void {
    if (!this.running || this.checkPending || this.stopped || this.active > 0) return;
    this.checkPending = true;
    realSetImmediate(() => this.check());
  }

  /**
   * Runs in the check phase, after every callback and microtask before it: with nothing held and
   * no request of the thread's own in flight, the world is idle. Idle waiters go first (a
   * scenario acts at this instant); otherwise time jumps to the next due timer.
   */
  private check(): void {
    this.checkPending = false;
    if (this.stopped || this.active > 0) return;
    if (process.getActiveResourcesInfo().some((r) => BUSY_RESOURCE.test(r))) {
      this.wake();
      return;
    }
    const ready = this.idleWaiters.filter((w) => w.epoch < this.epoch);
    if (ready.length > 0) {
      this.idleWaiters.splice(0, this.idleWaiters.length, ...this.idleWaiters.filter((w) => w.epoch >= this.epoch));
      for (const waiter of ready) waiter.resolve();
      this.wake();
      return;
    }
    if (!this.peek()) return;
    this.fireBatch();
    this.wake();
  }

  /**
   * Moves to the earliest due timer and fires every timer due then. They are taken off the heap
   * before any runs: a timer one of them sets for this instant waits for the next rest point.
   */
  private fireBatch(): void {
    const first = this.peek();
    if (!first) return;
    this.current = Math.max(this.current, first.at);
    this.epoch++;
    const due: Timer[] = [];
    for (let t = this.peek(); t && t.at <= this.current; t = this.peek()) due.push(this.pop() as Timer);
    for (const timer of due) {
      if (timer.cancelled || this.stopped) continue;
      timer.cancelled = true;
      timer.fn();
    }
  }

  private peek(): Timer | undefined {
    while (this.timers.length > 0 && (this.timers[0] as Timer).cancelled) this.pop();
    return this.timers[0];
  }

  private push(timer: Timer): void {
    const heap = this.timers;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Timer, heap[parent] as Timer)) break;
      [heap[i], heap[parent]] = [heap[parent] as Timer, heap[i] as Timer];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const heap = this.timers;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l] as Timer, heap[m] as Timer)) m = l;
        if (r < heap.length && before(heap[r] as Timer, heap[m] as Timer)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as Timer, heap[i] as Timer];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A few turns of the event loop: lets work started by fired timers reach its next wait. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => realSetImmediate(resolve));
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
