// Bundle size and import time of every Lambda, against a baseline: the smallest useful
// function (ECSClient + UpdateServiceCommand, client made at module scope). All bundles are
// built in the same run with build/esbuild.cjs — the exact settings `osls package` uses — and
// imported in fresh Node processes, interleaved so that machine noise hits every bundle alike.
//
//   npm run bench -- --only bundle   this section alone (bench/run.ts runs and records it)
//
// Targets: size ≤ 1.3×, import ≤ 1.2× the baseline as issue #2 defines it: ECSClient +
// UpdateServiceCommand bundled with the same esbuild flags (ESM, minified, SDK bundled,
// main-fields module,main), i.e. the SDK's standard credential chain. Our bundles also swap that
// chain for a Lambda-only one (build/esbuild.cjs); the same swap applied to the baseline is
// shown beside it, with its ratios, so nobody mistakes where the margin comes from.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { BuildOptions, Metafile } from "esbuild";
import * as esbuild from "esbuild";
import { median, round } from "./probe";
import { table } from "./table";

const require = createRequire(import.meta.url);
const { esbuildOptions } = require("../build/esbuild.cjs") as { esbuildOptions: BuildOptions };

const ROOT = resolve(import.meta.dirname, "..");

/** Every function of serverless.yml: functions/<name>.ts exporting `handler`. */
const FUNCTIONS = ["on-image-pushed", "on-build-finished", "on-deployment-changed", "on-alarm", "sweep", "notify", "promote", "on-approval"] as const;

export const TARGETS = { bytesRatio: 1.3, importRatio: 1.2 } as const;
const RUNS = 15;

const BASELINE_SOURCE = `
import { ECSClient, UpdateServiceCommand } from "@aws-sdk/client-ecs";
const client = new ECSClient({});
export const handler = async (event) => client.send(new UpdateServiceCommand(event));
`;

export interface BundleFigures {
  bytes: number;
  /** Median of `await import()` inside the child, in ms. */
  importMs: number;
  /** Median wall time of the whole child process (start, import, exit), in ms. */
  processMs: number;
}

export interface FunctionFigures extends BundleFigures {
  bytesRatio: number;
  importRatio: number;
  /** The same ratios against the baseline that also gets our Lambda credential chain. */
  bytesRatioShimmed: number;
  importRatioShimmed: number;
}

/** Per function figures under its name, plus the baselines and the worst ratios. */
export type BundleBench = Record<string, FunctionFigures> & {
  baseline: BundleFigures;
  baselineShimmed: BundleFigures;
  bundleRatioMax: number;
  importRatioMax: number;
};

interface Built {
  name: string;
  file: string;
  bytes: number;
  metafile: Metafile;
}

/** Bundles `entry` to `outdir/name.mjs`, by default exactly as `osls package` bundles a function. */
export async function build(
  name: string,
  outdir: string,
  entry: { file: string } | { source: string },
  options: BuildOptions = esbuildOptions,
): Promise<Built> {
  const file = join(outdir, `${name}.mjs`);
  const { outExtension: _ignored, ...rest } = options;
  const result = await esbuild.build({
    ...rest,
    ...("file" in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.source, resolveDir: ROOT, sourcefile: `${name}.mjs`, loader: "js" } }),
    absWorkingDir: ROOT,
    outfile: file,
    metafile: true,
    write: true,
    logLevel: "silent",
  });
  return { name, file, bytes: statSync(file).size, metafile: result.metafile };
}

/** Imports a bundle in a fresh Node, the way Lambda's runtime does at cold start. */
function importOnce(file: string): { importMs: number; processMs: number } {
  const script = `
    const t0 = performance.now();
    try {
      await import(${JSON.stringify(pathToFileURL(file).href)});
      process.stdout.write(JSON.stringify({ importMs: performance.now() - t0 }));
    } catch (error) {
      process.stdout.write(JSON.stringify({ error: String(error && error.stack || error) }));
    }`;
  const started = performance.now();
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      // What Lambda would give the function; no credentials are needed to import.
      AWS_REGION: "eu-west-1",
      RECORDS_TABLE: "bench-records",
      LOG_LEVEL: "INFO",
      // The SDK warns on Node < 22 (Lambda runs 22); printing it would be measured too.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      NODE_NO_WARNINGS: "1",
    },
  });
  const processMs = performance.now() - started;
  const out = JSON.parse(child.stdout || "{}") as { importMs?: number; error?: string };
  if (out.importMs === undefined) throw new Error(`importing ${file} failed: ${out.error ?? child.stderr}`);
  return { importMs: out.importMs, processMs };
}

