// The entry of a benchmark worker thread (see threads.ts): runs one job against one world and
// posts the result back. Jobs are the world-side halves of the section files.
import { parentPort, workerData } from "node:worker_threads";
import { stevedoreJob } from "./deployment";
import { fanoutJob } from "./fanout";
import { pollerJob } from "./pollers";
import { rollbackJob } from "./rollback";
import { throughputJob } from "./throughput";

const JOBS: Record<string, (params: never) => Promise<unknown>> = {
  "deployment.stevedore": stevedoreJob,
  "deployment.poller": pollerJob,
  rollback: rollbackJob,
  fanout: fanoutJob,
  throughput: throughputJob,
};

const { job, params } = workerData as { job: string; params: never };
const run = JOBS[job];
(run ? run(params) : Promise.reject(new Error(`no job ${job}`))).then(
  (result) => parentPort?.postMessage({ result }),
  (error: unknown) => parentPort?.postMessage({ error: String((error as Error)?.stack ?? error) }),
);
