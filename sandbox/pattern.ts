// EventBridge's event pattern language, as the sandbox's bus and its Lambda event source
// mappings (DynamoDB stream filterPatterns) apply it. It follows AWS's documentation and, where
// the documentation is silent, aws/event-ruler (the open-source matcher EventBridge runs):
//   - a pattern's fields must all match (AND); a leaf array lists alternatives (OR);
//   - a nested pattern object must match as a whole inside the event's object at that key; when
//     the event holds an array of objects there, inside ONE element of it (event-ruler's "array
//     consistency": fields from different elements of one array never combine into a match);
//   - an event leaf that is an array matches when any of its elements does;
//   - operators only look at leaves (strings, numbers, booleans, null): an object is not a leaf,
//     so `exists: true` does not match it and `exists: false` does;
//   - nothing but `exists: false` matches a missing field (not even anything-but).
// A pattern AWS would refuse is refused here too (validatePattern), with event-ruler's wording.

export type Pattern = Record<string, unknown>;

const OPERATORS = ["prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr"] as const;
type Operator = (typeof OPERATORS)[number];

/** Field names that inside `$or` would read as operators (event-ruler refuses them there). */
const RESERVED_IN_OR = new Set<string>([...OPERATORS, "$or"]);

/** ComparableNumber's range: numeric matching only works between these. */
const NUMERIC_LIMIT = 5e9;

/** EventBridge's quota on a rule's event pattern, in characters (the default; 4,096 with an increase). */
export const RULE_PATTERN_MAX_CHARS = 2_048;

export class PatternError extends Error {
  constructor(readonly problems: string[]) {
    super(`event pattern is not valid: ${problems.join("; ")}`);
    this.name = "PatternError";
  }
}

// ── matching ──────────────────────────────────────────────────────────────────────────────

const validated = new WeakSet<object>();

/**
 * Whether `event` matches `pattern`. A pattern AWS would refuse throws a PatternError (a rule
 * with such a pattern could never have been created).
 */
export function matches(pattern: unknown, event: unknown): boolean {
  if (!isPlainObject(pattern)) throw new PatternError(["Filter is not an object"]);
  if (!validated.has(pattern)) {
    const problems = validatePattern(pattern);
    if (problems.length > 0) throw new PatternError(problems);
    validated.add(pattern);
  }
  return matchObject(pattern, event);
}

/** Every field of `pattern` matches within `value` (an object, or undefined when absent). */
function matchObject(pattern: Pattern, value: unknown): boolean {
  const object = isPlainObject(value) ? value : undefined;
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === "$or") {
      if (!(expected as Pattern[]).some((branch) => matchObject(branch, value))) return false;
      continue;
    }
    const actual = object?.[key];
    const ok = Array.isArray(expected) ? matchLeaf(expected, leavesOf(actual)) : matchNested(expected as Pattern, actual);
    if (!ok) return false;
  }
  return true;
}

/** A nested pattern against the event's value at its key: one object, or one element of an array. */
function matchNested(pattern: Pattern, actual: unknown): boolean {
  if (!Array.isArray(actual)) return matchObject(pattern, actual);
  const objects = flatten(actual).filter(isPlainObject);
  // With no object to look into, the fields are absent: only `exists: false` can still match.
  if (objects.length === 0) return matchObject(pattern, undefined);
  return objects.some((element) => matchObject(pattern, element));
}

type Leaf = string | number | boolean | null;

/** The leaf values at a key: none when missing, none for an object, every scalar of an array. */
function leavesOf(value: unknown): Leaf[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return flatten(value).filter(isLeaf);
  return isLeaf(value) ? [value] : [];
}

function matchLeaf(alternatives: unknown[], leaves: Leaf[]): boolean {
  return alternatives.some((alternative) => {
    if (isPlainObject(alternative)) {
      const [operator, operand] = Object.entries(alternative)[0] as [Operator, unknown];
      if (operator === "exists") return operand === true ? leaves.length > 0 : leaves.length === 0;
      return leaves.some((leaf) => matchOperator(operator, operand, leaf));
    }
    return leaves.some((leaf) => equalsValue(alternative as Leaf, leaf));
  });
}

