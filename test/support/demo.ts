// `npm run demo -- --json --run SCENARIO:FAULT …`, the very command a newcomer runs, as the
// end-to-end tests drive it: its results, and what it said on stderr for a failing test to show.
import { spawn } from "node:child_process";
import type { RunResult } from "../../sandbox/run";

export async function playDemo(runs: string[]): Promise<{ results: RunResult[]; log: string }> {
  const args = runs.flatMap((r) => ["--run", r.includes(":") ? r : `${r}:none`]);
  const { stdout, log } = await new Promise<{ stdout: string; log: string }>((resolve, reject) => {
    const child = spawn("npx", ["tsx", "sandbox/demo.ts", "--json", ...args], { env: { ...process.env, FORCE_COLOR: "0" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", () => resolve({ stdout: out, log: err }));
  });
  try {
    return { results: JSON.parse(stdout.slice(stdout.indexOf("["))) as RunResult[], log };
  } catch {
    throw new Error(`no results from the demo for ${runs.join(", ")}:\n${log.slice(-2000)}`);
  }
}
