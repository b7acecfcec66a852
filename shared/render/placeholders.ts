// Placeholders in a parsed task definition template: what a deployment needs at run time to
// render a template. Parsing template files (YAML included) is config-time work, in template.ts,
// so that the functions' bundles carry no YAML parser.

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type VariableValue = string | number | boolean;

export interface TaskDefinitionTemplate {
  file: string;
  /** The task definition with read-only keys already stripped. */
  body: JsonObject;
  /** Every placeholder name the template uses, sorted. */
  placeholders: string[];
  /** Read-only keys found (and removed), so `validate` can tell people what it dropped. */
  strippedKeys: string[];
}

/** `{{ name }}` with optional spaces; the name itself is checked when the template is parsed. */
export const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export type RenderResult = { ok: true; taskDefinition: JsonObject } | { ok: false; missing: string[] };

/**
 * Substitutes variables into a parsed template. A string that is exactly one placeholder takes
 * the variable's own type (so `memory: "{{ MEMORY }}"` with `MEMORY: 512` gives the number 512);
 * placeholders inside longer strings are replaced by the value's text. Every missing variable is
 * reported at once.
 */
export function render(template: TaskDefinitionTemplate, variables: Record<string, VariableValue>): RenderResult {
  const missing = template.placeholders.filter((name) => !Object.hasOwn(variables, name));
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, taskDefinition: substitute(template.body, variables) as JsonObject };
}

function substitute(value: Json, variables: Record<string, VariableValue>): Json {
  if (typeof value === "string") {
    const whole = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(value);
    if (whole) return variables[whole[1] as string] as VariableValue;
    // A replacer function, not a replacement string: `$&` and friends in values stay literal.
    return value.replace(PLACEHOLDER, (_, name: string) => String(variables[name]));
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, variables));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = substitute(item, variables);
    return out;
  }
  return value;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
