// `osls` as the tests run it: offline, with no profile and no keys, and a scratch folder of its
// own for serverless-esbuild so that concurrent packagings never share one.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";

const ROOT = process.cwd();

/** Runs osls offline: no profile, no keys, our own scratch folder for serverless-esbuild. */
export function osls(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
  ])
    delete childEnv[name];
  if (!env.STEVEDORE_CONFIG) delete childEnv.STEVEDORE_CONFIG;
  childEnv.STEVEDORE_ESBUILD_WORK_FOLDER = `.esbuild/test-${process.pid}-${Date.now()}`;
  childEnv.SLS_TELEMETRY_DISABLED = "1";
  return spawnSync("npx", ["osls", ...args], { cwd: ROOT, env: childEnv, encoding: "utf8", timeout: 150_000 });
}
