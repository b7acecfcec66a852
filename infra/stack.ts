// What the stack needs to know about the pipeline config, computed offline when osls resolves
// `${file(./infra/stack.cjs):…}` in serverless.yml: the region, the EventBridge patterns
// (infra/patterns.ts), a role per function (infra/iam.ts) and the compiled config every package
// carries (shared/config/compiled.ts). The config is loaded by our own loader, so a config that
// fails `npm run validate` fails `osls package` and `osls deploy` with the same message.
import { join, relative, sep } from "node:path";
import { configPath, loadConfig } from "../shared/config/load";
import { writeCompiledConfig } from "../shared/config/compiled";
import type { PipelineConfig } from "../shared/config/model";
import { StackError } from "./errors";
import { rolesOf, type RoleSize } from "./iam";
import { inventoryOf, type Inventory } from "./inventory";
import { patternsOf, type Patterns } from "./patterns";
import { patternLength } from "./quotas";
import { resolve } from "./template";

// Loaded as CommonJS (by infra/stack.cjs through tsx, and by jest), so __dirname is defined.
const SERVICE_DIR = join(__dirname, "..");
/** Where the compiled config is written for packaging (ignored by git, like all build output). */
const COMPILED_DIR = join(SERVICE_DIR, ".build", "config");

/** serverless.yml's service and its default stage (`${opt:stage, 'dev'}`). */
const SERVICE = "stevedore";
const DEFAULT_STAGE = "dev";

export interface StackOptions {
  region?: string;
  stage?: string;
}

export interface Stack extends Patterns {
  region: string;
  deadLetterRulePrefix: string;
  compiledConfigPath: string;
  packagePatterns: string[];
  /** For serverless.yml's `resources`: each function's role and its managed policies. */
  roles: { Resources: Record<string, unknown> };
  /** What everything was derived from, and the sizes AWS will count: for tests and `osls print`. */
  resolved: Inventory;
  sizes: { roles: RoleSize[]; patterns: Record<string, number> };
}

function loadPipeline(path: string): PipelineConfig {
  try {
    return loadConfig(path);
  } catch (error) {
    // ConfigError lists every problem with its file and path: exactly what the user must see.
    if (error instanceof Error && error.name === "ConfigError") throw new StackError(error.message);
    throw error;
  }
}

/** The stack's region: the one region every target lives in (loadConfig refuses several). */
function stackRegion(inventory: Inventory, requested: string | undefined, file: string): string {
  if (requested && requested !== inventory.region) {
    throw new StackError(
      `--region ${requested} does not match ${file}, whose targets are all in ${inventory.region}: EventBridge ` +
        `would never deliver their events to a stack in ${requested}. Deploy to ${inventory.region}.`,
    );
  }
  return inventory.region;
}

/**
 * What the names of this stack's EventBridge rules all start with, for the dead-letter queue's
 * policy. osls names a rule `<service>-<stage>-<function>-rule-<n>`, and a name over 64
 * characters (a stage of 26 or more) becomes its first 25 characters and an md5
 * (osls: event-bridge/utils.js, hashName): the first 25 characters of `<service>-<stage>-` are
 * what every rule name keeps, hashed or not.
 */
export function ruleNamePrefix(stage: string): string {
  return `${SERVICE}-${stage}-`.slice(0, 25);
}

export function computeStack(options: StackOptions = {}): Stack {
  const config = loadPipeline(configPath());
  const file = relative(process.cwd(), config.file) || config.file;
  const inventory = inventoryOf(config, file);
  const region = stackRegion(inventory, options.region, file);
  const stage = options.stage ?? DEFAULT_STAGE;

  // Functions read the config compiled from what was just validated: the templates are inside
  // it, so the package carries that one file.
  const compiledFile = relative(SERVICE_DIR, writeCompiledConfig(config, COMPILED_DIR, SERVICE_DIR))
    .split(sep)
    .join("/");
  const { patterns, enabled } = patternsOf(inventory);
  const roles = rolesOf(inventory, stage);

  return {
    region,
    deadLetterRulePrefix: ruleNamePrefix(stage),
    compiledConfigPath: compiledFile,
    packagePatterns: ["!**", compiledFile],
    patterns,
    enabled,
    roles: { Resources: roles.resources },
    resolved: inventory,
    sizes: {
      roles: roles.sizes,
      patterns: Object.fromEntries(Object.entries(patterns).map(([name, p]) => [name, patternLength(resolve(p, { region, values: {} }))])),
    },
  };
}
