// The fault matrix: every scenario under every fault the sandbox can inject, one at a time and
// a few combined. A cell holds when the scenario ends as it does without faults (its checks) and
// all six invariants hold; it is broken otherwise. Prints scenario × fault → held/broken and the
// totals, and exits non-zero on any broken cell.
//
//   npm run test:faults                       the whole matrix
//   npm run test:faults -- --fault crash      one column (or --scenario NAME for one row)
//   npm run test:faults -- --json             the cells and the printed matrix as JSON (npm test reads it)
//   npm run test:faults -- --load 2           the same with two CPU-bound processes beside it: the
//                                             verdict must not change (sandbox time waits for the work)
import { spawn, type ChildProcess } from "node:child_process";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { MINUTE, SECOND } from "./clock";
import { FAULTS, strikesOf, type Faults, type Injected } from "./faults";
import { prepare, runMain, runWorld, type RunResult } from "./run";
import { SCENARIOS } from "./scenarios";

/**
 * The columns: each fault alone, then three combinations. A claim's lease is its invocation's
 * deadline: where functions crash, they time out sooner (as a team would set it), so that a
 * crashed claim is resumed well within a deployment's deadline; where AWS makes the SDK back off
 * (throttling, 5xx), a Lambda may wait it out for its whole 900-second timeout.
 */
export interface Column {
  faults: Faults;
  /** A function's timeout in sandbox ms (default 10 minutes; see WorldOptions.timeoutMs). */
  timeoutMs?: number;
}

export const MATRIX_FAULTS: Record<string, Column> = {
  none: { faults: {} },
  latency: { faults: FAULTS.latency as Faults },
  throttling: { faults: FAULTS.throttling as Faults, timeoutMs: 15 * MINUTE },
  "5xx": { faults: FAULTS["server-errors"] as Faults, timeoutMs: 15 * MINUTE },
  duplicates: { faults: FAULTS.duplicates as Faults },
  reordered: { faults: FAULTS.reordering as Faults },
  late: { faults: FAULTS["late-events"] as Faults },
  "webhook down": { faults: FAULTS["webhook-down"] as Faults },
  "webhook slow": { faults: FAULTS["webhook-slow"] as Faults },
  crash: { faults: FAULTS.crash as Faults, timeoutMs: 150 * SECOND },
  "crash after register": { faults: FAULTS["crash-after-register"] as Faults, timeoutMs: 150 * SECOND },
  "crash-after-update": { faults: FAULTS["crash-after-update"] as Faults, timeoutMs: 150 * SECOND },
  conflicts: { faults: FAULTS["dynamodb-conflicts"] as Faults },
  "transaction-conflict": { faults: FAULTS["transaction-conflict"] as Faults, timeoutMs: 15 * MINUTE },
  "dup+reorder+latency": { faults: { ...FAULTS.duplicates, ...FAULTS.reordering, ...FAULTS.latency, seed: 17 } },
  "throttle+5xx+crash": { faults: FAULTS["throttle+5xx+crash"] as Faults, timeoutMs: 5 * MINUTE },
  // The outage lasts longer here: a late push event can come after an 8-minute one is over.
  "late+webhook+conflicts": { faults: { ...FAULTS["late-events"], webhookDownMs: 24 * 60_000, ...FAULTS["dynamodb-conflicts"], seed: 23 } },
};

export const MATRIX_SCENARIOS = SCENARIOS.map((s) => s.name);
const LONG = ["promote", "fan-out", "race"];

export interface Cell {
  scenario: string;
  fault: string;
  held: boolean;
  realSeconds: number;
  /** What broke: failed checks, broken invariants, an error, a fault that never struck. */
  broken: string[];
  /** How often each fault struck in this cell's world. */
  injected?: Injected;
}

