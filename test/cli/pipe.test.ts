// The CLI as a shell runs it, its output piped into a reader that stops early (`| head -1`).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeLargeConfig } from "../support/large-config";

describe("stevedore validate | head -1", () => {
  let dir: string;
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("stops quietly when the reader closes the pipe", () => {
    // 200 services: some 40 kB of output, most of it written after head has gone.
    dir = mkdtempSync(join(tmpdir(), "stevedore-pipe-"));
    const run = spawnSync("bash", ["-c", "set -o pipefail; npx tsx cli/stevedore.ts validate | head -1"], {
      env: { ...process.env, STEVEDORE_CONFIG: writeLargeConfig(dir) },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stdout).toMatch(/stevedore\.yml: valid\n$/);
    expect(run.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(run.status).toBe(0);
  }, 90_000);
});
