import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  COMPILED_CONFIG_VARIABLE,
  COMPILED_FORMAT,
  compileConfig,
  getConfig,
  parseCompiledConfig,
  readCompiledConfig,
  writeCompiledConfig,
} from "../../shared/config/compiled";
import { loadConfig } from "../../shared/config/load";
import { ConfigError } from "../../shared/errors";
import { FIXTURE_CONFIG } from "../support/config";

const FIRING = "test/deploy/fixtures/refuse-when-firing.yml";
const LOADED = loadConfig(FIXTURE_CONFIG);
/** What the fixture config compiles to: the text each damaged copy starts from. */
const GOOD = compileConfig(LOADED);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "stevedore-compiled-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("compiling a config and reading it back", () => {
  // toEqual compares the tag patterns (RegExps) by source and flags.
  it.each([FIXTURE_CONFIG, FIRING, "examples/stevedore.yml"])("%s reads back to the loaded config, tag patterns included", (yaml) => {
    const config = loadConfig(yaml);
    expect(parseCompiledConfig(compileConfig(config), "compiled.json")).toEqual({ ...config, file: yaml });
  });

  it("names the file by the YAML and by its content, and writes the same content once", () => {
    const first = writeCompiledConfig(LOADED, dir);
    const second = writeCompiledConfig(LOADED, dir);
    expect(second).toBe(first);
    expect(first).toMatch(/stevedore-[0-9a-f]{12}\.json$/);
    expect(readFileSync(first, "utf8")).toBe(GOOD);
    expect(readdirSync(dir).filter((f) => f.startsWith("stevedore-"))).toHaveLength(1); // no partial files left
    expect(writeCompiledConfig(loadConfig(FIRING), dir)).not.toBe(first);
  });

  it("starts with a header naming the format, the YAML and the checksum", () => {
    const [header] = GOOD.split("\n");
    expect(JSON.parse(header as string)).toEqual({
      format: COMPILED_FORMAT,
      source: FIXTURE_CONFIG,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});

describe("a compiled config that must not run", () => {
  const refusals: [string, string, RegExp][] = [
    ["the YAML itself", readFileSync(FIXTURE_CONFIG, "utf8"), /not a compiled Stevedore config: functions read the file `osls package` compiles/],
    ["an empty file", "", /not a compiled Stevedore config/],
    ["a JSON header that is not ours", `{"name":"x"}\n{}`, /not a compiled Stevedore config/],
    ["a header that is JSON null", `null\n{}`, /not a compiled Stevedore config/],
    [
      "another format",
      GOOD.replace(COMPILED_FORMAT, "stevedore-compiled-config/0"),
      /compiled in format "stevedore-compiled-config\/0" \(compiled from sandbox\/fixtures\/stevedore\.yml\), but this function reads "stevedore-compiled-config\/1"/,
    ],
    [
      "a file cut off mid-way",
      GOOD.slice(0, 5000),
      /changed or cut off after it was compiled \(compiled from sandbox\/fixtures\/stevedore\.yml\): its checksum does not match/,
    ],
    ["a header alone", GOOD.split("\n")[0] as string, /changed or cut off after it was compiled/],
    ["a value edited by hand", GOOD.replace('"cpu":"512"', '"cpu":"4096"'), /changed or cut off after it was compiled/],
    ["a key edited by hand", GOOD.replace('"containerDefinitions"', '"containerDefinition"'), /changed or cut off after it was compiled/],
    ["a checksum edited to match nothing", GOOD.replace(/"sha256":"[0-9a-f]+"/, `"sha256":"${"0".repeat(64)}"`), /changed or cut off after it was compiled/],
  ];

  it.each(refusals)("refuses %s, naming the file and what to do", (_name, damaged, message) => {
    expect(damaged).not.toBe(GOOD);
    let error: unknown;
    try {
      parseCompiledConfig(damaged, "pkg/config.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^pkg\/config\.json is not a valid Stevedore config:\n/);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).retryable).toBe(false);
  });

  it("names a missing file and the variable that points at it", () => {
    expect(() => readCompiledConfig(join(dir, "missing.json"))).toThrow(
      /missing\.json is not a valid Stevedore config:\n {2}- cannot read it \(ENOENT\); STEVEDORE_COMPILED_CONFIG must name the compiled config/,
    );
  });
});

describe("getConfig: a function's config", () => {
  const before = process.env[COMPILED_CONFIG_VARIABLE];
  afterEach(() => {
    process.env[COMPILED_CONFIG_VARIABLE] = before;
  });

  it("reads the file STEVEDORE_COMPILED_CONFIG names, once per path", () => {
    const file = writeCompiledConfig(loadConfig(FIRING), join(dir, "get"));
    process.env[COMPILED_CONFIG_VARIABLE] = file;
    const first = getConfig();
    expect(first.file).toBe(FIRING);
    writeFileSync(file, "damaged after the cold start"); // read once: a running function keeps its config
    expect(getConfig()).toBe(first);
  });

  it("refuses to run without STEVEDORE_COMPILED_CONFIG", () => {
    delete process.env[COMPILED_CONFIG_VARIABLE];
    expect(() => getConfig()).toThrow(/STEVEDORE_COMPILED_CONFIG is not set: it names the compiled config `osls package` packs/);
  });
});
