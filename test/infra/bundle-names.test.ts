// Error names as the deployed bundles carry them: built with the very esbuild options Lambda's
// bundles get (minified), then imported. Minification renames classes, so a name taken from the
// class itself would log as a two-letter word in Lambda.
import { build } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const { esbuildOptions } = createRequire(import.meta.url)("../../build/esbuild.cjs") as { esbuildOptions: Record<string, unknown> };

describe("error names in a minified bundle", () => {
  it.each(["TerminalAwsError", "RetryableAwsError", "ConfigError"])("%s keeps its name", async (name) => {
    const dir = mkdtempSync(join(tmpdir(), "bundle-names-"));
    try {
      const out = await build({ ...esbuildOptions, entryPoints: [resolve("shared/errors.ts")], write: false, outdir: dir });
      const file = join(dir, "errors.mjs");
      writeFileSync(file, out.outputFiles[0]?.text ?? "");
      const errors = (await import(pathToFileURL(file).href)) as Record<string, new (...args: string[]) => Error>;
      const ErrorClass = errors[name] as new (...args: unknown[]) => Error;
      const error = name === "ConfigError" ? new ErrorClass("stevedore.yml", ["x"]) : new ErrorClass("UpdateService", "ThrottlingException", "Rate exceeded");
      expect(error.name).toBe(name);
      expect(String(error)).toMatch(new RegExp(`^${name}: `));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