function equalsValue(expected: Leaf, leaf: Leaf): boolean {
  if (typeof expected === "number") return typeof leaf === "number" && leaf === expected;
  if (typeof expected === "string" && typeof leaf === "string") {
    if (expected === leaf) return true;
    // event-ruler compiles a string that is an IP address to the address itself, so another
    // spelling of the same address ("::1", "0:0:0:0:0:0:0:1") matches it.
    const a = parseIp(expected);
    const b = a ? parseIp(leaf) : undefined;
    return !!a && !!b && a.bytes.length === b.bytes.length && a.bytes.every((byte, i) => byte === b.bytes[i]);
  }
  return expected === leaf;
}

function matchOperator(operator: Operator, operand: unknown, leaf: Leaf): boolean {
  switch (operator) {
    case "prefix":
      if (typeof leaf !== "string") return false;
      return typeof operand === "string" ? leaf.startsWith(operand) : lower(leaf).startsWith(lower(ignoreCaseOf(operand)));
    case "suffix":
      if (typeof leaf !== "string") return false;
      return typeof operand === "string" ? leaf.endsWith(operand) : lower(leaf).endsWith(lower(ignoreCaseOf(operand)));
    case "equals-ignore-case":
      return typeof leaf === "string" && lower(leaf) === lower(operand as string);
    case "wildcard":
      return typeof leaf === "string" && wildcardRegExp(operand as string).test(leaf);
    case "numeric":
      return typeof leaf === "number" && Math.abs(leaf) <= NUMERIC_LIMIT && numericHolds(operand as unknown[], leaf);
    case "cidr":
      return typeof leaf === "string" && inCidr(operand as string, leaf);
    case "anything-but":
      return anythingBut(operand, leaf);
    case "exists":
      return true; // handled by matchLeaf: it is about the field, not one of its values
  }
}

/**
 * anything-but excludes only values of its own kind: a list of strings excludes those strings
 * (a number, boolean or null still matches), a list of numbers those numbers.
 */
function anythingBut(operand: unknown, leaf: Leaf): boolean {
  if (isPlainObject(operand)) {
    const [inner, value] = Object.entries(operand)[0] as [string, unknown];
    const values = (Array.isArray(value) ? value : [value]) as string[];
    if (typeof leaf !== "string") return true;
    switch (inner) {
      case "prefix":
        return !values.some((v) => leaf.startsWith(v));
      case "suffix":
        return !values.some((v) => leaf.endsWith(v));
      case "equals-ignore-case":
        return !values.some((v) => lower(v) === lower(leaf));
      case "wildcard":
        return !values.some((v) => wildcardRegExp(v).test(leaf));
      default:
        return false;
    }
  }
  const values = Array.isArray(operand) ? operand : [operand];
  if (typeof values[0] === "number") return typeof leaf !== "number" || !values.includes(leaf);
  return typeof leaf !== "string" || !values.includes(leaf);
}

