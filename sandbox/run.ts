// Running worlds: resolve serverless.yml once (osls print), build the bundles once (the same
// esbuild settings as `osls package`), then play each requested scenario in its own worker.
import { mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import * as esbuild from "esbuild";
import type { Faults, Injected } from "./faults";
import type { Verdict } from "./invariants";
import type { Check } from "./scenarios";
import { resolveStack, type ResolvedStack } from "./stack";

export interface RunRequest {
  scenario: string;
  faults?: Faults;
  scale?: number;
  logLevel?: string;
  slackUrl?: string;
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
  messages: string[];
  stats: { realMs: number; virtualMinutes: number; calls: Record<string, number>; invocations: number; deadLetters: number; injected?: Injected };
}

export interface Prepared {
  stack: ResolvedStack;
  bundles: Record<string, string>;
  /** The world's own code, bundled: what each worker runs. */
  worldThread: string;
}

const ROOT = process.cwd();

/**
 * serverless.yml resolved by osls, every function bundled as for Lambda, and the world's own
 * code bundled too: worker threads then run plain JavaScript, with no TypeScript loader hooks
 * in the way of the function bundles (through tsx's hooks a cold import took 4× longer).
 */
export async function prepare(configFile = process.env.STEVEDORE_CONFIG ?? "examples/stevedore.yml"): Promise<Prepared> {
  const stack = resolveStack(configFile);
  const require = createRequire(join(ROOT, "package.json"));
  const { esbuildOptions } = require("./build/esbuild.cjs") as { esbuildOptions: esbuild.BuildOptions };
  const outdir = resolve(ROOT, ".build", "sandbox", `run-${process.pid}`);
  mkdirSync(outdir, { recursive: true });
  process.once("exit", () => rmSync(outdir, { recursive: true, force: true }));
  const entries = Object.fromEntries(Object.entries(stack.functions).map(([name, fn]) => [name, fn.handler.replace(/\.handler$/, ".ts")]));
  await Promise.all([
    esbuild.build({ ...esbuildOptions, entryPoints: entries, outdir: join(outdir, "functions"), absWorkingDir: ROOT, logLevel: "error" }),
    esbuild.build({
      entryPoints: { "world-thread": join(ROOT, "sandbox", "world-thread.ts") },
      outdir, outExtension: { ".js": ".mjs" }, bundle: true, format: "esm", platform: "node", target: "node20",
      packages: "external", absWorkingDir: ROOT, logLevel: "error",
    }),
  ]);
  return {
    stack,
    bundles: Object.fromEntries(Object.keys(entries).map((name) => [name, join(outdir, "functions", `${name}.mjs`)])),
    worldThread: join(outdir, "world-thread.mjs"),
  };
}

export function runWorld(request: RunRequest, prepared: Prepared): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(prepared.worldThread, {
      workerData: { request, stack: prepared.stack, bundles: prepared.bundles },
      env: { ...process.env },
      // The functions' log lines go to stderr: stdout is the report (or its JSON).
      stdout: true,
      stderr: false,
    });
    // Written through, not piped: a pipe would leave its listeners on stderr after each world.
    worker.stdout.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    worker.once("message", (message: { result?: RunResult; error?: string }) => {
      void worker.terminate();
      if (message.result) resolvePromise(message.result);
      else reject(new Error(message.error));
    });
    worker.once("error", reject);
  });
}