/** The packages contributing most bytes to a bundle: where to look when it is too big. */
function heaviest(metafile: Metafile, count = 5): string[] {
  const output = Object.values(metafile.outputs)[0];
  if (!output) return [];
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m ? (m[1] as string) : path.split("/").slice(0, 2).join("/");
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)} kB`);
}

export interface BenchDetails {
  figures: BundleBench;
  /** Functions with no functions/<name>.ts yet. */
  missing: string[];
  /** Functions whose bundle did not build, with esbuild's first line. */
  failed: Record<string, string>;
  heaviest: Record<string, string[]>;
}

export async function benchDetails(): Promise<BenchDetails> {
  const outdir = mkdtempSync(join(tmpdir(), "stevedore-bench-"));
  try {
    const present = FUNCTIONS.filter((name) => existsSync(join(ROOT, "functions", `${name}.ts`)));
    const missing = FUNCTIONS.filter((name) => !present.includes(name));
    const plainSdk: BuildOptions = { ...esbuildOptions, alias: {}, plugins: [] };
    const failed: Record<string, string> = {};
    const attempts = await Promise.all([
      build("baseline", outdir, { source: BASELINE_SOURCE }, plainSdk),
      build("baseline-shimmed", outdir, { source: BASELINE_SOURCE }, esbuildOptions),
      // A function mid-edit by someone else may not build: report it, measure the rest.
      ...present.map((name) =>
        build(name, outdir, { file: join(ROOT, "functions", `${name}.ts`) }, esbuildOptions).catch((error: unknown) => {
          failed[name] = String((error as Error).message ?? error).split("\n")[0] ?? "build failed";
          return null;
        }),
      ),
    ]);
    const built = attempts.filter((b): b is Built => b !== null);

    // Interleaved: run i imports every bundle once before run i+1 starts.
    const samples = new Map(built.map((b) => [b.name, { importMs: [] as number[], processMs: [] as number[] }]));
    importOnce(built[0]!.file); // warm the file cache and Node itself; not counted
    for (let run = 0; run < RUNS; run++) {
      for (const bundle of built) {
        const { importMs, processMs } = importOnce(bundle.file);
        samples.get(bundle.name)!.importMs.push(importMs);
        samples.get(bundle.name)!.processMs.push(processMs);
      }
    }
    const figuresOf = (b: Built): BundleFigures => ({
      bytes: b.bytes,
      importMs: round(median(samples.get(b.name)!.importMs), 2),
      processMs: round(median(samples.get(b.name)!.processMs), 2),
    });

    const [baselineBuilt, shimmedBuilt, ...functionBuilt] = built as [Built, Built, ...Built[]];
    const baseline = figuresOf(baselineBuilt);
    const baselineShimmed = figuresOf(shimmedBuilt);
    // Import ratios pair each run's import with the baseline's of the same run, then take the
    // median: the machine's drift between runs cancels out. (A ratio of the two medians swung
    // between 0.84× and 1.32× for one unchanged bundle over three runs here; paired, 0.98–1.13×.)
    const pairedRatio = (b: Built, against: Built) => {
      const theirs = samples.get(against.name)!.importMs;
      return round(median(samples.get(b.name)!.importMs.map((ms, run) => ms / theirs[run]!)), 3);
    };
    const figures = { baseline, baselineShimmed, bundleRatioMax: 0, importRatioMax: 0 } as BundleBench;
    for (const b of functionBuilt) {
      const f = figuresOf(b);
      const entry: FunctionFigures = {
        ...f,
        bytesRatio: round(f.bytes / baseline.bytes, 3),
        importRatio: pairedRatio(b, baselineBuilt),
        bytesRatioShimmed: round(f.bytes / baselineShimmed.bytes, 3),
        importRatioShimmed: pairedRatio(b, shimmedBuilt),
      };
      (figures as Record<string, FunctionFigures>)[b.name] = entry;
      figures.bundleRatioMax = Math.max(figures.bundleRatioMax, entry.bytesRatio);
      figures.importRatioMax = Math.max(figures.importRatioMax, entry.importRatio);
    }
    return { figures, missing, failed, heaviest: Object.fromEntries(functionBuilt.map((b) => [b.name, heaviest(b.metafile)])) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export function bundleTable(details: BenchDetails): string {
  const { figures, missing } = details;
  const { baseline, baselineShimmed } = figures;
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
  const rows: string[][] = [["bundle", "bytes", "size ×", "import ms", "import ×", "process ms", "verdict", "× shimmed baseline"]];
  // Import ratios are the paired ones the figures hold; none is paired between the two baselines.
  const row = (name: string, f: BundleFigures, verdict: string, importRatio?: number, importRatioShimmed?: number) =>
    rows.push([
      name,
      `${f.bytes} (${kb(f.bytes)})`,
      (f.bytes / baseline.bytes).toFixed(2),
      f.importMs.toFixed(1),
      importRatio?.toFixed(2) ?? "—",
      f.processMs.toFixed(1),
      verdict,
      `${(f.bytes / baselineShimmed.bytes).toFixed(2)} / ${importRatioShimmed?.toFixed(2) ?? "—"}`,
    ]);
  row("baseline (judged against)", baseline, "—", 1);
  row("baseline + our credential chain", baselineShimmed, "info only", undefined, 1);
  for (const name of FUNCTIONS) {
    const f = (figures as Record<string, FunctionFigures>)[name];
    if (!f) continue;
    const ok = f.bytesRatio <= TARGETS.bytesRatio && f.importRatio <= TARGETS.importRatio;
    const why = [
      f.bytesRatio > TARGETS.bytesRatio ? `size ${f.bytesRatio.toFixed(2)}× > ${TARGETS.bytesRatio}×` : "",
      f.importRatio > TARGETS.importRatio ? `import ${f.importRatio.toFixed(2)}× > ${TARGETS.importRatio}×` : "",
    ]
      .filter(Boolean)
      .join(", ");
    row(name, f, ok ? "PASS" : `FAIL (${why})`, f.importRatio, f.importRatioShimmed);
  }
  for (const name of missing) rows.push([name, "missing", "", "", "", "", `functions/${name}.ts does not exist`, ""]);
  for (const [name, error] of Object.entries(details.failed)) rows.push([name, "no bundle", "", "", "", "", `build failed: ${error}`, ""]);
  const notes = [
    "",
    `Targets: size ≤ ${TARGETS.bytesRatio}× and import ≤ ${TARGETS.importRatio}× the baseline: ECSClient + UpdateServiceCommand, same esbuild`,
    "flags (ESM, minified, SDK bundled, main-fields module,main), the SDK's standard credential chain.",
    `Our bundles swap that chain for a Lambda-only one (env, then container credentials), which saves ${kb(baseline.bytes - baselineShimmed.bytes)}`,
    `and ${(baseline.importMs - baselineShimmed.importMs).toFixed(1)} ms of import on the baseline itself; the last column compares against that leaner baseline (size / import).`,
    `Medians of ${RUNS} interleaved fresh-process imports; an import ratio is the median of each run's import over the baseline's`,
    `in the same run. Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}.`,
  ];
  const heavy = Object.entries(details.heaviest)
    .filter(([name]) => {
      const f = (figures as Record<string, FunctionFigures>)[name];
      return f && (f.bytesRatio > TARGETS.bytesRatio || f.importRatio > TARGETS.importRatio);
    })
    .map(([name, list]) => `  ${name}: ${list.join(", ")}`);
  if (heavy.length) notes.push("", "Largest contributors of the bundles over target:", ...heavy);
  return [table(rows), ...notes].join("\n");
}
