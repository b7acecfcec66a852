// The hostile EVENT corpus: every real-shaped event the handlers consume (test/events/*.json,
// the records stream, the approval and the schedule), mutated every way the issue lists.
// Every case is built lazily (`make`), so a 1 MB string or a 100,000-level nesting exists only
// while its case runs, and carries a stable id (E0001…) and a one-line description.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build, deployment, moved } from "../notify/records";
import { streamEvent, streamRecord } from "../notify/stream";
import { decisionEvent, digestOf, pushEvent, scheduledEvent } from "../support/records";
import {
  between,
  deeplyNested,
  hostileString,
  HOMOGLYPH_REPOSITORIES,
  huge,
  mulberry32,
  NUMBERS,
  NUMERIC_TEXT,
  pick,
  sample,
  TEMPLATE_LIKE,
  UNICODE,
  WRONG_TYPES,
  type Random,
} from "./random";

export const HANDLERS = ["on-image-pushed", "on-build-finished", "on-deployment-changed", "on-alarm", "sweep", "notify", "promote", "on-approval"] as const;
export type HandlerName = (typeof HANDLERS)[number];

// Plain JSON trees, edited freely.
type Json = any;
type Path = (string | number)[];

export interface EventCase {
  id: string;
  category: string;
  /** What was done to which event, short enough for a test name. */
  what: string;
  make(): unknown;
  /** The handlers it is fed to (default: all of them: an ECR event to on-alarm must be harmless too). */
  only?: readonly HandlerName[];
  /**
   * Set on the few cases that are still VALID events of a configured app (a push of shop/web
   * whose tag matches, a failed build of shop-web): they may legitimately deploy or record, so
   * AWS writes are allowed for them, but they must still settle without a crash. Every other
   * case must write nothing at all.
   */
  mayAct?: string;
  /** Exported variables the faked CodeBuild returns for this case's build id. */
  exported?: { buildId: string; variables: Record<string, string> };
}

const ONE_MB = 1024 * 1024;
const BIG = huge(ONE_MB, "0123456789abcdef");
const BIG_UNICODE = huge(ONE_MB / 4, "😀\u200f{{ image }}\u0000");

const FIXTURES = "test/events";
const readJson = (file: string): Json => JSON.parse(readFileSync(join(FIXTURES, file), "utf8"));
const clone = <T>(value: T): T => structuredClone(value);

/** The events the corpus starts from, each named. */
function bases(): { name: string; event: Json; note?: string }[] {
  const out: { name: string; event: Json; note?: string }[] = [];
  for (const file of readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const event = readJson(file);
    const name = file.replace(/\.json$/, "");
    // A valid push of shop/web or a build of shop-web would deploy or record: those bases are
    // pointed at an unconfigured repository and project, so that their mutations that stay
    // valid must write nothing. The configured ones get targeted cases below.
    if (name === "ecr-image-push") {
      event.detail["repository-name"] = "hostile/unknown-repo";
      out.push({ name, event, note: "repository hostile/unknown-repo" });
    } else if (name.startsWith("codebuild-")) {
      event.detail["project-name"] = "hostile-unknown-project";
      out.push({ name, event, note: "project hostile-unknown-project" });
    } else {
      out.push({ name, event });
    }
  }
  out.push({ name: "promotion-decision", event: approvalEvent() });
  out.push({ name: "scheduled-event", event: scheduledEvent(SCHEDULED_AT) });

  // The records stream, as Lambda hands it over. None of these promotes: the verified record is
  // of an app the config does not have.
  const rollingOut = moved(deployment(), "started");
  out.push({ name: "stream-deployment-completed", event: streamEvent(streamRecord(rollingOut, moved(rollingOut, "completed"))) });
  out.push({ name: "stream-build-failed", event: streamEvent(streamRecord(undefined, build())) });
  const ghost = moved(moved(rollingOut, "completed"), "verified", undefined);
  const ghostApp = { app: "ghost-app", targetKey: "eu-west-1/ghost/web", cluster: "ghost" };
  out.push({
    name: "stream-verified-ghost-app",
    event: streamEvent(streamRecord({ ...moved(rollingOut, "completed"), ...ghostApp }, { ...ghost, ...ghostApp })),
    note: "app ghost-app is not configured",
  });
  return out;
}