export async function runMatrix(
  scenarios = MATRIX_SCENARIOS,
  faults = Object.keys(MATRIX_FAULTS),
  concurrency = defaultConcurrency(),
  onCell?: (cell: Cell) => void,
): Promise<Cell[]> {
  const prepared = await prepare();
  // Longest first, so the run does not end on one long cell.
  const queue = scenarios
    .flatMap((scenario) => faults.map((fault) => ({ scenario, fault })))
    .sort((a, b) => Number(LONG.includes(b.scenario)) - Number(LONG.includes(a.scenario)));
  const cells: Cell[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { scenario, fault } = next;
      const started = Date.now();
      const column = MATRIX_FAULTS[fault] as Column;
      // The functions' own logs stay quiet: a broken cell says what broke, and the bad-input
      // scenarios log errors by design. `npm run demo -- --run S:F --verbose` shows them.
      const result = await runWorld({ scenario, faults: column.faults, timeoutMs: column.timeoutMs, logLevel: "SILENT" }, prepared).catch(
        (error: unknown) => ({ error: String((error as Error).message ?? error) }) as RunResult,
      );
      const cell: Cell = {
        scenario,
        fault,
        held: result.ok === true,
        realSeconds: Math.round((Date.now() - started) / 100) / 10,
        broken: brokenParts(result),
        injected: result.stats?.injected,
      };
      cells.push(cell);
      onCell?.(cell);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return withStrikesChecked(cells);
}

/**
 * A column whose fault never struck proves nothing: each fault must show in the counters of at
 * least one of its cells (bad-input scenarios make few calls, so the column, not each cell).
 * Judged on whole columns only: one scenario alone may well not meet a fault.
 */
function withStrikesChecked(cells: Cell[]): Cell[] {
  for (const fault of Object.keys(MATRIX_FAULTS)) {
    const mine = cells.filter((c) => c.fault === fault);
    if (mine.length < MATRIX_SCENARIOS.length) continue;
    const missed = Object.entries(strikesIn(cells, fault))
      .filter(([, n]) => n === 0)
      .map(([counter]) => counter);
    if (missed.length === 0) continue;
    for (const cell of mine) {
      cell.held = false;
      cell.broken.push(`the fault never struck in this column (no ${missed.join(", ")})`);
    }
  }
  return cells;
}

/** How often each counter of a column's fault moved, summed over the column's cells. */
function strikesIn(cells: Cell[], fault: string): Record<string, number> {
  const mine = cells.filter((c) => c.fault === fault);
  return Object.fromEntries(
    strikesOf(MATRIX_FAULTS[fault]?.faults ?? {}).map((counter) => [counter, mine.reduce((n, c) => n + (c.injected?.[counter] ?? 0), 0)]),
  );
}

function brokenParts(r: RunResult): string[] {
  return [
    ...(r.error ? [`error: ${r.error}`] : []),
    ...(r.checks ?? []).filter((c) => !c.ok).map((c) => `check "${c.name}": ${c.detail ?? ""}`),
    ...(r.invariants ?? []).filter((v) => !v.held).map((v) => `invariant ${v.invariant} (${v.name}): ${v.detail}`),
  ];
}

/** Worlds mostly wait on sandbox time: three per core keep the machine busy, not swamped. */
function defaultConcurrency(): number {
  return Math.max(2, cpus().length * 3);
}

export function renderMatrix(cells: Cell[], scenarios: string[], faults: string[]): string {
  const width = Math.max(...scenarios.map((s) => s.length));
  const header = `${"".padEnd(width)}  ${faults.map((f, i) => String(i + 1).padStart(2)).join(" ")}`;
  const rows = scenarios.map(
    (s) =>
      `${s.padEnd(width)}  ${faults
        .map((f) => {
          const cell = cells.find((c) => c.scenario === s && c.fault === f);
          return (cell ? (cell.held ? "✓" : "✗") : "·").padStart(2);
        })
        .join(" ")}`,
  );
  // Beside each fault, how often it struck over its column: a fault that never struck proves nothing.
  const struck = (f: string) => {
    const strikes = Object.values(strikesIn(cells, f));
    return strikes.length ? ` (${strikes.reduce((a, b) => a + b, 0)}×)` : "";
  };
  const legend = faults.map((f, i) => `${String(i + 1).padStart(2)} ${f}${struck(f)}`);
  const held = cells.filter((c) => c.held).length;
  const broken = cells.filter((c) => !c.held);
  return [
    header,
    ...rows,
    "",
    "Faults (how often each struck over its column):",
    ...chunk(legend, 3).map((l) => `  ${l.map((x) => x.padEnd(36)).join("")}`),
    "",
    `${cells.length} cells: ${held} held, ${broken.length} broken`,
    ...broken.flatMap((c) => [`✗ ${c.scenario} × ${c.fault}:`, ...c.broken.map((b) => `    ${b}`)]),
  ].join("\n");
}

function chunk<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", multiple: true },
      fault: { type: "string", multiple: true },
      concurrency: { type: "string" },
      load: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const scenarios = values.scenario ?? MATRIX_SCENARIOS;
  const faults = values.fault ?? Object.keys(MATRIX_FAULTS);
  const unknown = [...scenarios.filter((s) => !MATRIX_SCENARIOS.includes(s)), ...faults.filter((f) => !(f in MATRIX_FAULTS))];
  if (unknown.length > 0) {
    console.error(`Unknown: ${unknown.join(", ")}. Scenarios: ${MATRIX_SCENARIOS.join(", ")}. Faults: ${Object.keys(MATRIX_FAULTS).join(", ")}`);
    return 2;
  }
  const load = Number(values.load ?? 0);
  if (!Number.isInteger(load) || load < 0 || load > 64) {
    console.error(`--load takes a number of CPU-bound processes to run beside the matrix (0 to 64); got ${values.load}`);
    return 2;
  }
  const started = Date.now();
  const say = values.json ? console.error : console.log; // under --json, stdout is the result
  say(
    `The fault matrix: ${scenarios.length} scenarios × ${faults.length} faults, each cell its own sandbox world${load ? `, beside ${load} CPU-bound process${load > 1 ? "es" : ""}` : ""}…`,
  );
  const burners = startLoad(load);
  let cells: Cell[];
  try {
    cells = await runMatrix(scenarios, faults, values.concurrency ? Number(values.concurrency) : undefined, (cell) => {
      say(`  ${cell.held ? "✓" : "✗"} ${cell.scenario} × ${cell.fault} (${cell.realSeconds} s)`);
    });
  } finally {
    stopLoad(burners);
  }
  if (values.json) console.log(JSON.stringify({ cells, table: renderMatrix(cells, scenarios, faults) }));
  else console.log(`\n${renderMatrix(cells, scenarios, faults)}\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return cells.every((c) => c.held) ? 0 : 1;
}

/**
 * `count` processes that keep a core busy each (the machine's other work, made certain), until
 * stopLoad or the end of this process.
 */
export function startLoad(count: number): ChildProcess[] {
  const burners = Array.from({ length: count }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  process.once("exit", () => stopLoad(burners));
  return burners;
}

export function stopLoad(burners: ChildProcess[]): void {
  for (const burner of burners) if (burner.exitCode === null) burner.kill("SIGKILL");
}

if (process.argv[1]?.endsWith("matrix.ts")) {
  runMain(main);
}
