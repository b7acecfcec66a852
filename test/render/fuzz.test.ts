// The renderer fed hostile variable values. Templates are parsed once and values are put into
// the parsed tree, so no value may change the tree's shape, add a key, or be substituted again.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { canonical } from "../../shared/render/task-definition";
import { render, type Json, type JsonObject, type TaskDefinitionTemplate, type VariableValue } from "../../shared/render/placeholders";
import { parseTemplate } from "../../shared/render/template";
import { random as mulberry32 } from "../../sandbox/random";
import { shapeOf } from "../support/shape";
import { FIXTURE_TEMPLATES } from "../support/config";

const SEED = 0x5eed2026;
const ROUNDS = 4000; // per template

const FRAGMENTS = [
  // quotes, backslashes, braces and our own syntax
  '"',
  "'",
  "`",
  "\\",
  '\\"',
  "\\\\",
  "\\u0041",
  "{",
  "}",
  "{{",
  "}}",
  "{{ x }}",
  "{{x}}",
  "{{ image }}",
  "{{ env }}",
  "{{ TASK_CPU }}",
  "{{ FAMILY }}",
  "{{ a b }}",
  "{{.Name}}",
  "{{{ QUEUE }}}",
  "}}{{",
  "{{ }}",
  // String.replace patterns and other template languages
  "$&",
  "$1",
  "$$",
  "$`",
  "$'",
  "$<n>",
  "${env}",
  "%s",
  "%%",
  "#{x}",
  "<%= x %>",
  // whitespace and controls
  "\n",
  "\r\n",
  "\r",
  "\t",
  "\u0000",
  "\u0007",
  "\u001b[31m",
  "\u2028",
  "\u2029",
  "\u00a0",
  "\ufeff",
  // unicode: RTL marks and overrides, emoji with joiners, lone surrogates, combining marks
  "\u200f",
  "\u202e",
  "\u200d",
  "🚀",
  "👩‍👩‍👧",
  "🇪🇺",
  "\ud800",
  "\udc00",
  "\udbff",
  "é",
  "é",
  "日本語",
  "עברית",
  "𝐀",
  // JSON and YAML syntax
  '": "',
  '{"a": 1}',
  "[1, 2]",
  "- ",
  "- item",
  ": ",
  "key: value",
  "&anchor",
  "*alias",
  "<<: *alias",
  "!!python/object:os.system",
  "!!js/function",
  "---",
  "...",
  "# comment",
  "%YAML 1.2",
  "? ",
  "|",
  ">-",
  "null",
  "~",
  "true",
  "0x1F",
  "1e309",
  ".inf",
  "NaN",
  // names that are special to JavaScript objects
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  // shells and URLs
  "; rm -rf /",
  "$(id)",
  "&&",
  "||",
  "http://x/?a=1&b=2#f",
  "../../etc/passwd",
  "</script>",
];

const NUMBERS = [0, 1, 7, 256, 512, 1024, 8080, 65535, -1, 0.5, 1e21, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e-7, Number.MIN_VALUE];

function hostileValue(random: () => number): VariableValue {
  const roll = random();
  if (roll < 0.08) return NUMBERS[Math.floor(random() * NUMBERS.length)] as number;
  if (roll < 0.11) return random() < 0.5;
  if (roll < 0.13) return "";
  const parts: string[] = [];
  const count = 1 + Math.floor(random() * 8);
  for (let i = 0; i < count; i++) {
    parts.push(random() < 0.75 ? (FRAGMENTS[Math.floor(random() * FRAGMENTS.length)] as string) : String.fromCharCode(Math.floor(random() * 0x10000)));
  }
  let value = parts.join("");
  // Now and then a very long one.
  if (random() < 0.01) value = value.repeat(Math.ceil((20_000 + random() * 40_000) / Math.max(1, value.length)));
  return value;
}

// ── an oracle independent of the renderer ────────────────────────────────────────────────

const EXACT = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;
const ANY = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/;

/** What one template leaf must become: split on placeholders (capturing the names) and join once. */
function expectedLeaf(leaf: Json, variables: Record<string, VariableValue>): Json {
  if (typeof leaf !== "string") return leaf;
  const exact = EXACT.exec(leaf);
  if (exact) return variables[exact[1] as string] as VariableValue;
  const parts = leaf.split(new RegExp(ANY.source));
  return parts.map((part, i) => (i % 2 === 1 ? String(variables[part]) : part)).join("");
}

