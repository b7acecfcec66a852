#!/usr/bin/env node
// `npm test`: the type-check and every jest suite (unit, handler, infrastructure, end to end),
// then one closing line "N passed, N failed" for CI. Extra arguments go to jest.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const run = (cmd, args, env = {}) =>
  spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...env } }).status === 0;

let passed = 0;
let failed = 0;

console.log("── type-check (tsc --noEmit)");
if (run("npx", ["tsc", "--noEmit", "-p", "tsconfig.json"])) passed++;
else failed++;

const dir = mkdtempSync(join(tmpdir(), "stevedore-test-"));
const summary = join(dir, "summary.json");
console.log("── jest");
run("npx", ["jest", ...process.argv.slice(2)], { STEVEDORE_JEST_SUMMARY: summary });
try {
  const totals = JSON.parse(readFileSync(summary, "utf8"));
  passed += totals.passed;
  failed += totals.failed;
} catch {
  failed++; // jest died before reporting: that is a failure, not silence
}
rmSync(dir, { recursive: true, force: true });

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
