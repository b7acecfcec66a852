// End to end: the demo's own scenarios played in the sandbox (a local AWS, serverless.yml's
// rules, the functions as bundled for Lambda, a webhook receiver), through the very command a
// newcomer runs. Each scenario's checks judge the sandbox's state and what the webhooks got;
// nothing of Stevedore is mocked. The same scenario must end the same under faults.
import type { RunResult } from "../../sandbox/run";
import { playDemo } from "../support/demo";

const RUNS = ["promote", "failed-build", "circuit-breaker", "alarm-rollback", "fan-out", "race", "promote:duplicates", "promote:throttling"];

let results: RunResult[] = [];
let log = "";

beforeAll(async () => {
  ({ results, log } = await playDemo(RUNS));
}, 240_000);

function outcome(scenario: string, faults = "no faults"): RunResult {
  const result = results.find((r) => r.scenario === scenario && r.faults === faults);
  if (!result) throw new Error(`no result for ${scenario} (${faults}); the sandbox said:\n${log}`);
  return result;
}

/** A failing scenario shows its failed checks and its timeline, which is what one needs to see. */
function explain(r: RunResult): string {
  return [r.error ?? "", ...r.checks.filter((c) => !c.ok).map((c) => `✗ ${c.name}: ${c.detail ?? ""}`), ...r.timeline].join("\n");
}

describe("the sandbox, end to end", () => {
  it.each(["promote", "failed-build", "circuit-breaker", "alarm-rollback", "fan-out", "race"])("plays %s to its expected outcome", (scenario) => {
    const r = outcome(scenario);
    expect({ ok: r.ok, explain: r.ok ? "" : explain(r) }).toEqual({ ok: true, explain: "" });
    expect(r.checks.length).toBeGreaterThan(2);
  });

  it.each([
    ["duplicated event delivery", "duplicated events"],
    ["throttling bursts on every AWS API", "throttling bursts (10%, 3 in a row)"],
  ])("ends the promotion the same way under %s", (_name, faults) => {
    const clean = outcome("promote");
    const faulted = outcome("promote", faults);
    expect({ ok: faulted.ok, explain: faulted.ok ? "" : explain(faulted) }).toEqual({ ok: true, explain: "" });
    // Same checks, same verdicts: the fault changed how it got there, not where it ended.
    expect(faulted.checks.map((c) => [c.name, c.ok])).toEqual(clean.checks.map((c) => [c.name, c.ok]));
  });

  it("really injected the faults it claims (more calls under throttling, more invocations under duplicates)", () => {
    const calls = (r: RunResult) => Object.values(r.stats.calls).reduce((a, b) => a + b, 0);
    expect(calls(outcome("promote", "throttling bursts (10%, 3 in a row)"))).toBeGreaterThan(calls(outcome("promote")));
    expect(outcome("promote", "duplicated events").stats.invocations).toBeGreaterThan(outcome("promote").stats.invocations);
  });
});