/** First difference between the rendered tree and what each template leaf must become, or null. */
function leafMismatch(template: Json, rendered: unknown, variables: Record<string, VariableValue>, path = "$"): string | null {
  if (Array.isArray(template)) {
    if (!Array.isArray(rendered)) return `${path}: not an array`;
    for (let i = 0; i < template.length; i++) {
      const m = leafMismatch(template[i] as Json, rendered[i], variables, `${path}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (template !== null && typeof template === "object") {
    if (rendered === null || typeof rendered !== "object") return `${path}: not an object`;
    for (const [key, item] of Object.entries(template)) {
      const m = leafMismatch(item, (rendered as Record<string, unknown>)[key], variables, `${path}.${key}`);
      if (m) return m;
    }
    return null;
  }
  const expected = expectedLeaf(template, variables);
  return Object.is(expected, rendered) ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(rendered)}`;
}

/** Deep equality with Object.is on leaves, written here so that it does not lean on JSON. */
function sameTree(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameTree(item, b[i]));
  if (a !== null && typeof a === "object") {
    if (b === null || typeof b !== "object" || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameTree((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return Object.is(a, b);
}

/** The same tree with every object's keys in a random order. */
function shuffleKeys(value: Json, random: () => number): Json {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, random));
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
    }
    return Object.fromEntries(keys.map((k) => [k, shuffleKeys(value[k] as Json, random)]));
  }
  return value;
}

// ── the runs ─────────────────────────────────────────────────────────────────────────────

const TEMPLATES = resolve(FIXTURE_TEMPLATES);
const templates: [string, TaskDefinitionTemplate][] = ["web.json", "worker.yaml"].map((name) => [
  name,
  parseTemplate(readFileSync(join(TEMPLATES, name), "utf8"), `templates/${name}`),
]);

interface Findings {
  renders: number;
  failures: string[];
  longValues: number;
}

function fuzz(template: TaskDefinitionTemplate, seed: number): Findings {
  const random = mulberry32(seed);
  const templateShape = shapeOf(template.body).join("\n");
  const findings: Findings = { renders: 0, failures: [], longValues: 0 };
  const fail = (round: number, variables: Record<string, VariableValue>, what: string) => {
    if (findings.failures.length < 5) findings.failures.push(`round ${round}: ${what}; variables ${JSON.stringify(variables).slice(0, 400)}`);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const variables: Record<string, VariableValue> = {};
    for (const name of template.placeholders) {
      variables[name] = hostileValue(random);
      if (typeof variables[name] === "string" && (variables[name] as string).length > 10_000) findings.longValues++;
    }
    const result = render(template, variables);
    findings.renders++;
    if (!result.ok) {
      fail(round, variables, `missing ${result.missing.join(",")}`);
      continue;
    }
    const out = result.taskDefinition;

    // JSON-serialisable, and JSON gives back exactly the same tree.
    let text: string;
    try {
      text = JSON.stringify(out);
    } catch (error) {
      fail(round, variables, `not serialisable: ${(error as Error).message}`);
      continue;
    }
    if (!sameTree(JSON.parse(text), out)) fail(round, variables, "JSON round trip changed the tree");

    // Same keys at every level, same array lengths, nothing added.
    if (shapeOf(out).join("\n") !== templateShape) fail(round, variables, "the tree's shape changed");

    // Every leaf is what substituting each placeholder once gives; exact placeholders keep the value itself.
    const mismatch = leafMismatch(template.body, out, variables);
    if (mismatch) fail(round, variables, mismatch);

    // canonical() does not depend on key order, and reads back as the same tree.
    if (round % 8 === 0) {
      const c = canonical(out);
      if (canonical(shuffleKeys(out, random) as JsonObject) !== c) fail(round, variables, "canonical() changed with key order");
      if (!sameTree(JSON.parse(c), out)) fail(round, variables, "canonical() does not read back as the rendered tree");
    }
  }
  return findings;
}

describe(`render fuzzed with hostile variable values (mulberry32 seed 0x${SEED.toString(16)}, ${ROUNDS} rounds per template)`, () => {
  it.each(templates.map(([name, t], i) => [name, t, SEED + i] as const))(
    "%s keeps its structure, substitutes each value once and exactly, and stays valid JSON",
    (_, template, seed) => {
      const findings = fuzz(template, seed);
      expect(findings.failures).toEqual([]);
      expect(findings.renders).toBe(ROUNDS);
      expect(findings.longValues).toBeGreaterThan(0); // the draw did include very long values
    },
  );

  it("is deterministic: the same seed draws the same values", () => {
    const a = mulberry32(SEED);
    const b = mulberry32(SEED);
    const first = Array.from({ length: 50 }, () => hostileValue(a));
    expect(Array.from({ length: 50 }, () => hostileValue(b))).toEqual(first);
    expect(new Set(first.map((v) => JSON.stringify(v))).size).toBeGreaterThan(40);
  });

  it("has an oracle that can fail: a value substituted twice is caught", () => {
    const t = parseTemplate(JSON.stringify({ a: "<{{ A }}>", b: "{{ B }}" }), "t.json");
    const variables = { A: "{{ B }}", B: "b" };
    const substitutedTwice = { a: "<b>", b: "b" };
    expect(leafMismatch(t.body, substitutedTwice, variables)).toBe('$.a: expected "<{{ B }}>", got "<b>"');
    const result = render(t, variables);
    expect(result.ok && leafMismatch(t.body, result.taskDefinition, variables)).toBeNull();
  });

  it("has a shape check that can fail: an added key or a longer array is caught", () => {
    const body: JsonObject = { a: ["{{ A }}"], b: { c: "x" } };
    expect(shapeOf({ a: ["1", "2"], b: { c: "x" } })).not.toEqual(shapeOf(body));
    expect(shapeOf({ a: ["1"], b: { c: "x", d: "y" } })).not.toEqual(shapeOf(body));
    expect(shapeOf({ a: ["1"], b: { c: { nested: true } } })).not.toEqual(shapeOf(body));
    expect(shapeOf({ a: [1], b: { c: false } })).toEqual(shapeOf(body));
  });
});
