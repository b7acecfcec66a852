// Worlds run in worker threads, one at a time: a World sets process.env for its functions (the
// endpoint of its local AWS), and a worker has its own copy of it. The worker runs plain
// JavaScript (bench/worker.ts, bundled by sandbox/run.ts's prepare, packages left external) with
// no TypeScript loader hooks, so the function bundles are imported the way Lambda's runtime
// imports them.
import { join, resolve } from "node:path";
import { inThread, prepare, type Prepared } from "../sandbox/run";
import { progress } from "./progress";

const ROOT = resolve(import.meta.dirname, "..");
export const BUILD_DIR = join(ROOT, ".build", "bench");

/** What a job gets of the prepared sandbox. */
export type JobContext = Pick<Prepared, "stack" | "bundles">;

/** The sandbox prepared for the benchmarks: the functions bundled, and bench/worker.ts as the thread. */
export function prepareBench(): Promise<Prepared> {
  return prepare(undefined, join("bench", "worker.ts"));
}

/** Runs `job` (see bench/worker.ts) in a fresh worker thread; its progress lines go to progress(). */
export function inWorker<P extends object, R>(prepared: Prepared, job: string, params: P): Promise<R> {
  // No tsx hooks in the worker: the bundles must load as plain ESM, as in Lambda.
  return inThread<R>(prepared.thread, { job, params }, { name: job, execArgv: [], onProgress: progress });
}
