// The one definition of how Lambda bundles are built. CommonJS so that both serverless-esbuild
// (which `require`s `custom.esbuild.config` and calls it with the serverless instance) and our
// own scripts (bench/bundle.ts) load it: the benchmark measures exactly what gets deployed.
"use strict";

const { readFileSync } = require("node:fs");
const { join } = require("node:path");

/**
 * Every `@aws-sdk/client-*` imports its whole package.json (about 2.3 kB each: dependencies,
 * scripts, repository…) only to read `version` for the user agent. Keep just that field.
 * @type {import("esbuild").Plugin}
 */
const sdkPackageVersionOnly = {
  name: "sdk-package-version-only",
  setup(build) {
    build.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/ }, (args) => {
      const { version } = JSON.parse(readFileSync(args.path, "utf8"));
      return { contents: JSON.stringify({ version }), loader: "json" };
    });
  },
};

/**
 * Plain esbuild options (no entry points, no output location): what scripts pass to
 * `esbuild.build` together with their own entryPoints/outdir.
 * @type {import("esbuild").BuildOptions}
 */
const esbuildOptions = {
  bundle: true,
  minify: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // Without `module` first esbuild takes the SDK's CommonJS builds: a bundle 1.7× larger.
  mainFields: ["module", "main"],
  // Lambda loads `.mjs` as an ES module whatever the nearest package.json says.
  outExtension: { ".js": ".mjs" },
  // Bundled CommonJS dependencies still call require() for Node built-ins; ESM has no require.
  banner: { js: 'import { createRequire } from "module"; const require = createRequire(import.meta.url);' },
  alias: {
    // Lambda-only credential chain (env, then container endpoint): see the file for the measured why.
    "@aws-sdk/credential-provider-node": join(__dirname, "..", "shared", "aws", "lambda-credentials.ts"),
  },
  plugins: [sdkPackageVersionOnly],
  // The SDK is bundled, never taken from the runtime: its version is then the one we tested.
  external: [],
  sourcemap: false,
  logLevel: "warning",
};

/**
 * serverless-esbuild's `custom.esbuild.config` entry: the same options plus the plugin's own
 * settings (it strips those before calling esbuild).
 * @returns {Record<string, unknown>}
 */
function serverlessEsbuildConfig() {
  return {
    ...esbuildOptions,
    // serverless-esbuild names the bundle after this and sets esbuild's outExtension from it.
    outputFileExtension: ".mjs",
    // Its default excludes `aws-sdk` (v2); nothing is external here, so nothing is packed from node_modules.
    exclude: [],
    packager: "npm",
    // Lets concurrent `osls package` runs (the packaging test, a developer) use separate
    // scratch folders; the default is serverless-esbuild's own `.esbuild`.
    ...(process.env.STEVEDORE_ESBUILD_WORK_FOLDER ? { outputWorkFolder: process.env.STEVEDORE_ESBUILD_WORK_FOLDER } : {}),
  };
}

module.exports = serverlessEsbuildConfig;
module.exports.esbuildOptions = esbuildOptions;
module.exports.sdkPackageVersionOnly = sdkPackageVersionOnly;
