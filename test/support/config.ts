// Handlers read the config compiled from the YAML (shared/config/compiled.ts), as `osls package`
// writes it: tests compile their YAML the same way and point the functions at it.
import { COMPILED_CONFIG_VARIABLE, writeCompiledConfig } from "../../shared/config/compiled";
import { loadConfig } from "../../shared/config/load";
import { WORLD_CONFIG } from "../../sandbox/stack";
import { dirname, join } from "node:path";

/**
 * The tests' own config and templates: the sandbox's world, which the scenarios name too.
 * examples/ is for people, who edit it; no test depends on what it says.
 */
export const FIXTURE_CONFIG = WORLD_CONFIG;
export const FIXTURE_TEMPLATES = join(dirname(WORLD_CONFIG), "templates");

const COMPILED_DIR = ".build/test/config";

/** Points the handlers of this test file at `yaml`, compiled. */
export function useConfig(yaml: string): void {
  process.env[COMPILED_CONFIG_VARIABLE] = writeCompiledConfig(loadConfig(yaml), COMPILED_DIR);
}
