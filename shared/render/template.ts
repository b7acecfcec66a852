// Task definition templates: JSON or YAML task definitions with `{{ name }}` placeholders in
// string values. Templates are parsed once; values are substituted into the parsed tree, so no
// value (quotes, braces, newlines, "{{ x }}" itself) can change the structure or add keys.
// This file parses template files (config time); placeholders.ts renders them (run time).
import { load as parseYaml } from "js-yaml";
import { isObject, PLACEHOLDER, type Json, type JsonObject, type TaskDefinitionTemplate } from "./placeholders";

export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join("; ")}`);
    this.name = "TemplateError";
  }
}

/**
 * Keys that `describe-task-definition` returns but `register-task-definition` rejects. Only these
 * are removed: never whitelist, or fields ECS adds later would be silently dropped.
 */
export const READ_ONLY_KEYS = [
  "taskDefinitionArn",
  "revision",
  "status",
  "requiresAttributes",
  "compatibilities",
  "registeredAt",
  "registeredBy",
  "deregisteredAt",
] as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a template file's text. Throws TemplateError naming every problem found. */
export function parseTemplate(text: string, file: string): TaskDefinitionTemplate {
  let doc: unknown;
  try {
    doc = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text, { filename: file });
  } catch (error) {
    throw new TemplateError(file, [`cannot parse: ${(error as Error).message.split("\n")[0]}`]);
  }
  const size = sizeProblem(doc);
  if (size) throw new TemplateError(file, [size]);
  if (!isObject(doc)) throw new TemplateError(file, ["the template must be a task definition object"]);

  // `aws ecs describe-task-definition` output wraps the definition: accept it as is.
  let body: JsonObject = doc;
  if (isObject(doc.taskDefinition)) {
    body = { ...doc.taskDefinition };
    if (Array.isArray(doc.tags) && doc.tags.length > 0 && body.tags === undefined) body.tags = doc.tags;
  }
  const strippedKeys = READ_ONLY_KEYS.filter((key) => key in body);
  body = Object.fromEntries(Object.entries(body).filter(([key]) => !strippedKeys.includes(key as never)));

  const problems: string[] = [];
  notJson(body, "", problems);
  const names = new Set<string>();
  walk(
    body,
    "",
    (value, path) => {
      for (const match of value.matchAll(PLACEHOLDER)) {
        const name = match[1] ?? "";
        if (NAME.test(name)) names.add(name);
        else problems.push(`${path}: "${match[0]}" is not a placeholder; names are letters, digits and _`);
      }
    },
    (key, path) => {
      if (key.includes("{{")) problems.push(`${path}: placeholders are substituted in values only, not in keys`);
    },
  );
  if (problems.length > 0) throw new TemplateError(file, problems);
  return { file, body, placeholders: [...names].sort(), strippedKeys };
}

/**
 * ECS takes a task definition of at most 64 KiB, so a template never needs many values. The
 * limits are checked before anything walks the tree: YAML aliases are shared, not copied, so a
 * ten-line "billion laughs" parses at once and then expands in every walk and every render
 * (9^9 values: minutes, then out of memory); and JSON nests deeper than the stack.
 */
const MAX_VALUES = 50_000;
const MAX_DEPTH = 100;

function sizeProblem(doc: unknown): string | null {
  const stack: [unknown, number][] = [[doc, 0]];
  let values = 0;
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, depth] = item;
    if (++values > MAX_VALUES) {
      return `more than ${MAX_VALUES} values (YAML aliases count each time they are used); a task definition is at most 64 KiB`;
    }
    if (depth > MAX_DEPTH) return `nested more than ${MAX_DEPTH} levels deep; a task definition is not`;
    const plain = Array.isArray(value) || (value !== null && typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value)));
    if (plain) for (const child of Object.values(value as object)) stack.push([child, depth + 1]);
  }
  return null;
}

function walk(value: Json, path: string, onString: (value: string, path: string) => void, onKey: (key: string, path: string) => void): void {
  if (typeof value === "string") onString(value, path || "(root)");
  else if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[${i}]`, onString, onKey));
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const child = path ? `${path}.${key}` : key;
      onKey(key, child);
      walk(item, child, onString, onKey);
    }
  }
}

/**
 * YAML reads `2024-01-01` as a Date, `!!binary` as bytes and `.inf` as Infinity: none is a JSON
 * value, and each would reach ECS as {} or null. Quoting keeps the text.
 */
function notJson(value: unknown, path: string, problems: string[]): void {
  const at = path || "(root)";
  if (Array.isArray(value)) {
    value.forEach((item, i) => notJson(item, `${path}[${i}]`, problems));
  } else if (typeof value === "number" && !Number.isFinite(value)) {
    problems.push(`${at}: YAML reads this as ${value}, which JSON cannot hold; quote it`);
  } else if (value !== null && typeof value === "object") {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      problems.push(`${at}: YAML reads this as ${value instanceof Date ? "a date" : "binary data"}, not text; quote it`);
      return;
    }
    for (const [key, item] of Object.entries(value)) notJson(item, path ? `${path}.${key}` : key, problems);
  }
}
