// Running worlds: resolve serverless.yml once (osls print), build the bundles once (the same
// esbuild settings as `osls package`), then play each requested scenario in its own worker.
import { mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, extname, join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import * as esbuild from "esbuild";
import type { Faults, Injected } from "./faults";
import type { Verdict } from "./invariants";
import type { Check } from "./scenarios";
import type { StateChange } from "./world";
import { resolveStack, type ResolvedStack, WORLD_CONFIG } from "./stack";

export interface RunRequest {
  scenario: string;
  faults?: Faults;
  logLevel?: string;
  slackUrl?: string;
  /** See WorldOptions.timeoutMs (sandbox ms). */
  timeoutMs?: number;
}

export interface RunResult {
  scenario: string;
  title: string;
  faults: string;
  ok: boolean;
  error?: string;
  checks: Check[];
  invariants: Verdict[];
  timeline: string[];
  /** Each record's statuses in order, with their sandbox times. */
  states: StateChange[];
  messages: string[];
  stats: { realMs: number; virtualMinutes: number; calls: Record<string, number>; invocations: number; deadLetters: number; injected?: Injected };
}

export interface Prepared {
  stack: ResolvedStack;
  bundles: Record<string, string>;
  /** The thread entry's code, bundled: what each worker runs (sandbox/world-thread.ts by default). */
  thread: string;
}

const ROOT = process.cwd();

/**
 * serverless.yml resolved by osls, every function bundled as for Lambda, and the code of the
 * worker threads (`threadEntry`, relative to the project) bundled too: worker threads then run
 * plain JavaScript, with no TypeScript loader hooks in the way of the function bundles (through
 * tsx's hooks a cold import took 4× longer).
 */
export async function prepare(configFile = WORLD_CONFIG, threadEntry = join("sandbox", "world-thread.ts")): Promise<Prepared> {
  const stack = resolveStack(configFile);
  const require = createRequire(join(ROOT, "package.json"));
  const { esbuildOptions } = require("./build/esbuild.cjs") as { esbuildOptions: esbuild.BuildOptions };
  const outdir = resolve(ROOT, ".build", "sandbox", `run-${process.pid}`);
  mkdirSync(outdir, { recursive: true });
  process.once("exit", () => rmSync(outdir, { recursive: true, force: true }));
  const entries = Object.fromEntries(Object.entries(stack.functions).map(([name, fn]) => [name, fn.handler.replace(/\.handler$/, ".ts")]));
  const threadName = basename(threadEntry, extname(threadEntry));
  await Promise.all([
    esbuild.build({ ...esbuildOptions, entryPoints: entries, outdir: join(outdir, "functions"), absWorkingDir: ROOT, logLevel: "error" }),
    esbuild.build({
      entryPoints: { [threadName]: join(ROOT, threadEntry) },
      outdir,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      packages: "external",
      absWorkingDir: ROOT,
      logLevel: "error",
    }),
  ]);
  return {
    stack,
    bundles: Object.fromEntries(Object.keys(entries).map((name) => [name, join(outdir, "functions", `${name}.mjs`)])),
    thread: join(outdir, `${threadName}.mjs`),
  };
}

export interface ThreadOptions {
  /** Prefixed to its errors. */
  name?: string;
  /** Where the thread's `{ progress }` messages go. */
  onProgress?: (line: string) => void;
  /** The thread's Node flags; by default the main thread's. */
  execArgv?: string[];
  /** The thread's stdout (the functions' log lines) to stderr, leaving stdout to the report. */
  stdoutToStderr?: boolean;
}

/**
 * Runs a bundled thread (Prepared's `thread`) with `workerData` in a fresh worker; resolves the
 * `{ result }` it posts, rejects on its `{ error }`, or if it exits without answering.
 */
export function inThread<R>(file: string, workerData: unknown, options: ThreadOptions = {}): Promise<R> {
  const prefix = options.name ? `${options.name}: ` : "";
  return new Promise<R>((resolvePromise, reject) => {
    const worker = new Worker(file, {
      workerData,
      env: { ...process.env },
      ...(options.execArgv ? { execArgv: options.execArgv } : {}),
      ...(options.stdoutToStderr ? { stdout: true, stderr: false } : {}),
    });
    // Written through, not piped: a pipe would leave its listeners on stderr after each thread.
    if (options.stdoutToStderr) worker.stdout.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    let settled = false;
    worker.on("message", (message: { progress?: string; result?: R; error?: string }) => {
      if (message.progress !== undefined) {
        options.onProgress?.(message.progress);
        return;
      }
      settled = true;
      void worker.terminate();
      if (message.error !== undefined) reject(new Error(`${prefix}${message.error}`));
      else resolvePromise(message.result as R);
    });
    worker.once("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`${prefix}the worker exited with code ${code} before answering`));
    });
  });
}

/** Runs a command-line entry point: its exit code, or 1 after printing what it threw. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

export function runWorld(request: RunRequest, prepared: Prepared): Promise<RunResult> {
  // The functions' log lines go to stderr: stdout is the report (or its JSON).
  return inThread(prepared.thread, { request, stack: prepared.stack, bundles: prepared.bundles }, { stdoutToStderr: true });
}
