// examples/ is for people: the README tells them to edit it. So no test, scenario or bench may
// depend on what it says; the only checks that read it hold for any valid config (it compiles and
// reads back; it packages within AWS's quotas with a long stage).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const READERS_ALLOWED = ["test/config/compiled.test.ts", "test/infra/package.test.ts", "test/infra/examples.test.ts"];
const MENTION = /["'`/]examples["'`/]/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.(ts|mjs|cjs|js|ya?ml|json)$/.test(name) ? [path] : [];
  });
}

/** Files that name examples/ in code (a path or a path segment), with the first such line. */
function readersOf(dirs: string[]): string[] {
  return dirs.flatMap(filesUnder).flatMap((file) => {
    const line = readFileSync(file, "utf8")
      .split("\n")
      .find((l) => MENTION.test(l) && !/^\s*(\/\/|\*|#)/.test(l));
    return line === undefined ? [] : [`${file}: ${line.trim()}`];
  });
}

describe("examples/ is for people", () => {
  it("is read only by the checks that hold for any valid config", () => {
    const readers = readersOf(["test", "sandbox", "bench", "scripts", ".ci"]).filter((r) => !READERS_ALLOWED.some((allowed) => r.startsWith(`${allowed}:`)));
    expect(readers).toEqual([]);
  });

  it("would be caught if a test read it", () => {
    // The scan finds the readers there are (so an empty list above means something).
    expect(readersOf(["test/infra"]).map((r) => r.split(":")[0])).toEqual(expect.arrayContaining(["test/infra/package.test.ts"]));
    expect(MENTION.test('readFileSync("examples/stevedore.yml", "utf8")')).toBe(true);
    expect(MENTION.test('join(ROOT, "examples", "templates")')).toBe(true);
    expect(MENTION.test('resolve(__dirname, "../../examples")')).toBe(true);
    expect(MENTION.test("AWS's documented examples")).toBe(false);
  });
});
