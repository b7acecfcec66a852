#!/usr/bin/env node
// Adds to package-lock.json the platform-specific optional packages that npm left out.
//
// Why: this machine's registry mirror lacks some other-platform binaries (e.g.
// @swc/core-darwin-arm64@1.16.22 answers 404). `npm install` then silently leaves them out of the
// lockfile, and `npm ci` refuses the lockfile ("Missing: … from lock file"), so a clean clone
// cannot install. The entries added here are what npm writes when it can fetch them: version,
// os/cpu/libc and `optional`. `npm ci` skips a package whose os/cpu do not match without
// fetching it, and on a machine they do match, the public registry serves it.
//
// Run after any `npm install` that touched the lockfile: node scripts/lockfile-platforms.mjs
import { readFileSync, writeFileSync } from "node:fs";

const FILE = "package-lock.json";
const lock = JSON.parse(readFileSync(FILE, "utf8"));
const packages = lock.packages;

/** `…-linux-arm-gnueabihf` → { os: linux, cpu: arm, libc: glibc }, from the binding's name. */
function platformOf(name) {
  const m = /-(darwin|linux|win32|freebsd|android|openharmony|sunos|aix)-(x64|arm64|arm|ia32|ppc64|s390x|riscv64|loong64)(?:-(\w+))?$/.exec(name);
  if (!m) return undefined;
  const [, os, cpu, abi = ""] = m;
  const libc = os === "linux" ? (abi.startsWith("musl") ? "musl" : abi.startsWith("gnu") ? "glibc" : undefined) : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
    const target = `${path ? `${path}/` : ""}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (packages[target] || packages[hoisted]) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(spec)) {
      console.warn(`skipped ${name}@${spec}: not a platform binding with an exact version`);
      continue;
    }
    packages[hoisted] = { version: spec, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added++;
  }
}

if (added > 0) {
  lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
  writeFileSync(FILE, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(`${FILE}: ${added} platform package(s) added`);
