// The seeded randomness and the hostile vocabulary the fault corpus draws from. Every draw
// comes from one seed, so a failing case named "E0412" is the same input on every run.

export { random as mulberry32 } from "../../sandbox/random";

export type Random = () => number;

export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new Error("pick from an empty list");
  return items[Math.floor(random() * items.length)] as T;
}

/** `count` distinct items in a seeded order (all of them when there are fewer). */
export function sample<T>(random: Random, items: readonly T[], count: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}

/** A whole number in [from, to). */
export function between(random: Random, from: number, to: number): number {
  return from + Math.floor(random() * (to - from));
}

/** Values of the wrong type for any field, as the issue lists them. */
export const WRONG_TYPES: readonly { name: string; value: unknown }[] = [
  { name: "number", value: 42 },
  { name: "boolean", value: true },
  { name: "null", value: null },
  { name: "array", value: [] },
  { name: "object", value: {} },
  { name: "empty string", value: "" },
];

/** Unicode that breaks naive code: direction marks, controls, lone surrogates, emoji, joiners. */
export const UNICODE: readonly string[] = [
  "\u200fweb\u200e",
  "\u202eniam\u202c",
  "web\u0000",
  "\u0000",
  "\ud800",
  "\udc00web",
  "web\udbff",
  "🚀",
  "👩‍👩‍👧‍👦",
  "🇪🇺🏳️‍🌈",
  "e\u0301\u0301\u0301",
  "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
  "日本語のテキスト",
  "עברית",
  "العربية",
  "𝐀𝐁𝐂",
  "\ufeff",
  "\u2028\u2029",
  "\u00a0\u2003",
  "\u001b[31mred\u001b[0m",
  "\r\n\t\v\f",
  "\uffff\ufffe",
  "\u{10ffff}",
];

/** Repository names that look like shop/web and are not: homoglyphs, invisible and fullwidth characters. */
export const HOMOGLYPH_REPOSITORIES: readonly string[] = [
  "shоp/web", // Cyrillic о
  "ѕhop/web", // Cyrillic ѕ
  "shop/wеb", // Cyrillic е
  "shop/web\u200b",
  "\u200bshop/web",
  "shop/web ",
  " shop/web",
  "SHOP/WEB",
  "Shop/Web",
  "shop//web",
  "shop/web/",
  "./shop/web",
  "shop\\web",
  "shop/web\u0000",
  "ｓｈｏｐ/web",
  "shop／web",
  "shop/we\u0301b",
  "shop/web\n",
  "shop%2Fweb",
  "shop/web:latest",
  "shop/web@sha256",
  "arn:aws:ecr:eu-west-1:123456789012:repository/shop/web",
];

/** Text that means something to templates, shells, YAML, JSON or String.replace. */
export const TEMPLATE_LIKE: readonly string[] = [
  '"',
  "'",
  "`",
  '\\"',
  "\\",
  "{",
  "}",
  "{{",
  "}}",
  "{{ image }}",
  "{{image}}",
  "{{ env }}",
  "{{ TASK_CPU }}",
  "{{{ x }}}",
  "}}{{",
  "{{ }}",
  "{{ a b }}",
  "${image}",
  "${process.env.AWS_SECRET_ACCESS_KEY}",
  "$(id)",
  "`id`",
  "$&",
  "$1",
  "$$",
  "#{x}",
  "<%= x %>",
  "%s%n",
  "\n",
  "\r\n",
  "line one\nline two",
  '","injected":"x',
  "'; DROP TABLE records; --",
  '{"__proto__":{"polluted":true}}',
  "</script><script>alert(1)</script>",
  "../../../etc/passwd",
  "- item\n- other",
  "key: value\nother: 1",
  "&anchor *alias",
  "!!js/function",
  "null",
  "~",
  "true",
];

/** Numbers, and number-looking text, where strings are expected (and the reverse). */
export const NUMERIC_TEXT: readonly string[] = ["NaN", "Infinity", "-Infinity", "-0", "1e309", "0x1F", "9007199254740993", "1e-400", "  42  "];
export const NUMBERS: readonly number[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  2 ** 64,
  -1,
  0.5,
];

/** One hostile string drawn from every family above. */
export function hostileString(random: Random): string {
  const family = random();
  if (family < 0.35) return pick(random, TEMPLATE_LIKE);
  if (family < 0.65) return pick(random, UNICODE);
  if (family < 0.75) return pick(random, NUMERIC_TEXT);
  if (family < 0.85) return pick(random, HOMOGLYPH_REPOSITORIES);
  const parts: string[] = [];
  for (let i = between(random, 2, 6); i > 0; i--) {
    parts.push(random() < 0.6 ? pick(random, [...TEMPLATE_LIKE, ...UNICODE]) : String.fromCharCode(Math.floor(random() * 0x10000)));
  }
  return parts.join("");
}

/** A string of about `bytes` characters, built without holding every piece. */
export function huge(bytes: number, unit = "A"): string {
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

/** `{ a: { a: … } }` `depth` levels deep, built without recursion. */
export function deeplyNested(depth: number, leaf: unknown = "bottom", kind: "object" | "array" = "object"): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = kind === "object" ? { a: value } : [value];
  return value;
}
