// `npm run bench`: every benchmark in one run, each section's table printed as it finishes, and
// the same figures written to bench/results.json.
//
//   npx tsx bench/run.ts                         everything (about 8–10 minutes on 2 cores)
//   npx tsx bench/run.ts --only deployment       one section (repeatable); writes .build/bench/results-<sections>.json
//   npx tsx bench/run.ts --only fanout --sizes 1,10    the fan-out for these sizes only
//
// Sections: bundle (fresh-process imports of the bundles), deployment (one deployment, push to
// verified, against two polling deployers), rollback (alarm → rollback call), throughput (push
// events per second through one container), fanout (one push to 1…200 services; last, longest).
// Every world runs alone in a worker thread (bench/threads.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Prepared } from "../sandbox/run";
import { benchDetails, bundleTable, TARGETS as BUNDLE_TARGETS } from "./bundle";
import { benchDeployment, deploymentTable } from "./deployment";
import { benchFanout, fanoutTable, SIZES } from "./fanout";
import { benchRollback, rollbackTable } from "./rollback";
import { section, table, verdict } from "./table";
import { BUILD_DIR, prepareBench } from "./threads";
import { benchThroughput, throughputTable } from "./throughput";

const ROOT = resolve(import.meta.dirname, "..");
/** In the order they run: the fan-out last, as it takes longest. JSON keys follow KEYS. */
const ORDER = ["bundle", "deployment", "rollback", "throughput", "fanout"] as const;
const KEYS = ["bundle", "deployment", "rollback", "fanout", "throughput"] as const;
type Section = (typeof ORDER)[number];

const TITLES: Record<Section, string> = {
  bundle: "bundle: size and cold import of every function against the baseline",
  deployment: "deployment: one deployment, push to verified, against two polling deployers (5-min rollout)",
  rollback: "rollback: alarm event → rollback call",
  throughput: "throughput: push events per second, one handler process",
  fanout: "fanout: one push to many services (20 ms per call, RegisterTaskDefinition 1/s burst 20)",
};

