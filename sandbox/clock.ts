// The sandbox's time: virtual, running `scale` times faster than the wall clock, so that a
// five-minute rollout and a ten-minute watch window pass in seconds. Everything the local AWS
// stamps (event times, ECS's updatedAt, alarm timestamps) reads this clock; Stevedore's code
// takes its "now" from those events, so it follows without knowing. Leases and locks, which
// Stevedore keeps by the wall clock (an invocation's own deadline), stay on real time.

export type Cancel = () => void;

export class Clock {
  private readonly startReal = Date.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  /** @param scale virtual ms per real ms; @param start virtual epoch ms at creation */
  constructor(readonly scale = 60, private readonly start = Date.now()) {}

  now(): number {
    return this.start + (Date.now() - this.startReal) * this.scale;
  }

  /** ISO with milliseconds, as ECS writes updatedAt. */
  iso(at = this.now()): string {
    return new Date(at).toISOString();
  }

  /** ISO to the second, as EventBridge writes an event's `time`. */
  eventTime(at = this.now()): string {
    return new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /** Runs `fn` after `virtualMs` of sandbox time. */
  after(virtualMs: number, fn: () => void): Cancel {
    if (this.stopped) return () => undefined;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, Math.max(0, virtualMs / this.scale));
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  sleep(virtualMs: number): Promise<void> {
    return new Promise((resolve) => this.after(virtualMs, resolve));
  }

  /** Real milliseconds that `virtualMs` of sandbox time take. */
  real(virtualMs: number): number {
    return virtualMs / this.scale;
  }

  /** Cancels every pending timer: the world is over. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
