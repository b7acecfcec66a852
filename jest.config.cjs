// Tests run as CommonJS through @swc/jest (ts-jest cannot use TypeScript 7, and jest's
// native ESM mode is still experimental). ESM-only dependencies (middy) are transformed too.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/sandbox/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.(t|j|mj)s$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript" }, target: "es2022" },
        module: { type: "commonjs" },
      },
    ],
  },
  transformIgnorePatterns: ["/node_modules/(?!(@middy)/)"],
  moduleFileExtensions: ["ts", "js", "mjs", "cjs", "json"],
  reporters: ["default", "<rootDir>/scripts/jest-summary-reporter.cjs"],
  setupFiles: ["<rootDir>/test/support/env.ts"],
  testTimeout: 30000,
};