/** Each section: its figures (for results.json) and its printed table. `sandbox` prepares it on first use. */
const SECTIONS: Record<Section, (sandbox: () => Promise<Prepared>, sizes: number[]) => Promise<{ figures: unknown; printed: string }>> = {
  bundle: async () => {
    const details = await benchDetails();
    const figures = {
      ...details.figures,
      ...(details.missing.length ? { missing: details.missing } : {}),
      ...(Object.keys(details.failed).length ? { failed: details.failed } : {}),
    };
    return { figures, printed: bundleTable(details) };
  },
  deployment: async (sandbox) => {
    const figures = await benchDeployment(await sandbox());
    return { figures, printed: deploymentTable(figures) };
  },
  rollback: async (sandbox) => {
    const figures = await benchRollback(await sandbox());
    return { figures, printed: rollbackTable(figures) };
  },
  throughput: async (sandbox) => {
    const figures = await benchThroughput(await sandbox());
    return { figures, printed: throughputTable(figures) };
  },
  fanout: async (sandbox, sizes) => {
    const figures = await benchFanout(await sandbox(), sizes);
    return { figures, printed: fanoutTable(figures) };
  },
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: "string", multiple: true },
      sizes: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(`Usage: npx tsx bench/run.ts [--only ${ORDER.join("|")}]... [--sizes 1,10,50,200]`);
    return 0;
  }
  const only = (values.only ?? []).flatMap((o) => o.split(","));
  const unknown = only.filter((o) => !(ORDER as readonly string[]).includes(o));
  if (unknown.length) {
    console.error(`Unknown section: ${unknown.join(", ")} (sections: ${ORDER.join(", ")})`);
    return 2;
  }
  const sizes = values.sizes ? values.sizes.split(",").map(Number) : [...SIZES];
  const chosen = ORDER.filter((s) => only.length === 0 || only.includes(s));

  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", memoryBytes: totalmem(), platform: `${process.platform}-${process.arch}` };
  console.log(
    `Stevedore benchmarks: node ${process.version}, ${machine.cpus}× ${machine.model}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB; sections: ${chosen.join(", ")}`,
  );
  // Other processes on the machine skew wall-clock figures: the load average says whether there were any.
  const load: Record<string, number[]> = { before: loadavg().map((l) => Number(l.toFixed(2))) };
  console.log(`load average before: ${load.before?.join(", ")} (1, 5, 15 min; ${machine.cpus} cores)`);
  const started = Date.now();
  const results: Record<string, unknown> = {};
  let failed = false;
  let prepared: Prepared | undefined;
  const sandbox = async (): Promise<Prepared> => (prepared ??= await prepareBench());

  for (const name of chosen) {
    console.log(section(TITLES[name]));
    const t0 = Date.now();
    try {
      const { figures, printed } = await SECTIONS[name](sandbox, sizes);
      console.log(printed);
      results[name] = figures;
    } catch (error) {
      failed = true;
      console.log(`✗ ${name} failed: ${(error as Error).stack ?? String(error)}`);
      results[name] = { error: String((error as Error).message ?? error) };
    }
    load[name] = loadavg().map((l) => Number(l.toFixed(2)));
    console.log(`(${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s; load average after it ${load[name]?.join(", ")})`);
  }

  console.log(section("targets"));
  console.log(summary(results));

  const out = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    machine: { ...machine, loadAverage: load },
    ...Object.fromEntries(KEYS.filter((k) => k in results).map((k) => [k, results[k]])),
  };
  const partial = chosen.length < ORDER.length || sizes.join() !== SIZES.join();
  const file = partial ? join(BUILD_DIR, `results-${chosen.join("-")}.json`) : join(ROOT, "bench", "results.json");
  mkdirSync(BUILD_DIR, { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(
    `\nwrote ${relative(ROOT, file)}${partial ? " (a partial run: bench/results.json is written only by a full run)" : ""} after ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  return failed ? 1 : 0;
}

/** Every section's targets in one table: target, measured, verdict. */
function summary(results: Record<string, unknown>): string {
  const rows: string[][] = [["section", "target", "measured", "verdict"]];
  const bundle = results.bundle as { bundleRatioMax?: number; importRatioMax?: number } | undefined;
  if (bundle?.bundleRatioMax !== undefined && bundle.importRatioMax !== undefined) {
    rows.push([
      "bundle",
      `size ≤ ${BUNDLE_TARGETS.bytesRatio}×, import ≤ ${BUNDLE_TARGETS.importRatio}× the baseline (worst function)`,
      `${bundle.bundleRatioMax}× size, ${bundle.importRatioMax}× import`,
      verdict(bundle.bundleRatioMax <= BUNDLE_TARGETS.bytesRatio && bundle.importRatioMax <= BUNDLE_TARGETS.importRatio),
    ]);
  }
  const targets = (key: string): { target: string; measured: string; verdict: string }[] => {
    const value = results[key] as
      | { targets?: Record<string, { target: string; measured: string; verdict: string }>; target?: { target: string; measured: string; verdict: string } }
      | undefined;
    return value?.targets ? Object.values(value.targets) : value?.target ? [value.target] : [];
  };
  for (const key of ["deployment", "rollback", "fanout"]) for (const t of targets(key)) rows.push([key, t.target, t.measured, t.verdict]);
  const throughput = results.throughput as { eventsPerSecond?: number; burst?: { eventsPerSecond: number } } | undefined;
  if (throughput?.eventsPerSecond !== undefined) {
    rows.push([
      "throughput",
      "(no target) push events/s, one process",
      `${throughput.eventsPerSecond}/s sustained, ${throughput.burst?.eventsPerSecond}/s burst`,
      "—",
    ]);
  }
  for (const [key, value] of Object.entries(results)) {
    if ((value as { error?: string }).error) rows.push([key, "—", `failed: ${(value as { error: string }).error.split("\n")[0]}`, "ERROR"]);
  }
  return table(rows);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
