// `npm run demo`: the whole pipeline offline. Every scenario plays in its own sandbox world
// (a local AWS, the bus with serverless.yml's rules, the Lambda bundles, a webhook receiver),
// side by side; each prints its timeline, the messages people got, and its checks. The command
// exits non-zero if any scenario's outcome is not the expected one.
//
//   npm run demo                                  all scenarios
//   npm run demo -- --scenario race               one (repeat the flag for more)
//   npm run demo -- --fault duplicates            under a fault (see FAULTS in sandbox/faults.ts)
//   npm run demo -- --run promote:throttling      exactly these scenario:fault pairs (repeatable)
//   npm run demo -- --slack-url https://hooks…    also post the Slack messages to a real Slack
//   npm run demo -- --json                        results as JSON (the end-to-end tests read this)
import { parseArgs } from "node:util";
import { FAULTS, type Faults } from "./faults";
import { prepare, runMain, runWorld, type RunResult } from "./run";
import { SCENARIOS } from "./scenarios";

/** What the demo plays unless told otherwise: the bad-input scenarios only when named. */
const DEMO_SCENARIOS = SCENARIOS.filter((s) => !s.badInput).map((s) => s.name);

const USAGE = `Usage: npm run demo -- [--scenario NAME]... [--fault NAME]... [--run SCENARIO:FAULT]... [--slack-url URL] [--verbose] [--json]
Scenarios: ${DEMO_SCENARIOS.join(", ")}
Faults: ${Object.keys(FAULTS).join(", ")}`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", multiple: true },
      fault: { type: "string", multiple: true },
      run: { type: "string", multiple: true },
      "slack-url": { type: "string" },
      verbose: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  // Explicit scenario:fault pairs, or every scenario asked for under every fault asked for
  // ("none" is the fault-free run).
  const runs = values.run
    ? values.run.map((pair) => ({ scenario: pair.split(":")[0] ?? "", fault: pair.split(":")[1] ?? "none" }))
    : (values.scenario ?? DEMO_SCENARIOS).flatMap((scenario) => (values.fault ?? ["none"]).map((fault) => ({ scenario, fault })));
  const unknown = runs.flatMap((r) => [
    ...(SCENARIOS.some((s) => s.name === r.scenario) ? [] : [r.scenario]),
    ...(r.fault === "none" || r.fault in FAULTS ? [] : [r.fault]),
  ]);
  if (unknown.length > 0) {
    console.error(`Unknown scenario or fault: ${[...new Set(unknown)].join(", ")}.\n${USAGE}`);
    return 2;
  }
  const say = (line: string) => {
    if (!values.json) console.log(line);
  };

  const started = Date.now();
  say("Stevedore sandbox: a local AWS on 127.0.0.1, the functions as bundled for Lambda, a webhook receiver.");
  say("Preparing: serverless.yml resolved by osls (cached after the first run), functions bundled with esbuild…");
  const prepared = await prepare();
  say(`Playing ${runs.length} world${runs.length > 1 ? "s" : ""} side by side; sandbox time skips what nobody waits for.\n`);

  const results = await Promise.all(
    runs.map(async ({ scenario, fault }) => {
      const faults: Faults | undefined = fault === "none" ? undefined : FAULTS[fault];
      const result = await runWorld(
        {
          scenario,
          faults,
          logLevel: values.verbose ? "INFO" : undefined,
          slackUrl: values["slack-url"],
        },
        prepared,
      ).catch(
        (error: unknown): RunResult => ({
          scenario,
          title: scenario,
          faults: fault,
          ok: false,
          error: String((error as Error).message ?? error),
          checks: [],
          invariants: [],
          timeline: [],
          states: [],
          messages: [],
          stats: { realMs: 0, virtualMinutes: 0, calls: {}, invocations: 0, deadLetters: 0 },
        }),
      );
      say(report(result));
      return result;
    }),
  );

  const good = results.filter((r) => r.ok).length;
  if (values.json) console.log(JSON.stringify(results, null, 2));
  else
    console.log(
      `${results.length} scenario${results.length > 1 ? "s" : ""}: ${good} as expected, ${results.length - good} not (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  return good === results.length ? 0 : 1;
}

function report(r: RunResult): string {
  const lines = [
    `━━ ${r.ok ? "✓" : "✗"} ${r.scenario}: ${r.title}${r.faults !== "no faults" ? `  [${r.faults}]` : ""}`,
    ...r.timeline,
    "",
    "  What the webhooks received:",
    ...(r.messages.length ? r.messages.flatMap((m) => m.split("\n").map((l) => `    ${l}`)) : ["    (nothing)"]),
    "",
    ...r.checks.map((c) => `  ${c.ok ? "✓" : "✗"} ${c.name}${!c.ok && c.detail ? ` — got: ${c.detail}` : ""}`),
    `  ${r.invariants.every((v) => v.held) ? "✓" : "✗"} invariants: ${r.invariants.filter((v) => v.held).length} of ${r.invariants.length} held${r.invariants
      .filter((v) => !v.held)
      .map((v) => `\n    ✗ ${v.invariant}. ${v.name}: ${v.detail}`)
      .join("")}`,
    ...(r.error ? [`  ✗ ${r.error}`] : []),
    `  (${r.stats.virtualMinutes} min of sandbox time in ${(r.stats.realMs / 1000).toFixed(1)} s; ${r.stats.invocations} invocations; ${Object.values(r.stats.calls).reduce((a, b) => a + b, 0)} AWS calls${r.stats.deadLetters ? `; ${r.stats.deadLetters} in the dead-letter queue` : ""})`,
    "",
  ];
  return lines.join("\n");
}

runMain(main);