const SCHEDULED_AT = "2026-11-20T09:23:00Z";
const approvalEvent = (): Json => decisionEvent({ promotionId: "p-0123456789ab", reason: "staging looks good" }, "2026-11-20T10:02:11Z");

// ── paths ──────────────────────────────────────────────────────────────────────────────

/** Every path to a value below the root: objects' keys and arrays' indexes. */
export function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value))
    value.forEach((item, i) => {
      out.push([...prefix, i]);
      pathsOf(item, [...prefix, i], out);
    });
  else if (value !== null && typeof value === "object") {
    for (const key of Object.keys(value)) {
      out.push([...prefix, key]);
      pathsOf(value[key], [...prefix, key], out);
    }
  }
  return out;
}

export function getAt(value: Json, path: Path): Json {
  return path.reduce((v, key) => (v === null || typeof v !== "object" ? undefined : v[key]), value);
}

export function setAt(value: Json, path: Path, to: unknown): Json {
  const parent = getAt(value, path.slice(0, -1));
  parent[path[path.length - 1] as string] = to;
  return value;
}

function deleteAt(value: Json, path: Path): Json {
  const parent = getAt(value, path.slice(0, -1));
  const key = path[path.length - 1] as string | number;
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
  return value;
}

export function showPath(path: Path): string {
  return (
    path
      .map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`))
      .join("")
      .replace(/^\./, "") || "(root)"
  );
}

const stringPaths = (event: Json) => pathsOf(event).filter((p) => typeof getAt(event, p) === "string");
const isStream = (name: string) => name.startsWith("stream-");

/** A short, printable rendering of a hostile value for a case name. */
export function short(value: unknown): string {
  if (typeof value === "string") {
    const shown = JSON.stringify(value.length > 24 ? `${value.slice(0, 24)}…` : value);
    return value.length > 24 ? `${shown} (${value.length} chars)` : shown;
  }
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  return JSON.stringify(value) ?? String(value);
}

// ── truncation ─────────────────────────────────────────────────────────────────────────

/**
 * The longest object that the text cut at `at` still holds: cut back to where closing every
 * open bracket gives valid JSON. What a sender that died mid-write might still deliver.
 */
function partialObject(text: string, at: number): Json | undefined {
  const closers: string[] = [];
  const inString: boolean[] = [];
  const stack: string[] = [];
  let quoted = false;
  let escaped = false;
  for (let i = 0; i <= at; i++) {
    closers[i] = [...stack].reverse().join("");
    inString[i] = quoted;
    const c = text[i];
    if (quoted) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "{") stack.push("}");
    else if (c === "[") stack.push("]");
    else if (c === "}" || c === "]") stack.pop();
  }
  for (let i = at; i > 0; i--) {
    if (inString[i]) continue;
    const prefix = text.slice(0, i).trimEnd();
    const candidate = prefix.endsWith(",") ? prefix.slice(0, -1) : prefix.endsWith(":") ? `${prefix} null` : prefix;
    try {
      return JSON.parse(candidate + (closers[i] ?? ""));
    } catch {
      // not a value boundary: cut further back
    }
  }
  return undefined;
}

/** `value` with `keys` (JSON text) added as own properties of the object at `path`, as JSON.parse makes them. */
function withOwnKeys(value: Json, path: Path, keys: string): Json {
  const inner = JSON.stringify(getAt(value, path) ?? {}).slice(1, -1);
  const object = JSON.parse(`{${[keys, inner].filter(Boolean).join(",")}}`);
  return path.length === 0 ? object : setAt(value, path, object);
}

// ── the corpus ─────────────────────────────────────────────────────────────────────────

export function hostileEvents(seed: number): EventCase[] {
  const random = mulberry32(seed);
  const cases: EventCase[] = [];
  const add = (c: Omit<EventCase, "id">) => cases.push({ id: `E${String(cases.length + 1).padStart(4, "0")}`, ...c });
  const all = bases();
  const numbersFor = new Set(
    sample(
      random,
      all.map((b) => b.name),
      3,
    ),
  );

  for (const { name, event, note } of all) {
    const label = note ? `${name} (${note})` : name;
    const paths = pathsOf(event);

    // Delete each field, recursively (array items are removed).
    for (const path of paths) {
      add({ category: "field deleted", what: `${label}: ${showPath(path)} deleted`, make: () => deleteAt(clone(event), path) });
    }

    // Each field set to each wrong type. Stream images have ~100 attributes each: a sample.
    const typed = isStream(name) ? sample(random, paths, 60) : paths;
    for (const path of typed) {
      for (const wrong of WRONG_TYPES) {
        const current = getAt(event, path);
        if (JSON.stringify(current) === JSON.stringify(wrong.value)) continue;
        add({ category: "wrong type", what: `${label}: ${showPath(path)} = ${wrong.name}`, make: () => setAt(clone(event), path, clone(wrong.value)) });
      }
    }

    // Hostile text in string fields: template syntax, quotes, newlines, unicode, homoglyphs.
    const strings = stringPaths(event);
    for (const path of isStream(name) ? sample(random, strings, 30) : strings) {
      for (const value of [hostileString(random), hostileString(random)]) {
        add({ category: "hostile text", what: `${label}: ${showPath(path)} = ${short(value)}`, make: () => setAt(clone(event), path, value) });
      }
    }

    // Numbers where strings go, and number-looking text.
    for (const path of sample(random, strings, 2)) {
      for (const n of sample(random, NUMBERS, 4)) {
        add({ category: "number for string", what: `${label}: ${showPath(path)} = ${short(n)}`, make: () => setAt(clone(event), path, n) });
      }
      for (const text of sample(random, NUMERIC_TEXT, 3)) {
        add({ category: "number for string", what: `${label}: ${showPath(path)} = ${short(text)}`, make: () => setAt(clone(event), path, text) });
      }
    }

    // Truncated JSON: the raw text (JSON.parse would fail on it), and the object it still holds.
    const text = JSON.stringify(event, null, 2);
    for (let i = 0; i < 4; i++) {
      const at = between(random, 1, text.length - 1);
      add({ category: "truncated", what: `${label}: JSON text cut at ${at}/${text.length}, raw`, make: () => text.slice(0, at) });
      add({ category: "truncated", what: `${label}: JSON text cut at ${at}/${text.length}, what still parses`, make: () => partialObject(text, at) });
    }

    // Unknown or look-alike sources and detail types.
    if (!isStream(name)) {
      for (const source of ["aws.unknown", "AWS.ECR", "aws.ecr ", "аws.ecs", "aws.events\u0000", "stevedore.evil", ""]) {
        add({ category: "unknown source", what: `${label}: source = ${short(source)}`, make: () => ({ ...clone(event), source }) });
      }
      for (const type of ["Something Else", "ECR Image Action ", "ecr image action", "CloudWatch Alarm State Change\u200b", "Scheduled Event!", ""]) {
        add({ category: "unknown detail-type", what: `${label}: detail-type = ${short(type)}`, make: () => ({ ...clone(event), "detail-type": type }) });
      }
    } else {
      for (const eventSource of ["aws:kinesis", "aws:sqs", ""]) {
        add({
          category: "unknown source",
          what: `${label}: eventSource = ${short(eventSource)}`,
          make: () => {
            const e = clone(event);
            e.Records[0].eventSource = eventSource;
            return e;
          },
        });
      }
    }

    // Huge fields: 1 MB strings, 100,000-element arrays, 10,000 keys, a 1 MB key, deep nesting.
    for (const path of sample(random, strings, 3)) {
      add({ category: "huge", what: `${label}: ${showPath(path)} = 1 MB string`, make: () => setAt(clone(event), path, BIG) });
    }
    const unicodePath = pick(random, strings);
    add({
      category: "huge",
      what: `${label}: ${showPath(unicodePath)} = 1 MB of emoji, RTL, NUL and {{ image }}`,
      make: () => setAt(clone(event), unicodePath, BIG_UNICODE),
    });
    const listPath: Path = isStream(name) ? ["Records"] : ["resources"];
    // Stream batches are 10 records (serverless.yml batchSize): 1,000 is already a hundred times that.
    const copies = isStream(name) ? 1_000 : 100_000;
    add({
      category: "huge",
      what: `${label}: ${showPath(listPath)} = ${copies.toLocaleString("en")} copies`,
      make: () => {
        const e = clone(event);
        // A stream record that is valid would be notified that many times (real work, not a
        // fault): the copies lack their sequence number instead.
        const item = isStream(name)
          ? { ...e.Records[0], dynamodb: { ...e.Records[0].dynamodb, SequenceNumber: undefined } }
          : (getAt(e, listPath)?.[0] ?? "arn:aws:ecs:eu-west-1:123456789012:service/shop-prod/web");
        return setAt(
          e,
          listPath,
          Array.from({ length: copies }, () => item),
        );
      },
    });
    if (isStream(name)) {
      add({
        category: "huge",
        what: `${label}: Records = 100 copies of the valid record`,
        make: () => {
          const e = clone(event);
          e.Records = Array.from({ length: 100 }, (_, i) => ({
            ...e.Records[0],
            dynamodb: { ...e.Records[0].dynamodb, SequenceNumber: String(9_000_000 + i) },
          }));
          return e;
        },
      });
    }
    // Each of 100,000 wrong items is one schema issue (about 0.3 s a call): a few bases suffice.
    if (numbersFor.has(name)) {
      add({
        category: "huge",
        what: `${label}: ${showPath(listPath)} = 100,000 numbers`,
        make: () =>
          setAt(
            clone(event),
            listPath,
            Array.from({ length: 100_000 }, (_, i) => i),
          ),
      });
    }
    add({
      category: "huge",
      what: `${label}: 10,000 extra keys beside the known ones`,
      make: () => {
        const e = clone(event);
        const target = isStream(name) ? e.Records[0].dynamodb : (e.detail ?? e);
        for (let i = 0; i < 10_000; i++) target[`extra-${i}`] = i;
        return e;
      },
    });
    add({ category: "huge", what: `${label}: a 1 MB key name`, make: () => ({ ...clone(event), [BIG]: "key" }) });
    add({ category: "deep nesting", what: `${label}: an extra field nested 100,000 levels`, make: () => ({ ...clone(event), extra: deeplyNested(100_000) }) });
    add({
      category: "deep nesting",
      what: `${label}: an array nested 100,000 levels inside the payload`,
      make: () => {
        const e = clone(event);
        if (isStream(name)) e.Records[0].dynamodb.NewImage.nested = { L: [deeplyNested(100_000, { S: "x" }, "array")] };
        else e.detail = { ...e.detail, nested: deeplyNested(100_000, 1, "array") };
        return e;
      },
    });
    add({
      category: "deep nesting",
      what: `${label}: the payload itself nested 10,000 levels deep`,
      make: () => {
        const e = clone(event);
        if (isStream(name)) e.Records[0].dynamodb.NewImage = deeplyNested(10_000, { S: "deployment" });
        else e.detail = deeplyNested(10_000, e.detail);
        return e;
      },
    });

    // Prototype pollution: the keys as JSON.parse gives them (own properties, not prototypes).
    const payloadPath: Path = isStream(name) ? ["Records", 0, "dynamodb", "NewImage"] : ["detail"];
    const injected: [string, Path, string][] = [
      ["__proto__ at the top", [], '"__proto__":{"polluted":"yes","detail":{"alarmName":"x"}}'],
      ["constructor.prototype at the top", [], '"constructor":{"prototype":{"polluted":"yes"}}'],
      ["__proto__ inside the payload", payloadPath, '"__proto__":{"polluted":"yes","kind":{"S":"deployment"},"alarmName":"x"}'],
      ["__proto__, toString and hasOwnProperty in the payload", payloadPath, '"__proto__":{"S":"x"},"toString":{"S":"x"},"hasOwnProperty":1'],
    ];
    for (const [what, path, keys] of injected) {
      add({ category: "prototype keys", what: `${label}: ${what}`, make: () => withOwnKeys(clone(event), path, keys) });
    }
  }

  // One event's envelope around another event's detail.
  const envelopes = all.filter((b) => !isStream(b.name) && !b.name.includes("-ok") && !b.name.includes("rollback") && !b.name.includes("failed"));
  for (const outer of envelopes) {
    for (const inner of envelopes) {
      if (outer.name === inner.name) continue;
      add({
        category: "mismatched detail",
        what: `${outer.name} envelope around the detail of ${inner.name}`,
        make: () => ({ ...clone(outer.event), detail: clone(inner.event.detail) }),
      });
    }
  }
  // A stream batch under an EventBridge envelope, and the reverse.
  add({
    category: "mismatched detail",
    what: "EventBridge envelope around a stream batch",
    make: () => ({ ...scheduledEvent(SCHEDULED_AT), detail: clone(all.find((b) => isStream(b.name))?.event) }),
  });
  add({ category: "mismatched detail", what: "a stream batch whose record is an EventBridge event", make: () => ({ Records: [approvalEvent()] }) });

  // Events that are not objects at all.
  const notObjects: [string, unknown][] = [
    ["undefined", undefined],
    ["null", null],
    ["empty string", ""],
    ["a sentence", "deploy shop/web please"],
    ["the JSON text of a valid event", JSON.stringify(readJson("ecr-image-push.json"))],
    ["empty array", []],
    ["array of events", [readJson("ecs-deployment-completed.json")]],
    ["0", 0],
    ["-0", -0],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["true", true],
    ["false", false],
    ["{}", {}],
    ["1 MB string", BIG],
    ["100,000-element array", Array.from({ length: 100_000 }, (_, i) => i)],
    ["nested arrays 100,000 deep", deeplyNested(100_000, 0, "array")],
    ["Object.create(null)", Object.create(null)],
    ["{ Records: null }", { Records: null }],
    ["{ Records: {} }", { Records: {} }],
    ["{ Records: [null] }", { Records: [null] }],
    ["{ detail: null }", { detail: null }],
  ];
  for (const [what, value] of notObjects) add({ category: "not an object", what: `the event is ${what}`, make: () => value });

  pushesOfShopWeb(random, add);
  buildsOfShopWeb(random, add);
  return cases;
}

// ── shop/web: the configured repository and project ───────────────────────────────────

const SUCCEEDED = readJson("codebuild-build-succeeded.json");
const FAILED = readJson("codebuild-build-failed.json");

/**
 * Pushes of shop/web itself. Everything that decides whether it deploys is made hostile here
 * (tag, repository, action, result, artifact type, digest): none may deploy. Then a few pushes
 * that stay valid pushes of shop/web with a matching tag, with hostile values where the schema
 * tolerates anything (time, id, resources, unknown fields): those deploy, legitimately, and
 * must still settle without a crash.
 */
function pushesOfShopWeb(random: Random, add: (c: Omit<EventCase, "id">) => void): void {
  // apps.shop-web.tags is "[0-9a-f]{7,40}": text that happens to match it (e.g. "9007199254740993") is a real tag.
  const tags = [
    ...TEMPLATE_LIKE,
    ...UNICODE,
    ...NUMERIC_TEXT,
    "v1.2.3",
    "3f9c2ab-evil",
    "3F9C2AB",
    "3f9c2a",
    huge(129, "a"),
    "latest",
    "-3f9c2ab",
    ".3f9c2ab",
  ].filter((tag) => !/^[0-9a-f]{7,40}$/.test(tag));
  for (const tag of tags)
    add({ category: "shop/web push, hostile tag", what: `shop/web push: image-tag = ${short(tag)}`, make: () => pushEvent({ "image-tag": tag }) });
  add({
    category: "shop/web push, hostile tag",
    what: "shop/web push: image-tag missing (untagged manifest)",
    make: () => pushEvent({ "image-tag": undefined }),
  });
  for (const repository of HOMOGLYPH_REPOSITORIES) {
    add({
      category: "shop/web push, look-alike repository",
      what: `push of look-alike repository ${short(repository)}`,
      make: () => pushEvent({ "repository-name": repository }),
    });
  }
  for (const action of ["push", "PUSH ", "DELETE", "PUSH\u0000", "ＰＵＳＨ", "", "{{ image }}"]) {
    add({ category: "shop/web push, hostile action", what: `shop/web push: action-type = ${short(action)}`, make: () => pushEvent({ "action-type": action }) });
  }
  for (const result of ["success", "FAILURE", "SUCCESS\n", ""]) {
    add({ category: "shop/web push, hostile action", what: `shop/web push: result = ${short(result)}`, make: () => pushEvent({ result }) });
  }
  for (const media of [
    "application/vnd.dev.cosign.simplesigning.v1+json",
    "application/spdx+json",
    "",
    "application/vnd.oci.image.config.v1+json ",
    "{{ image }}",
  ]) {
    add({
      category: "shop/web push, hostile action",
      what: `shop/web push: artifact-media-type = ${short(media)}`,
      make: () => pushEvent({ "artifact-media-type": media }),
    });
  }
  for (const digest of [
    "sha256:" + "A".repeat(64),
    "sha512:" + "a".repeat(128),
    "sha256:" + "a".repeat(63),
    "sha256:" + "a".repeat(64) + "\n",
    `sha256:${"a".repeat(64)}@evil`,
    "{{ image }}",
    "sha256:" + huge(ONE_MB, "a"),
  ]) {
    add({
      category: "shop/web push, hostile digest",
      what: `shop/web push: image-digest = ${short(digest)}`,
      make: () => pushEvent({ "image-digest": digest }),
    });
  }
  for (const [field, value] of [
    ["account", "12345678901"],
    ["account", "１２３４５６７８９０１２"],
    ["region", "EU-WEST-1"],
    ["region", "eu-west-1\n"],
    ["time", "2026-13-45T99:99:99Z"],
    ["time", "not a time"],
    ["id", ""],
    ["id", huge(201)],
  ] as const) {
    add({ category: "shop/web push, hostile envelope", what: `shop/web push: ${field} = ${short(value)}`, make: () => pushEvent({}, { [field]: value }) });
  }

  // Valid pushes of shop/web: these may act. Each has its own digest, so each is a new image
  // (a repeated digest would be a duplicate, which writes nothing and would hide a crash).
  let n = 0;
  const acting = (what: string, make: (digest: string) => Json) => {
    const digest = digestOf(0xfa017000 + ++n);
    add({
      category: "valid shop/web push, hostile extras",
      what: `shop/web push with a matching tag (may deploy): ${what}`,
      mayAct: "a valid push of a configured repository",
      only: ["on-image-pushed"],
      make: () => make(digest),
    });
  };
  for (const time of ["+275760-09-13T00:00:00.000Z", "-271821-04-20T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "0", "2026-02-30T00:00:00Z"]) {
    acting(`time = ${short(time)}`, (digest) => pushEvent({ "image-digest": digest }, { time }));
  }
  const weirdId = `\u202e${pick(random, UNICODE)}🚀\u0000`;
  acting(`id = ${short(weirdId)}`, (digest) => pushEvent({ "image-digest": digest }, { id: weirdId }));
  acting("resources = 100,000 hostile strings", (digest) =>
    pushEvent({ "image-digest": digest }, { resources: Array.from({ length: 100_000 }, () => '{{ image }}\n"') }),
  );
  acting("an extra field nested 100,000 levels and a 1 MB string", (digest) => ({
    ...pushEvent({ "image-digest": digest }),
    extra: deeplyNested(100_000),
    blob: BIG,
  }));
  acting("__proto__ and constructor keys in detail", (digest) =>
    JSON.parse(
      JSON.stringify(pushEvent({ "image-digest": digest })).replace(
        '"detail":{',
        '"detail":{"__proto__":{"image-tag":"{{ image }}"},"constructor":{"prototype":{"x":1}},',
      ),
    ),
  );
  acting("region = zz-hostile-9 (valid by pattern, unknown to AWS)", (digest) => pushEvent({ "image-digest": digest }, { region: "zz-hostile-9" }));
}

/**
 * Builds of shop-web (a configured project). A successful build's image comes from the build's
 * exported variables (BatchGetBuilds, faked per case): hostile ones must not deploy, except a
 * valid image with a hostile commit, which deploys (and must keep the task definition's shape).
 * A failed build is recorded (one conditional write), legitimately.
 */
function buildsOfShopWeb(random: Random, add: (c: Omit<EventCase, "id">) => void): void {
  let n = 0;
  const buildId = () => `arn:aws:codebuild:eu-west-1:123456789012:build/shop-web:hostile-${String(++n).padStart(4, "0")}`;
  const succeeded = (id: string, patch: Json = {}) => ({ ...clone(SUCCEEDED), ...patch, detail: { ...clone(SUCCEEDED.detail), "build-id": id } });
  const uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web";
  const digest = (k: number) => digestOf(0xb0170000 + k);

  const refusals: [string, Record<string, string>][] = [
    ["no exported variables", {}],
    ["IMAGE_URI with quotes and braces", { IMAGE_URI: `${uri}:"{{ image }}"`, IMAGE_DIGEST: digest(1) }],
    ["IMAGE_URI of a look-alike repository", { IMAGE_URI: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shоp/web:3f9c2ab", IMAGE_DIGEST: digest(2) }],
    ["IMAGE_URI of another repository", { IMAGE_URI: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/other/repo:3f9c2ab", IMAGE_DIGEST: digest(3) }],
    ["IMAGE_URI = $(id)", { IMAGE_URI: "$(id)", IMAGE_DIGEST: digest(4) }],
    ["IMAGE_URI = 1 MB", { IMAGE_URI: BIG, IMAGE_DIGEST: digest(5) }],
    ["IMAGE_DIGEST with a newline", { IMAGE_URI: `${uri}:3f9c2ab`, IMAGE_DIGEST: `${digest(6)}\n` }],
    ["IMAGE_DIGEST uppercase", { IMAGE_URI: `${uri}:3f9c2ab`, IMAGE_DIGEST: digest(7).toUpperCase() }],
    ["IMAGE_DIGEST = {{ image }}", { IMAGE_URI: `${uri}:3f9c2ab`, IMAGE_DIGEST: "{{ image }}" }],
    ["a tag that does not match apps.shop-web.tags", { IMAGE_URI: `${uri}:v1.2.3`, IMAGE_DIGEST: digest(8) }],
    ["a tag with template syntax", { IMAGE_URI: `${uri}:{{image}}`, IMAGE_DIGEST: digest(9) }],
    ["__proto__ as a variable name", { ["__proto__"]: "x", IMAGE_URI: `${uri}:zzz`, IMAGE_DIGEST: digest(10) }],
  ];
  for (const [what, variables] of refusals) {
    const id = buildId();
    add({
      category: "shop-web build, hostile image",
      what: `shop-web build SUCCEEDED, exported ${what}`,
      exported: { buildId: id, variables },
      make: () => succeeded(id),
    });
  }
  for (const status of ["IN_PROGRESS", "succeeded", "SUCCEEDED ", "{{ image }}", "", "\u0000"]) {
    const id = buildId();
    add({
      category: "shop-web build, hostile status",
      what: `shop-web build: build-status = ${short(status)}`,
      make: () => ({ ...succeeded(id), detail: { ...succeeded(id).detail, "build-status": status } }),
    });
  }
  // The build id is checked by a pattern: long and colon-heavy ids must not make it backtrack.
  for (const [what, id] of [
    ["200,000 colons then a newline", `arn:aws:codebuild:eu-west-1:123456789012:build/${":".repeat(200_000)}\n`],
    ["1 MB without the final colon", `arn:aws:codebuild:eu-west-1:123456789012:build/${huge(ONE_MB, "a")}`],
    ["quotes and braces", 'arn:aws:codebuild:eu-west-1:123456789012:build/shop-web:"{{ image }}"'],
  ] as const) {
    add({ category: "shop-web build, hostile build id", what: `shop-web build: build-id = ${what}`, make: () => succeeded(id) });
  }

  // Valid and acting: an image that deploys, with a hostile commit (it lands in the template's
  // GIT_COMMIT value and in a provenance tag), and failed builds with hostile text (recorded).
  let k = 100;
  for (const commit of ['"}],"family":"evil","x":[{"', "{{ image }}\n${AWS_SECRET}", "\u202e🚀\u0000", huge(200_000, '{}"\n')]) {
    const id = buildId();
    add({
      category: "valid shop-web build, hostile extras",
      what: `shop-web build exporting a valid image (may deploy): GIT_COMMIT = ${short(commit)}`,
      mayAct: "a successful build of a configured project, exporting a valid image",
      only: ["on-build-finished"],
      exported: { buildId: id, variables: { IMAGE_URI: `${uri}:${(0x3f9c2ab0 + k).toString(16)}`, IMAGE_DIGEST: digest(++k), GIT_COMMIT: commit } },
      make: () => succeeded(id),
    });
  }
  for (const context of [pick(random, TEMPLATE_LIKE), '"}],"injected":[{"', "\u202e🚀\u0000\ud800", huge(200_000, "{{ image }}\n")]) {
    const id = buildId();
    const link = pick(random, TEMPLATE_LIKE);
    add({
      category: "valid shop-web build, hostile extras",
      what: `shop-web build FAILED (may record it): phase-context = ${short(context)}`,
      mayAct: "a failed build of a configured project is recorded",
      only: ["on-build-finished"],
      make: () => {
        const e = clone(FAILED);
        e.detail["build-id"] = id;
        e.detail["additional-information"].phases[1]["phase-context"] = [context];
        e.detail["additional-information"].logs["deep-link"] = link;
        return e;
      },
    });
  }
}
