#!/usr/bin/env node
// `npm test`: the type-check, the formatter and linter (Biome, biome.jsonc), every jest suite (unit, handler, infrastructure, end to end,
// hostile input), then the fault matrix (each scenario × fault cell counts as one test), and one
// closing line "N passed, N failed" for CI. Extra arguments go to jest and skip the matrix.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const run = (cmd, args, env = {}) => spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...env } }).status === 0;

let passed = 0;
let failed = 0;

console.log("── type-check (npm run typecheck: the product, the sandbox, the tests, the benches, each its own project)");
if (run("npm", ["run", "--silent", "typecheck"])) passed++;
else failed++;

console.log("── format and lint (biome ci)");
if (run("npx", ["biome", "ci", "--colors=off"])) passed++;
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

// The matrix runs after jest, with the machine to itself: its worlds run many at a time, and
// sharing two cores with jest would only make the whole run longer.
if (process.argv.length <= 2) {
  console.log("── fault matrix (npm run test:faults)");
  const matrix = spawnSync("npx", ["tsx", "sandbox/matrix.ts", "--json"], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  try {
    const { cells, table } = JSON.parse(matrix.stdout);
    console.log(table);
    passed += cells.filter((c) => c.held).length;
    failed += cells.filter((c) => !c.held).length;
  } catch {
    console.log(matrix.stdout?.slice(-4000) ?? "");
    failed++; // the matrix died before reporting
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
