// Schema issues → sentences a person can act on: each names its path, says what is expected
// instead of zod/mini's bare "Invalid input" (it carries no locale), and suggests the key that
// was probably meant. Reads the schema only through zod's public API.
import * as z from "zod/mini";
import { closest } from "./closest";

/** One sentence per problem: the path, what is wrong and, where it can, the fix. */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown, schema: z.ZodMiniType): string[] {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(schema, issue.path);
    // One problem per key: each names its own path.
    return issue.keys.map((key) => {
      const guess = closest(key, allowed);
      const where = formatPath([...issue.path, key]);
      return `${where}: unknown key${guess ? `; did you mean "${guess}"?` : allowed.length ? ` (allowed: ${allowed.join(", ")})` : ""}`;
    });
  }
  const value = valueAt(raw, issue.path);
  if (issue.code === "invalid_type" && value === undefined) {
    return [`${path || "(file)"}: required`];
  }
  if (issue.code === "invalid_union" && "discriminator" in issue) {
    return [`${path}: type must be slack or webhook`];
  }
  return [`${path || "(file)"}: ${explain(issue, value)}`];
}

// zod/mini carries no locale: every issue without a message of ours says only "Invalid input",
// which names no fix. Say what is expected instead.
function explain(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.message !== "Invalid input") return issue.message;
  switch (issue.code) {
    case "invalid_key":
      return issue.issues.map((inner) => explain(inner, undefined)).join("; ");
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => String(v)).join(", ")}`;
    case "invalid_type":
      return `must be ${kindName(issue.expected)}, not ${kindOf(value)}`;
    case "invalid_union": {
      const expected = [...new Set(issue.errors.flatMap((errors) => errors.flatMap((e) => (e.code === "invalid_type" ? [e.expected] : []))))];
      return expected.length > 0 ? `must be ${listed(expected.map(kindName))}, not ${kindOf(value)}` : issue.message;
    }
    case "too_big":
      return issue.origin === "array" ? `list at most ${issue.maximum}` : `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}`;
    case "too_small":
      return issue.origin === "array" ? `list at least ${issue.minimum}` : `must be ${issue.inclusive ? "at least" : "more than"} ${issue.minimum}`;
    default:
      return issue.message;
  }
}

function kindName(type: string): string {
  return (
    (
      {
        object: "a mapping (key: value)",
        record: "a mapping (key: value)",
        array: "a list",
        string: "a string",
        number: "a number",
        boolean: "true/false",
      } as Record<string, string>
    )[type] ?? type
  );
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date (quote it)";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number" && !Number.isFinite(value)) return `${value}, which is not a finite number`;
  return `${typeof value === "string" ? "a string" : typeof value === "number" ? "a number" : "true/false"} (${typeof value === "string" ? JSON.stringify(value) : String(value)})`;
}

function listed(items: string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** `apps.web.environments[0]`; a key with other characters is quoted, so a problem stays one readable line. */
function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    const name = String(key).length > 60 ? `${String(key).slice(0, 60)}…` : String(key);
    // JSON.stringify escapes control characters but not U+2028/U+2029, which also end a line.
    if (!/^[A-Za-z0-9_-]+$/.test(name)) return `${out}[${JSON.stringify(name).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}]`;
    return out ? `${out}.${name}` : name;
  }, "");
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined), value);
}

/** The JSON Schema zod makes of a schema (its public API), once per schema. */
const jsonSchemas = new WeakMap<z.ZodMiniType, JsonSchema>();

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
}

/** The keys a strict object at `path` accepts (for suggestions), read from the schema's JSON Schema. */
function allowedKeysAt(schema: z.ZodMiniType, path: PropertyKey[]): string[] {
  let json = jsonSchemas.get(schema);
  if (!json) {
    // "any" for what JSON Schema cannot say (refinements): only the object shapes matter here.
    json = z.toJSONSchema(schema, { unrepresentable: "any", io: "input" }) as JsonSchema;
    jsonSchemas.set(schema, json);
  }
  const alternatives = (node: JsonSchema): JsonSchema[] => [node, ...[...(node.oneOf ?? []), ...(node.anyOf ?? [])].flatMap(alternatives)];
  let nodes = [json];
  for (const key of path) {
    nodes = nodes.flatMap(alternatives).flatMap((node): JsonSchema[] => {
      if (typeof key === "string" && node.properties?.[key]) return [node.properties[key]];
      if (typeof key === "number" && node.items) return [node.items];
      if (typeof key === "string" && !node.properties && typeof node.additionalProperties === "object") return [node.additionalProperties];
      return [];
    });
  }
  return [...new Set(nodes.flatMap(alternatives).flatMap((node) => Object.keys(node.properties ?? {})))];
}
