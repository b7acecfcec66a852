// Worlds run in worker threads, one at a time: a World sets process.env for its functions (the
// endpoint of its local AWS), and a worker has its own copy of it. The worker runs plain
// JavaScript (bench/worker.ts bundled by esbuild, packages left external) with no TypeScript
// loader hooks, so the function bundles are imported the way Lambda's runtime imports them.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type { Prepared } from "../sandbox/run";

const ROOT = resolve(import.meta.dirname, "..");
export const BUILD_DIR = join(ROOT, ".build", "bench");

let built: Promise<string> | undefined;

function buildWorker(): Promise<string> {
  built ??= (async () => {
    const esbuild = await import("esbuild");
    mkdirSync(BUILD_DIR, { recursive: true });
    const outfile = join(BUILD_DIR, `worker-${process.pid}.mjs`);
    await esbuild.build({
      entryPoints: [join(ROOT, "bench", "worker.ts")],
      outfile, bundle: true, format: "esm", platform: "node", target: "node20",
      packages: "external", absWorkingDir: ROOT, logLevel: "error",
    });
    const { rmSync } = await import("node:fs");
    process.once("exit", () => rmSync(outfile, { force: true }));
    return outfile;
  })();
  return built;
}

export interface JobContext {
  stack: Prepared["stack"];
  bundles: Prepared["bundles"];
}

/** Runs `job` (see bench/worker.ts) in a fresh worker thread; `progress` gets its progress lines. */
export async function inWorker<P extends object, R>(job: string, params: P, progress?: (line: string) => void): Promise<R> {
  const file = await buildWorker();
  return new Promise<R>((resolvePromise, reject) => {
    const worker = new Worker(file, {
      workerData: { job, params },
      // No tsx hooks in the worker: the bundles must load as plain ESM, as in Lambda.
      execArgv: [],
      env: { ...process.env },
    });
    let settled = false;
    worker.on("message", (message: { progress?: string; result?: R; error?: string }) => {
      if (message.progress !== undefined) {
        progress?.(message.progress);
        return;
      }
      settled = true;
      void worker.terminate();
      if (message.error !== undefined) reject(new Error(`${job}: ${message.error}`));
      else resolvePromise(message.result as R);
    });
    worker.once("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`${job}: the worker exited with code ${code} before answering`));
    });
  });
}
