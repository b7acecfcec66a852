// A job's progress line: to the main thread when in a worker, else to stderr.
import { parentPort } from "node:worker_threads";

export function progress(line: string): void {
  if (parentPort) parentPort.postMessage({ progress: line });
  else process.stderr.write(`  … ${line}\n`);
}
