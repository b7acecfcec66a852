// The pipeline config as the Lambda functions read it: compiled once, at package time, from the
// YAML that `osls package` has just validated (infra/stack.cjs), and shipped in every package.
//
// Why: parsing the YAML and re-running every check at each cold start costs ~10 ms, and bundling
// the YAML parser, the schema and the template checks ~7 ms more of import, on the path from an
// alarm to its rollback most of all (measured in bench/). Reading plain JSON takes ~0.1 ms.
//
// The file is a header line, then the config as JSON. The header names the format (a function
// refuses a file of another format, i.e. another Stevedore version), the YAML it came from (for
// messages) and the sha256 of the JSON: a function runs only a config the compiler wrote, so a
// file edited or cut off after packaging is refused, never half-read.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, extname, join, relative } from "node:path";
import { ConfigError } from "../errors";
import type { App, PipelineConfig } from "./model";

export const COMPILED_FORMAT = "stevedore-compiled-config/1";

interface Header {
  format: string;
  /** The YAML it was compiled from, relative to the project: what people edit. */
  source: string;
  sha256: string;
}

/** The model with its one non-JSON value (the tag pattern) as the pattern's source. */
type Serialized = Omit<PipelineConfig, "apps"> & { apps: (Omit<App, "tags"> & { tags: string | null })[] };

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** The compiled file's text for a loaded (hence validated) config. */
export function compileConfig(config: PipelineConfig, root: string = process.cwd()): string {
  const source = relative(root, config.file).split("\\").join("/") || config.file;
  const serialized: Serialized = {
    ...config,
    file: source,
    apps: config.apps.map((app) => ({ ...app, tags: app.tags?.source ?? null })),
  };
  const body = JSON.stringify(serialized);
  const header: Header = { format: COMPILED_FORMAT, source, sha256: sha256(body) };
  return `${JSON.stringify(header)}\n${body}\n`;
}

/**
 * Writes the compiled config under `dir`, named after its YAML and its content (so that
 * concurrent packagings of different configs never overwrite each other); returns its path.
 */
export function writeCompiledConfig(config: PipelineConfig, dir: string, root: string = process.cwd()): string {
  const text = compileConfig(config, root);
  const file = join(dir, `${basename(config.file, extname(config.file))}-${sha256(text).slice(0, 12)}.json`);
  mkdirSync(dir, { recursive: true });
  // Written aside, then renamed: a function reading it meanwhile sees the whole file or none.
  const partial = `${file}.${process.pid}-${randomBytes(4).toString("hex")}`;
  writeFileSync(partial, text);
  renameSync(partial, file);
  return file;
}

/** Parses a compiled config's text; `file` is only for messages. */
export function parseCompiledConfig(text: string, file: string): PipelineConfig {
  const newline = text.indexOf("\n");
  let header: Partial<Header> | undefined;
  try {
    header = JSON.parse(newline < 0 ? text : text.slice(0, newline)) as Partial<Header>;
  } catch {
    // reported below
  }
  if (typeof header !== "object" || header === null || typeof header.format !== "string") {
    throw new ConfigError(file, [
      "not a compiled Stevedore config: functions read the file `osls package` compiles from your YAML config, not the YAML itself; package again",
    ]);
  }
  const from = typeof header.source === "string" ? ` (compiled from ${header.source})` : "";
  if (header.format !== COMPILED_FORMAT) {
    throw new ConfigError(file, [
      `compiled in format "${header.format}"${from}, but this function reads "${COMPILED_FORMAT}": it was packaged by another Stevedore version; package again`,
    ]);
  }
  const body = text.slice(newline + 1).replace(/\n$/, "");
  if (sha256(body) !== header.sha256) {
    throw new ConfigError(file, [
      `changed or cut off after it was compiled${from}: its checksum does not match; edit the YAML and package again, never the compiled file`,
    ]);
  }
  const serialized = JSON.parse(body) as Serialized;
  return { ...serialized, apps: serialized.apps.map((app) => ({ ...app, tags: app.tags === null ? null : new RegExp(app.tags) })) };
}

export function readCompiledConfig(path: string): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [
      `cannot read it (${(error as NodeJS.ErrnoException | undefined)?.code ?? String(error)}); ${COMPILED_CONFIG_VARIABLE} must name the compiled config that \`osls package\` writes and packs (serverless.yml sets it)`,
    ]);
  }
  return parseCompiledConfig(text, path);
}

/**
 * The variable that names a function's compiled config (serverless.yml sets it). Not
 * STEVEDORE_CONFIG: that names the YAML, for the CLI and for `osls package`, which compiles it.
 */
export const COMPILED_CONFIG_VARIABLE = "STEVEDORE_COMPILED_CONFIG";

let cached: { path: string; config: PipelineConfig } | undefined;

/** The config of this function, read once (at cold start) from STEVEDORE_COMPILED_CONFIG. */
export function getConfig(): PipelineConfig {
  const path = process.env[COMPILED_CONFIG_VARIABLE];
  if (!path)
    throw new ConfigError("environment", [
      `${COMPILED_CONFIG_VARIABLE} is not set: it names the compiled config \`osls package\` packs (serverless.yml sets it)`,
    ]);
  if (cached?.path !== path) cached = { path, config: readCompiledConfig(path) };
  return cached.config;
}
