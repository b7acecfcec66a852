// One world in its own worker thread: its own process.env (the functions' AWS_ENDPOINT_URL),
// its own module instances of the bundles. Runs one scenario and posts the result back.
import { parentPort, workerData } from "node:worker_threads";
import { describeFaults } from "./faults";
import type { RunRequest, RunResult } from "./run";
import { SCENARIOS } from "./scenarios";
import { World } from "./world";

const { request, stack, bundles } = workerData as { request: RunRequest; stack: World["options"]["stack"]; bundles: Record<string, string> };

async function main(): Promise<RunResult> {
  const scenario = SCENARIOS.find((s) => s.name === request.scenario);
  if (!scenario) throw new Error(`no scenario ${request.scenario}`);
  const started = Date.now();
  const world = await World.create({
    stack, bundles,
    scale: request.scale, faults: request.faults, logLevel: request.logLevel, slackUrl: request.slackUrl, timeoutMs: request.timeoutMs,
  });
  const virtualStart = world.clock.now();
  world.timeline.restart();
  let error: string | undefined;
  try {
    await scenario.run(world);
  } catch (e) {
    error = (e as Error).message;
  }
  const checks = scenario.expect(world);
  const result: RunResult = {
    scenario: scenario.name,
    title: scenario.title,
    faults: describeFaults(request.faults ?? {}),
    ok: !error && checks.every((c) => c.ok),
    error,
    checks,
    timeline: world.timeline.render(),
    messages: world.webhook.messages.map((m) => world.webhook.render(m)),
    stats: {
      realMs: Date.now() - started,
      virtualMinutes: Math.round((world.clock.now() - virtualStart) / 60000),
      calls: countBy(world.calls.map((c) => c.operation)),
      invocations: world.runtime.invocations.length,
      deadLetters: world.bus.deadLetters.length,
    },
  };
  await world.close();
  return result;
}

function countBy(items: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

main().then(
  (result) => parentPort?.postMessage({ result }),
  (error: unknown) => parentPort?.postMessage({ error: String((error as Error)?.stack ?? error) }),
);
