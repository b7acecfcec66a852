// One world in its own worker thread: its own process.env (the functions' AWS_ENDPOINT_URL),
// its own module instances of the bundles. Runs one scenario and posts the result back.
import { parentPort, workerData } from "node:worker_threads";
import { MINUTE, SECOND, wallNow } from "./clock";
import { describeFaults } from "./faults";
import { isFinal } from "../shared/records/model";
import { finalMessages, judge } from "./invariants";
import { observe, observeNotifications } from "./observe";
import type { RunRequest, RunResult } from "./run";
import { SCENARIOS } from "./scenarios";
import { realGlobals } from "./virtual-time";
import { World } from "./world";

const { request, stack, bundles } = workerData as { request: RunRequest; stack: World["options"]["stack"]; bundles: Record<string, string> };

async function main(): Promise<RunResult> {
  const scenario = SCENARIOS.find((s) => s.name === request.scenario);
  if (!scenario) throw new Error(`no scenario ${request.scenario}`);
  const started = wallNow();
  const world = await World.create({
    stack,
    bundles,
    faults: request.faults,
    logLevel: request.logLevel,
    slackUrl: request.slackUrl,
    timeoutMs: request.timeoutMs,
  });
  const virtualStart = world.clock.now();
  world.timeline.restart();
  let error: string | undefined;
  try {
    await withinWallTime(scenario.run(world), world, "the scenario");
  } catch (e) {
    error = (e as Error).message;
  }
  // The world is judged at rest. A scenario ends when its own outcome is in, but work it set off
  // may still be on its way (a promotion to production, a final message behind a failing
  // webhook, a retried event). So the world runs on until every deployment has a final status and
  // every final message has arrived. Invariant 4 is about what the sweeper leaves: a deployment
  // still open once the sweeper ran two minutes past its deadline is judged as it is; so is a
  // final message that never comes (invariant 3 is about delivery, not speed). Bounded by
  // sandbox time (a day) and by the wall clock, so a broken cell ends too.
  const open = () => world.deployments().filter((d) => !isFinal(d.status));
  const restBy = world.clock.now() + 24 * 60 * MINUTE;
  const rest = async () => {
    while (world.clock.now() < restBy) {
      await Promise.race([world.bus.idle(), world.clock.sleep(5 * SECOND)]);
      const sweptPast = open().every((d) => world.clock.now() > Date.parse(d.deadline) + 2 * MINUTE);
      if (sweptPast && finalWordsIn(world)) break;
      await world.pass(sweptPast ? 30 * SECOND : MINUTE);
    }
  };
  await withinWallTime(rest(), world, "the world coming to rest").catch((e: unknown) => {
    error ??= (e as Error).message;
  });
  const checks = scenario.expect(world);
  const invariants = judge(observe(world, scenario.truth(world), scenario.badInput ?? false));
  const result: RunResult = {
    scenario: scenario.name,
    title: scenario.title,
    faults: describeFaults(request.faults ?? {}),
    ok: !error && checks.every((c) => c.ok) && invariants.every((v) => v.held),
    error,
    checks,
    invariants,
    timeline: world.timeline.render(),
    states: world.stateChanges,
    messages: world.webhook.messages.map((m) => world.webhook.render(m)),
    stats: {
      realMs: wallNow() - started,
      virtualMinutes: Math.round((world.clock.now() - virtualStart) / 60000),
      calls: countBy(world.calls.map((c) => c.operation)),
      invocations: world.runtime.invocations.length,
      deadLetters: world.bus.deadLetters.length,
      injected: world.injected(),
    },
  };
  await world.close();
  scenario.cleanup?.(world);
  return result;
}

/** Whether every finished deployment's final message reached each of its destinations. */
function finalWordsIn(world: World): boolean {
  const o = observeNotifications(world);
  return o.deployments
    .filter((d) => isFinal(d.status))
    .every((d) => (o.destinations[`${d.app}/${d.env}`] ?? []).every((dest) => finalMessages(o, d, dest.name).length > 0));
}

/**
 * Sandbox time cannot pass while work is in flight, so work that never ends would hold a world
 * forever: the wall clock bounds it, and the error says what held the clock.
 */
function withinWallTime<T>(work: Promise<T>, world: World, what: string, ms = WALL_LIMIT_MS): Promise<T> {
  let timer: ReturnType<typeof realGlobals.setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = realGlobals.setTimeout(
      () =>
        reject(new Error(`${what} took more than ${ms / 1000} s of wall time; sandbox time stood at ${world.clock.iso()}: ${world.clock.describeActivity()}`)),
      ms,
    );
  });
  return Promise.race([work, limit]).finally(() => realGlobals.clearTimeout(timer));
}

/** Far above any cell's run on a loaded machine (the longest take ~20 s alone). */
const WALL_LIMIT_MS = 240_000;

function countBy(items: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

main().then(
  (result) => parentPort?.postMessage({ result }),
  (error: unknown) => parentPort?.postMessage({ error: String((error as Error)?.stack ?? error) }),
);