function numericHolds(terms: unknown[], value: number): boolean {
  for (let i = 0; i < terms.length; i += 2) {
    const limit = terms[i + 1] as number;
    switch (terms[i]) {
      case "=":
        if (!(value === limit)) return false;
        break;
      case "<":
        if (!(value < limit)) return false;
        break;
      case "<=":
        if (!(value <= limit)) return false;
        break;
      case ">":
        if (!(value > limit)) return false;
        break;
      case ">=":
        if (!(value >= limit)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function ignoreCaseOf(operand: unknown): string {
  return (operand as { "equals-ignore-case": string })["equals-ignore-case"];
}

function lower(text: string): string {
  return text.toLowerCase();
}

const wildcards = new Map<string, RegExp>();

/** `*` matches any run of characters (none included); `\*` is a star, `\\` a backslash. */
function wildcardRegExp(wildcard: string): RegExp {
  let regexp = wildcards.get(wildcard);
  if (!regexp) {
    let source = "";
    for (let i = 0; i < wildcard.length; i++) {
      const c = wildcard[i] as string;
      if (c === "\\") source += escapeRegExp(wildcard[++i] ?? "");
      else if (c === "*") source += "[\\s\\S]*";
      else source += escapeRegExp(c);
    }
    regexp = new RegExp(`^${source}$`);
    wildcards.set(wildcard, regexp);
  }
  return regexp;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

// ── IP addresses ──────────────────────────────────────────────────────────────────────────

interface Ip {
  bytes: number[];
}

function parseIp(text: string): Ip | undefined {
  return parseIpv4(text) ?? parseIpv6(text);
}

function parseIpv4(text: string): Ip | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return { bytes: parts.map(Number) };
}

function parseIpv6(text: string): Ip | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (!v4) return undefined;
        out.push(((v4.bytes[0] as number) << 8) | (v4.bytes[1] as number), ((v4.bytes[2] as number) << 8) | (v4.bytes[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return { bytes: all.flatMap((g) => [g >> 8, g & 0xff]) };
}

function parseCidr(cidr: string): { ip: Ip; bits: number } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const ip = m ? parseIp(m[1] as string) : undefined;
  if (!m || !ip) return undefined;
  const bits = Number(m[2]);
  return bits <= ip.bytes.length * 8 ? { ip, bits } : undefined;
}

function inCidr(cidr: string, value: string): boolean {
  const block = parseCidr(cidr);
  const ip = parseIp(value);
  if (!block || !ip || ip.bytes.length !== block.ip.bytes.length) return false;
  for (let bit = 0; bit < block.bits; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((ip.bytes[byte] as number) & mask) !== ((block.ip.bytes[byte] as number) & mask)) return false;
  }
  return true;
}

// ── validation ────────────────────────────────────────────────────────────────────────────

/**
 * What AWS would say about `pattern` when asked to create a rule or filter with it: an empty
 * list when the pattern is valid, otherwise one line per problem, `path: reason`, with
 * event-ruler's wording for the reason.
 */
export function validatePattern(pattern: unknown): string[] {
  const problems: string[] = [];
  if (!isPlainObject(pattern)) return ["Filter is not an object"];
  checkObject(pattern, [], false, problems);
  return problems;
}

function checkObject(pattern: Record<string, unknown>, path: string[], insideOr: boolean, problems: string[]): void {
  const entries = Object.entries(pattern);
  if (entries.length === 0) problems.push(at(path, "Empty objects are not allowed"));
  for (const [key, value] of entries) {
    const here = [...path, key];
    if (key === "$or") {
      checkOr(value, path, problems);
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      problems.push(at(here, `${key} is Ruler reserved fieldName which cannot be used inside $or.`));
      continue;
    }
    if (Array.isArray(value)) checkValues(value, here, problems);
    else if (isPlainObject(value)) checkObject(value, here, insideOr, problems);
    else problems.push(at(here, `"${key}" must be an object or an array`));
  }
}

function checkOr(value: unknown, path: string[], problems: string[]): void {
  const here = [...path, "$or"];
  if (!Array.isArray(value)) {
    problems.push(at(here, "It must be an Array followed with $or."));
    return;
  }
  for (const branch of value) {
    if (isPlainObject(branch)) checkObject(branch, path, true, problems);
    else problems.push(at(here, "Only JSON object is allowed in array of $or relationship."));
  }
  if (value.length < 2) problems.push(at(here, "There must have at least 2 Objects in $or relationship."));
}

function checkValues(values: unknown[], path: string[], problems: string[]): void {
  if (values.length === 0) problems.push(at(path, "Empty arrays are not allowed"));
  for (const value of values) {
    if (isPlainObject(value)) {
      const problem = checkExpression(value);
      if (problem) problems.push(at(path, problem));
    } else if (!isLeaf(value)) {
      problems.push(at(path, "Match value must be String, number, true, false, or null"));
    }
  }
}

/** One match expression, `{ operator: operand }`: the problem with it, if any. */
function checkExpression(expression: Record<string, unknown>): string | undefined {
  const entries = Object.entries(expression);
  if (entries.length === 0) return "Match expression name not found";
  if (entries.length > 1) return "Only one key allowed in match expression";
  const [operator, operand] = entries[0] as [string, unknown];
  switch (operator) {
    case "prefix":
    case "suffix":
      if (isPlainObject(operand)) return checkIgnoreCaseModifier(operator, operand);
      return typeof operand === "string" ? undefined : `${operator} match pattern must be a string`;
    case "equals-ignore-case":
      return typeof operand === "string" ? undefined : "equals-ignore-case match pattern must be a string";
    case "wildcard":
      return typeof operand === "string" ? checkWildcard(operand) : "wildcard match pattern must be a string";
    case "exists":
      return typeof operand === "boolean" ? undefined : "exists match pattern must be either true or false.";
    case "cidr":
      if (typeof operand !== "string") return "cidr match pattern must be a string";
      if (!operand.includes("/")) return `Malformed CIDR, one '/' required: ${operand}`;
      return parseCidr(operand) ? undefined : `Invalid CIDR: ${operand}`;
    case "numeric":
      return checkNumeric(operand);
    case "anything-but":
      return checkAnythingBut(operand);
    default:
      return `Unrecognized match type ${operator}`;
  }
}

function checkIgnoreCaseModifier(operator: string, operand: Record<string, unknown>): string | undefined {
  const entries = Object.entries(operand);
  const name = operator === "prefix" ? "Prefix" : "Suffix";
  if (entries.length === 0) return `${name} expression name not found`;
  if (entries.length > 1) return "Only one key allowed in match expression";
  const [inner, value] = entries[0] as [string, unknown];
  if (inner !== "equals-ignore-case") return `Unsupported ${operator} pattern: ${inner}`;
  return typeof value === "string" ? undefined : "equals-ignore-case match pattern must be a string";
}

function checkWildcard(wildcard: string): string | undefined {
  for (let i = 0; i < wildcard.length; i++) {
    const c = wildcard[i];
    if (c === "\\") {
      const next = wildcard[i + 1];
      if (next !== "*" && next !== "\\") return `Invalid escape character at pos ${i}`;
      i++;
    } else if (c === "*" && wildcard[i + 1] === "*") {
      return `Consecutive wildcard characters at pos ${i + 1}`;
    }
  }
  return undefined;
}

function checkNumeric(operand: unknown): string | undefined {
  if (!Array.isArray(operand)) return "Value of numeric must be an array.";
  const [first, firstValue, second, secondValue, ...rest] = operand as unknown[];
  if (typeof first !== "string") return `Invalid member in numeric match: ${String(first)}`;
  if (!["=", "<", "<=", ">", ">="].includes(first)) return `Unrecognized numeric range operator: ${first}`;
  const name = first === "=" ? "equals" : first;
  const limit = checkNumber(name, firstValue);
  if (limit) return limit;
  if (operand.length === 2) return undefined;
  if (first === "=" || first === "<" || first === "<=") return "Too many elements in numeric expression";
  if (typeof second !== "string") return `Bad value in numeric range: ${String(second)}`;
  if (second !== "<" && second !== "<=") return `Bad numeric range operator: ${second}`;
  const top = checkNumber(second, secondValue);
  if (top) return top;
  if (rest.length > 0) return "Too many terms in numeric range expression";
  if (!((firstValue as number) < (secondValue as number))) return "Bottom must be less than top";
  return undefined;
}

function checkNumber(name: string, value: unknown): string | undefined {
  if (typeof value !== "number" || !Number.isFinite(value)) return `Value of ${name} must be numeric`;
  if (Math.abs(value) > NUMERIC_LIMIT) return `Value of ${name} must be between -5.0E9 and 5.0E9 inclusive`;
  return undefined;
}

function checkAnythingBut(operand: unknown): string | undefined {
  if (isPlainObject(operand)) {
    const entries = Object.entries(operand);
    if (entries.length === 0) return "Anything-But expression name not found";
    if (entries.length > 1) return "Only one key allowed in match expression";
    const [inner, value] = entries[0] as [string, unknown];
    if (!["prefix", "suffix", "equals-ignore-case", "wildcard"].includes(inner)) return `Unsupported anything-but pattern: ${inner}`;
    const values = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && value.length === 0) return "Empty arrays are not allowed";
    for (const v of values) {
      if (typeof v !== "string") {
        if (inner === "equals-ignore-case") return "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.";
        return inner === "wildcard" ? "wildcard match pattern must be a string" : "prefix/suffix match pattern must be a string";
      }
      if ((inner === "prefix" || inner === "suffix") && v === "") return "Null prefix/suffix not allowed";
      if (inner === "wildcard") {
        const problem = checkWildcard(v);
        if (problem) return problem;
      }
    }
    return undefined;
  }
  if (Array.isArray(operand)) {
    if (operand.some((v) => !(typeof v === "string" || (typeof v === "number" && Number.isFinite(v))))) {
      return "Inside anything but list, start|null|boolean is not supported.";
    }
    const numbers = operand.filter((v) => typeof v === "number").length;
    if (operand.length === 0 || (numbers > 0 && numbers < operand.length)) {
      return "Inside anything but list, either all values are number or string, mixed type is not supported";
    }
    return undefined;
  }
  if (typeof operand === "string" || (typeof operand === "number" && Number.isFinite(operand))) return undefined;
  return "Value of anything-but must be an array or single string/number value.";
}

function at(path: string[], message: string): string {
  return path.length ? `${path.join(".")}: ${message}` : message;
}

// ── small pieces ──────────────────────────────────────────────────────────────────────────

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isLeaf(value: unknown): value is Leaf {
  return value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function flatten(values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}
