// One verdict whatever the load: sandbox time waits for the work (sandbox/clock.ts), so one
// scenario with one fault and one seed must come out the same alone and beside two CPU-bound
// processes: the same checks and invariants, every record's statuses in the same order at the
// same sandbox times, the same messages. The cell: an alarm rollback under throttling bursts, 5xx
// answers and every function's first invocation crashing, so the SDK retries with jitter, and
// claims are resumed after leases that must run out on sandbox time. Concurrent invocations reach
// the sandbox in an order the load decides, so every random draw is keyed by what it is for, not
// by when it was asked (sandbox/random.ts).
import { startLoad, stopLoad } from "../../sandbox/matrix";
import type { RunResult } from "../../sandbox/run";
import { playDemo } from "../support/demo";

const CELL = "alarm-rollback:throttle+5xx+crash";

/** The demo's result for one scenario:fault pair, as a newcomer would run it. */
async function play(run: string): Promise<RunResult> {
  return (await playDemo([run])).results[0] as RunResult;
}

/** What must not depend on the machine: everything but wall-clock figures. */
function verdictOf(r: RunResult) {
  return { ok: r.ok, error: r.error, checks: r.checks, invariants: r.invariants, states: r.states, messages: r.messages, timeline: r.timeline };
}

let alone: RunResult;
let underLoad: RunResult;
let otherFaults: RunResult;

beforeAll(async () => {
  alone = await play(CELL);
  const burners = startLoad(2);
  try {
    underLoad = await play(CELL);
  } finally {
    stopLoad(burners);
  }
  otherFaults = await play("alarm-rollback:none");
}, 300_000);

describe("a sandbox run under load", () => {
  it("plays a cell that holds and has something to compare", () => {
    expect(alone.ok).toBe(true);
    expect(alone.states.map((s) => s.status)).toEqual(expect.arrayContaining(["started", "completed", "rolling_back", "rolled_back"]));
    expect(alone.messages.length).toBeGreaterThan(4);
    for (const struck of ["crashes", "throttled", "serverErrors"] as const) expect(alone.stats.injected?.[struck]).toBeGreaterThan(0);
  });

  it("gives the same checks and invariants alone and beside two busy processes", () => {
    expect({ ok: underLoad.ok, checks: underLoad.checks, invariants: underLoad.invariants }).toEqual({
      ok: alone.ok,
      checks: alone.checks,
      invariants: alone.invariants,
    });
  });

  it("records the same states in the same order at the same sandbox times", () => {
    expect(underLoad.states).toEqual(alone.states);
  });

  it("sends the same messages, and tells the same timeline", () => {
    expect(underLoad.messages).toEqual(alone.messages);
    expect(underLoad.timeline).toEqual(alone.timeline);
  });

  it("would see a difference: the same scenario without its faults plays out differently", () => {
    expect(otherFaults.ok).toBe(true);
    expect(verdictOf(otherFaults)).not.toEqual(verdictOf(alone));
    expect(otherFaults.states.map((s) => s.at)).not.toEqual(alone.states.map((s) => s.at));
  });
});
