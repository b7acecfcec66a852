// osls resolves `${file(./infra/stack.cjs):…}` in serverless.yml with this file: it loads the
// typed stack (infra/stack.ts) through tsx and answers from it. CommonJS because osls
// `require`s what `${file()}` names.
"use strict";

const { relative, resolve } = require("node:path");
const { require: tsRequire } = require("tsx/cjs/api");

const { computeStack } = tsRequire("./stack.ts", __filename);
const { StackError } = tsRequire("./errors.ts", __filename);
const { configPath } = tsRequire("../shared/config/load.ts", __filename);

const cache = new Map();

/**
 * osls calls this once per `${file(./infra/stack.cjs):…}` reference; the work is done once.
 * A failure is remembered too: osls lists every reference that failed, and the full message
 * once is enough.
 */
module.exports = async ({ options } = {}) => {
  const key = `${configPath()}\0${options?.region ?? ""}\0${options?.stage ?? ""}`;
  let entry = cache.get(key);
  if (!entry) {
    try {
      entry = { value: computeStack(options ?? {}) };
    } catch (error) {
      const shown = relative(process.cwd(), resolve(configPath())) || configPath();
      cache.set(key, { error, repeated: new StackError(`${shown}: rejected (its problems are listed once, in this list)`) });
      throw error;
    }
    cache.set(key, entry);
  }
  if (entry.error) throw entry.repeated;
  return entry.value;
};
module.exports.compute = (options) => computeStack(options ?? {});
