// The hostile CONFIG corpus: the fixture config (and its templates) broken every way a
// person or a tool can break them. Each case is a config text plus the template files it can
// read; parseConfig must throw a ConfigError whose problems each name where, or (for the few
// cases marked `mayLoad`, which can legitimately still be valid) load.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dump, load } from "js-yaml";
import { getAt, pathsOf, setAt, short, showPath } from "./events";
import { between, deeplyNested, hostileString, huge, mulberry32, pick, sample, TEMPLATE_LIKE, UNICODE, WRONG_TYPES } from "./random";
import { FIXTURE_CONFIG, FIXTURE_TEMPLATES } from "../support/config";

export const CONFIG_FILE = "/virtual/stevedore.yml";
export const BASE_TEXT = readFileSync(FIXTURE_CONFIG, "utf8");
const BASE_LINES = BASE_TEXT.split("\n");
const WEB = "/virtual/templates/web.json";
const WORKER = "/virtual/templates/worker.yaml";
const WEB_TEXT = readFileSync(join(FIXTURE_TEMPLATES, "web.json"), "utf8");
const WORKER_TEXT = readFileSync(join(FIXTURE_TEMPLATES, "worker.yaml"), "utf8");
export const TEMPLATES: Record<string, string> = { [WEB]: WEB_TEXT, [WORKER]: WORKER_TEXT };

type Json = any;
type Path = (string | number)[];

export interface ConfigCase {
  id: string;
  category: string;
  what: string;
  text(): string;
  /** Template files (absolute path → text) that differ from the fixture's; `null` removes one. */
  files?: Record<string, string | null>;
  /** A reader that fails in its own way (EACCES, a thrown string, a TypeError). */
  reader?: (path: string) => string;
  /** Why this case may still be a valid config (e.g. a truncation that ends between apps). */
  mayLoad?: string;
}

const baseTree = (): Json => load(BASE_TEXT);
const yaml = (tree: Json) => dump(tree, { lineWidth: -1, noRefs: true });

/** Indexes of the lines of BASE_TEXT that hold a key or an item (not comments, not blank). */
const CONTENT_LINES = BASE_LINES.flatMap((line, index) => (/^\s*(#|$)/.test(line) ? [] : [index]));

const uncommented = (line: string) => line.replace(/\s+#.*$/, "");

function editLine(text: string, index: number, edit: (line: string) => string): string {
  const lines = text.split("\n");
  lines[index] = edit(lines[index] ?? "");
  return lines.join("\n");
}

/** The billion laughs: nine levels of nine aliases, 9^9 (387 million) leaves once expanded. */
export function billionLaughs(indent = ""): string {
  const lines = [`${indent}lol0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
  for (let i = 1; i <= 8; i++)
    lines.push(
      `${indent}lol${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(",")}]`,
    );
  return lines.join("\n");
}

export function hostileConfigs(seed: number): ConfigCase[] {
  const random = mulberry32(seed);
  const cases: ConfigCase[] = [];
  const add = (c: Omit<ConfigCase, "id">) => cases.push({ id: `C${String(cases.length + 1).padStart(4, "0")}`, ...c });
  const tree = baseTree();
  const paths = pathsOf(tree);

  // ── YAML syntax ───────────────────────────────────────────────────────────────────────
  const junk: [string, (line: string) => string][] = [
    ["an unclosed {", (l) => l.replace(/^(\s*)/, "$1{")],
    ["an unclosed [", (l) => l.replace(/^(\s*)/, "$1[")],
    ["an unclosed double quote", (l) => l.replace(/^(\s*)/, '$1"')],
    ["an unclosed single quote", (l) => l.replace(/^(\s*)/, "$1'")],
    ["a tab for indentation", (l) => l.replace(/^ +/, "\t")],
    ["one space more indentation", (l) => ` ${l}`],
    ["an alias to no anchor", (l) => l.replace(/^(\s*(?:- )?)/, "$1*nowhere ")],
    ["a JS function tag", (l) => l.replace(/^(\s*[\w-]+:)/, '$1 !!js/function "function () {}"')],
    ["a python tag", (l) => l.replace(/^(\s*[\w-]+:)/, '$1 !!python/object/apply:os.system ["id"]')],
    ["a NUL byte", (l) => `${l}\u0000`],
    ["a key with no value and a stray colon", (l) => `${l} : :`],
    ["a sequence item inside a mapping", (l) => l.replace(/^(\s*)([\w-]+:)/, "$1- $2")],
    ["an unclosed flow mapping", (l) => `${l} {a: 1`],
    ["a block scalar indicator and bad indentation", (l) => `${l} |\n bad`],
  ];
  // YAML accepts any (consistent) indentation for the items of one sequence: one more space may still parse.
  const reindented = "one space more indentation";
  for (const [what, edit] of junk) {
    // Only lines the edit changes, with their comment removed first (junk after "#" is a comment).
    const changed = CONTENT_LINES.filter((index) => {
      const line = uncommented(BASE_LINES[index] ?? "");
      return index > 3 && edit(line) !== line;
    });
    for (const index of sample(random, changed, 5)) {
      add({
        category: "YAML syntax",
        what: `line ${index + 1}: ${what}`,
        text: () => editLine(BASE_TEXT, index, (l) => edit(uncommented(l))),
        mayLoad: what === reindented ? "a lone sequence item may be indented one space more" : undefined,
      });
    }
  }
  add({ category: "YAML syntax", what: "two documents (---)", text: () => `${BASE_TEXT}\n---\nversion: 1\n` });
  add({ category: "YAML syntax", what: "a %YAML 9.9 directive", text: () => `%YAML 9.9\n---\n${BASE_TEXT}` });
  add({ category: "YAML syntax", what: "a byte-order mark in the middle", text: () => BASE_TEXT.replace("apps:", "\ufeffapps:") });
  add({
    category: "YAML syntax",
    what: "lone surrogates and NUL in a quoted value",
    text: () => BASE_TEXT.replace("repository: shop/web", 'repository: "\\ud800shop\\0/web"'),
  });
  add({ category: "YAML syntax", what: "an empty file", text: () => "" });
  add({ category: "YAML syntax", what: "only a comment", text: () => "# nothing here\n" });
  add({ category: "YAML syntax", what: "a bare string", text: () => "deploy everything\n" });
  add({ category: "YAML syntax", what: "a list at the top", text: () => "- version: 1\n" });
  add({ category: "YAML syntax", what: "JSON of the wrong shape", text: () => '{"version": 1, "apps": []}' });
  add({ category: "YAML syntax", what: "Windows line endings and tabs", text: () => BASE_TEXT.replace(/\n/g, "\r\n").replace(/ {4}/g, "\t") });
  add({ category: "YAML syntax", what: "an anchor that refers to itself", text: () => BASE_TEXT.replace("apps:", "loop: &loop [*loop]\napps:") });

  // ── truncated ─────────────────────────────────────────────────────────────────────────
  for (let i = 0; i < 40; i++) {
    const at = between(random, 1, BASE_TEXT.length - 1);
    add({
      category: "truncated",
      what: `cut at ${at}/${BASE_TEXT.length}`,
      text: () => BASE_TEXT.slice(0, at),
      // A cut inside a comment, or between whole items, leaves a shorter config that is valid.
      mayLoad: "a cut that lands in a comment or between whole entries leaves a smaller valid config",
    });
  }

  // ── wrong types at every path ─────────────────────────────────────────────────────────
  for (const path of paths) {
    const current = getAt(tree, path);
    for (const wrong of [...WRONG_TYPES, { name: "string", value: "five" }, { name: "negative number", value: -1 }]) {
      // A string is not a wrong type where a string goes (nor a number where a number goes).
      if (typeof current === typeof wrong.value && typeof current !== "object" && current !== "") continue;
      if (JSON.stringify(current) === JSON.stringify(wrong.value)) continue;
      add({
        category: "wrong type",
        what: `${showPath(path)} = ${wrong.name}`,
        text: () => yaml(setAt(baseTree(), path, structuredClone(wrong.value))),
        mayLoad: legitimately(path, wrong.value),
      });
    }
  }

  // ── unknown keys: a stray one and a typo of a real one, in every mapping ────────────────
  const mappings: Path[] = [
    [],
    ...paths.filter((p) => {
      const v = getAt(tree, p);
      return v !== null && typeof v === "object" && !Array.isArray(v);
    }),
  ];
  for (const path of mappings) {
    const target = getAt(tree, path);
    // Keys of records (app names, variables, notifications) are names, not settings: skip those mappings.
    if (["apps", "notifications", "variables"].includes(String(path[path.length - 1]))) continue;
    add({ category: "unknown key", what: `${showPath(path)}.colour added`, text: () => yaml(setAt(baseTree(), [...path, "colour"], "red")) });
    const keys = Object.keys(target).filter((k) => k.length > 3);
    const typoOf = (key: string) => `${key.slice(0, 1)}${key.slice(2, 3)}${key.slice(1, 2)}${key.slice(3)}`;
    const misspellable = keys.filter((k) => typoOf(k) !== k);
    if (misspellable.length > 0) {
      const key = pick(random, misspellable);
      const typo = typoOf(key);
      add({
        category: "unknown key",
        what: `${showPath(path)}.${key} misspelt ${typo}`,
        text: () => {
          const t = baseTree();
          const m = path.length ? getAt(t, path) : t;
          m[typo] = m[key];
          delete m[key];
          return yaml(t);
        },
      });
    }
  }
  add({
    category: "unknown key",
    what: "a key with a newline, quotes and {{ }}",
    text: () => BASE_TEXT.replace("    repository: shop/web", '    "repo\\n\\"{{ image }}\\"": x\n    repository: shop/web'),
  });
  add({
    category: "unknown key",
    what: "a 100 kB key",
    text: () => BASE_TEXT.replace("    repository: shop/web", `    ${huge(100_000, "k")}: x\n    repository: shop/web`),
  });
  add({ category: "unknown key", what: "__proto__ at the top", text: () => BASE_TEXT.replace("apps:", "__proto__: { polluted: yes }\napps:") });

  // ── duplicate keys ─────────────────────────────────────────────────────────────────────
  const keyLines = BASE_LINES.flatMap((line, index) => (/^\s*[\w-]+:\s*\S/.test(line) && !/^\s*-/.test(line) ? [index] : []));
  for (const index of sample(random, keyLines, 20)) {
    add({
      category: "duplicate key",
      what: `line ${index + 1} written twice`,
      text: () => editLine(BASE_TEXT, index, (l) => `${uncommented(l)}\n${uncommented(l)}`),
    });
  }

  // ── anchors, aliases, the billion laughs ──────────────────────────────────────────────
  const bombAt: [string, (text: string) => string][] = [
    ["apps", (t) => t.replace(/\napps:\n[\s\S]*$/, `\n${billionLaughs()}\napps: *l8\n`)],
    [
      "apps.shop-web.environments",
      (t) =>
        t
          .replace("    environments:\n      - name: staging", `    environments: *l8\n    unused:\n      - name: staging`)
          .replace(/^version: 1$/m, `version: 1\n${billionLaughs()}`),
    ],
    ["apps.shop-web.variables.LOG_LEVEL", (t) => t.replace("LOG_LEVEL: info", "LOG_LEVEL: *l8").replace(/^version: 1$/m, `version: 1\n${billionLaughs()}`)],
    ["apps.shop-web.notify", (t) => t.replace("notify: [shop-slack, shop-audit]", "notify: *l8").replace(/^version: 1$/m, `version: 1\n${billionLaughs()}`)],
    [
      "the targets of shop-web staging",
      (t) => t.replace("          - { cluster: shop-staging, service: web }", "          - *l8").replace(/^version: 1$/m, `version: 1\n${billionLaughs()}`),
    ],
    [
      "a merge key (<<) of mappings",
      (t) =>
        t.replace(
          "apps:",
          "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9}\nm1: &m1 {a: *m0, b: *m0, c: *m0, d: *m0, e: *m0, f: *m0, g: *m0, h: *m0, i: *m0}\nm2: &m2 {a: *m1, b: *m1, c: *m1, d: *m1, e: *m1, f: *m1, g: *m1, h: *m1, i: *m1}\napps:\n  <<: *m2",
        ),
    ],
  ];
  for (const [where, edit] of bombAt) {
    add({ category: "YAML bomb", what: `billion laughs at ${where}`, text: () => edit(BASE_TEXT) });
  }
  const bombTemplate = WORKER_TEXT.replace("  family:", `${billionLaughs("  ")}\n  x-expanded: *l8\n  family:`);
  add({ category: "YAML bomb", what: "billion laughs inside a task definition template", text: () => BASE_TEXT, files: { [WORKER]: bombTemplate } });
  add({
    category: "YAML bomb",
    what: "a smaller laugh (9^6) inside a template, still too large for ECS",
    text: () => BASE_TEXT,
    files: {
      [WORKER]: WORKER_TEXT.replace("  family:", `${billionLaughs("  ").split("\n").slice(0, 6).join("\n")}\n  x-expanded: *l5\n  family:`),
    },
  });

  // ── huge documents ─────────────────────────────────────────────────────────────────────
  add({
    category: "huge",
    what: "50,000 unknown keys at the top",
    text: () => `${BASE_TEXT}\n${Array.from({ length: 50_000 }, (_, i) => `junk${i}: ${i}`).join("\n")}\n`,
  });
  add({
    category: "huge",
    what: "5,000 environments with one mistake each",
    text: () => {
      const t = baseTree();
      t.apps["shop-web"].environments = Array.from({ length: 5000 }, (_, i) => ({
        name: `env-${i}`,
        region: "eu-west-1",
        targets: [{ cluster: "c", service: `s${i}` }],
        watch: "5 minutes",
      }));
      return yaml(t);
    },
  });
  const hostileNames = Array.from({ length: 10_000 }, (_, i) => `${pick(random, UNICODE)}{{${i}}}`);
  add({
    category: "huge",
    what: "10,000 variables with hostile names",
    text: () => {
      const t = baseTree();
      for (const [i, name] of hostileNames.entries()) t.apps["shop-web"].variables[name] = i;
      return yaml(t);
    },
  });
  add({ category: "huge", what: "a 1 MB repository name", text: () => BASE_TEXT.replace("repository: shop/web", `repository: ${huge(1024 * 1024, "a")}`) });
  add({
    category: "huge",
    what: "100,000 notify entries",
    text: () => BASE_TEXT.replace("notify: [shop-slack, shop-audit]", `notify: [${Array(100_000).fill("nobody").join(", ")}]`),
  });
  add({ category: "huge", what: "flow lists nested 10,000 deep", text: () => `version: 1\napps: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n` });
  add({
    category: "huge",
    what: "block mappings nested 2,000 deep",
    text: () => `version: 1\napps:\n${Array.from({ length: 2000 }, (_, i) => `${"  ".repeat(i + 1)}k${i}:`).join("\n")} x\n`,
  });
  add({
    category: "huge",
    what: "a JSON template nested 100,000 deep",
    text: () => BASE_TEXT,
    files: {
      [WEB]: `{"family": "x", "containerDefinitions": [{"name": "web", "image": "{{ image }}", "memory": 512}], "x": ${JSON.stringify(deeplyNested(2)).replace('"bottom"', `${"[".repeat(100_000)}${"]".repeat(100_000)}`)}}`,
    },
  });
  add({
    category: "huge",
    what: "a template with 60,000 environment entries",
    text: () => BASE_TEXT,
    files: {
      [WEB]: WEB_TEXT.replace('"environment": [', `"environment": [${Array.from({ length: 60_000 }, (_, i) => `{"name": "V${i}", "value": "x"}`).join(",")},`),
    },
  });

  // ── regular expressions ───────────────────────────────────────────────────────────────
  for (const tags of ["(", "[", "*", "+", "a{2,1}", "(?<", "\\", "v1)|(.*", "(?=", "[z-a]", "(?<n>a)(?<n>b)", "{{ image }}(", "(?<1>x)"]) {
    add({ category: "bad regex", what: `apps.shop-web.tags = ${short(tags)}`, text: () => yaml(setAt(baseTree(), ["apps", "shop-web", "tags"], tags)) });
  }

  // ── names and ARNs ─────────────────────────────────────────────────────────────────────
  const at = (path: Path, value: unknown, what = `${showPath(path)} = ${short(value)}`) =>
    add({ category: "bad name or ARN", what, text: () => yaml(setAt(baseTree(), path, value)) });
  const stagingTarget: Path = ["apps", "shop-web", "environments", 0, "targets", 0];
  for (const cluster of [
    "arn:aws:ecs:us-east-1:123456789012:cluster/shop",
    "arn:aws:ecs:eu-west-1:12345:cluster/shop",
    "arn:aws:ec2:eu-west-1:123456789012:cluster/shop",
    "arn:aws:ecs:eu-west-1:123456789012:service/shop/web",
    "shop staging",
    "shop/staging",
    "shоp",
    huge(300, "c"),
    "{{ cluster }}",
    "arn:",
  ]) {
    at([...stagingTarget, "cluster"], cluster);
  }
  for (const service of ["web!", "web service", "wеb", huge(256, "s"), "", "{{ service }}", "../web"]) at([...stagingTarget, "service"], service);
  for (const region of ["EU-WEST-1", "eu-west", "europe", "eu-west-1 ", "eu_west_1", "xx-yyyy-1\n"])
    at(["apps", "shop-web", "environments", 0, "region"], region);
  for (const repository of [
    "Shop/Web",
    "shop web",
    "/shop/web",
    "shop/web/",
    "shop//web",
    "s",
    huge(257, "a"),
    "ѕhop/web",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web",
  ]) {
    at(["apps", "shop-web", "repository"], repository);
  }
  for (const build of ["-shop", "shop web", "s", "shop:web"]) at(["apps", "shop-web", "build"], build);
  for (const name of ["Shop-Web", "shop_web", "1shop", "shop web", "шоп", ""]) {
    add({ category: "bad name or ARN", what: `an app named ${short(name)}`, text: () => BASE_TEXT.replace("  shop-web:", `  ${JSON.stringify(name)}:`) });
  }
  at(["apps", "shop-web", "environments", 1, "name"], "staging", "two environments named staging");
  at(
    ["apps", "shop-worker", "environments", 0, "targets", 0],
    { cluster: "shop-staging", service: "web" },
    "shop-worker deploys shop-web's staging service too",
  );
  for (const alarm of [
    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
    "arn:aws:cloudwatch:eu-west-1:123:alarm:x",
    "arn:aws:sns:eu-west-1:123456789012:x",
    "bad\nalarm",
    huge(256, "a"),
  ]) {
    at(["apps", "shop-web", "environments", 0, "alarms", 0], alarm);
  }
  for (const url of [
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "http://example.com",
    "ssm:",
    "ssm:/has space",
    "secretsmanager:",
    "arn:aws:s3:::bucket/secret",
    "arn:aws:ssm:eu-west-1:123456789012:document/x",
    "{{ secret }}",
    "ssm:/with\nnewline",
  ]) {
    at(["notifications", "shop-slack", "url"], url);
  }
  at(["notifications", "shop-audit", "secret"], "hunter2");
  at(["notifications", "shop-slack", "type"], "email");
  at(["apps", "shop-web", "notify", 0], "nobody");
  const hooks = (hook: Json) => ({ type: "blue-green", bakeTime: "5m", hooks: [hook] });
  for (const hook of [
    { target: "arn:aws:lambda:eu-west-1:123456789012:function:hook", role: "arn:aws:iam::123456789012:user/me", stages: ["PRE_SCALE_UP"] },
    { target: "arn:aws:sns:eu-west-1:123456789012:hook", role: "arn:aws:iam::123456789012:role/r", stages: ["PRE_SCALE_UP"] },
    { target: "arn:aws:lambda:eu-west-1:123456789012:function:hook", role: "arn:aws:iam::123456789012:role/r", stages: [] },
    { target: "arn:aws:lambda:eu-west-1:123456789012:function:hook", role: "arn:aws:iam::123456789012:role/r", stages: ["SOMETIME"] },
  ]) {
    at(["apps", "shop-web", "environments", 1, "strategy"], hooks(hook), `a lifecycle hook ${short(JSON.stringify(hook).slice(0, 60))}`);
  }

  // ── durations, promotion and strategy mistakes ────────────────────────────────────────
  const staging: Path = ["apps", "shop-web", "environments", 0];
  const production: Path = ["apps", "shop-web", "environments", 1];
  for (const duration of ["0s", "99999999999999999999d", "366d", "9007199254740993s", "-5m", "5 m", "PT5M", "5M", "1.5h", "5m30", "m", "", "5m5m"]) {
    at([...staging, "deadline"], duration, `deadline = ${short(duration)}`);
  }
  for (const duration of ["99999999999999999999d", "400d", "10 minutes", "10min"]) at([...staging, "watch"], duration, `watch = ${short(duration)}`);
  for (const duration of ["0s", "99999999999999999999d", "never"])
    at([...production, "promote", "expiresAfter"], duration, `promote.expiresAfter = ${short(duration)}`);
  at([...staging, "promote"], { approval: "auto" }, "the first environment is promoted to");
  at([...production, "promote"], { from: "production" }, "production is promoted from itself");
  at([...production, "promote"], { from: "qa" }, "promoted from an environment that does not exist");
  at([...production, "promote"], { approval: "sometimes" }, "promote.approval = sometimes");
  for (const strategy of [
    { type: "rolling", bakeTime: "5m" },
    { type: "canary", stepPercent: 10 },
    { type: "linear", stepPercent: 1 },
    { type: "linear", stepPercent: 101 },
    { type: "canary", canaryPercent: 0 },
    { type: "blue-green", bakeTime: "90s" },
    { type: "blue-green", bakeTime: "2d" },
    { type: "big-bang" },
    { type: "canary", canaryPercent: Number.NaN },
  ]) {
    at([...production, "strategy"], strategy, `strategy ${short(JSON.stringify(strategy))}`);
  }
  at([...staging, "whenAlarmFiring"], "ignore");
  at([...staging, "onTimeout"], "panic");
  at(["version"], 2);
  at(["version"], "1");

  // ── variables: names, built-ins and values ────────────────────────────────────────────
  for (const name of ["image", "digest", "env", "1ST", "has space", "{{ x }}", "dash-ed"]) {
    add({
      category: "bad variable",
      what: `a variable named ${short(name)}`,
      text: () => yaml(setAt(baseTree(), ["apps", "shop-web", "variables", name], "x")),
    });
  }
  for (const [name, value] of [
    ["TASK_CPU", "{{ image }}"],
    ["TASK_CPU", 256],
    ["TASK_MEMORY", "lots"],
    ["TASK_CPU", "\u0000"],
    ["CONTAINER_PORT", "8080"],
    ["CONTAINER_PORT", 70_000],
    ["CONTAINER_PORT", -1],
    ["CONTAINER_PORT", true],
  ] as const) {
    add({
      category: "bad variable",
      what: `${name} = ${short(value)} (breaks an ECS rule)`,
      text: () => yaml(setAt(baseTree(), [...staging, "variables", name], value)),
    });
  }
  add({
    category: "bad variable",
    what: "TASK_CPU removed from staging (the template needs it)",
    text: () => {
      const t = baseTree();
      delete t.apps["shop-web"].environments[0].variables.TASK_CPU;
      return yaml(t);
    },
  });
  const notAName = [...TEMPLATE_LIKE, ...UNICODE].filter((v) => !/^[A-Za-z0-9_-]*$/.test(v));
  for (const family of sample(random, notAName, 6)) {
    add({
      category: "bad variable",
      what: `FAMILY = shop-worker${short(family)} (an ECS family is letters, digits, - and _)`,
      text: () => yaml(setAt(baseTree(), ["apps", "shop-worker", "environments", 0, "variables", "FAMILY"], `shop-worker${family}`)),
    });
  }
  for (const variable of ["nested", "list"]) {
    add({
      category: "bad variable",
      what: `LOG_LEVEL = a ${variable}`,
      text: () => yaml(setAt(baseTree(), ["apps", "shop-web", "variables", "LOG_LEVEL"], variable === "list" ? ["a"] : { a: 1 })),
    });
  }

  // ── templates: missing, unreadable, malformed, hostile ────────────────────────────────
  add({ category: "template", what: "web.json is missing", text: () => BASE_TEXT, files: { [WEB]: null } });
  add({
    category: "template",
    what: "a template path that leaves the config's folder",
    text: () => BASE_TEXT.replace("template: templates/web.json", "template: ../../../etc/passwd"),
  });
  add({
    category: "template",
    what: "a template path with NUL and {{ }}",
    text: () => BASE_TEXT.replace("template: templates/web.json", 'template: "templates/{{ env }}\\0.json"'),
  });
  add({
    category: "template",
    what: "a template path that is a folder",
    text: () => BASE_TEXT.replace("template: templates/web.json", "template: templates/"),
  });
  const failing = (what: string, error: unknown) =>
    add({
      category: "template",
      what: `reading a template fails: ${what}`,
      text: () => BASE_TEXT,
      reader: () => {
        throw error;
      },
    });
  failing("EACCES", Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }));
  failing("EISDIR", Object.assign(new Error("EISDIR: illegal operation on a directory"), { code: "EISDIR" }));
  failing("a thrown string", "disk on fire");
  failing("undefined", undefined);
  const badTemplates: [string, string, string][] = [
    ["web.json is not JSON", WEB, '{"family": "x",'],
    ["web.json is empty", WEB, ""],
    ["web.json is a list", WEB, "[]"],
    ["web.json is a string", WEB, '"{{ image }}"'],
    ["web.json is null", WEB, "null"],
    ["web.json has NaN", WEB, '{"family": NaN}'],
    ["web.json never uses {{ image }}", WEB, WEB_TEXT.replace("{{ image }}", "nginx:latest")],
    ["a placeholder in a key", WEB, WEB_TEXT.replace('"family"', '"{{ env }}family"')],
    ["a placeholder name with a space", WEB, WEB_TEXT.replace("{{ LOG_LEVEL }}", "{{ LOG LEVEL }}")],
    ["a placeholder {{ __proto__ }}", WEB, WEB_TEXT.replace("{{ LOG_LEVEL }}", "{{ __proto__ }}")],
    ["a placeholder {{ constructor }}", WEB, WEB_TEXT.replace("{{ LOG_LEVEL }}", "{{ constructor }}")],
    ["a placeholder {{ toString }}", WEB, WEB_TEXT.replace("{{ LOG_LEVEL }}", "{{ toString }}")],
    ["an undefined placeholder", WEB, WEB_TEXT.replace("{{ LOG_LEVEL }}", "{{ NOT_DEFINED_ANYWHERE }}")],
    ["${image} instead of {{ image }}", WEB, WEB_TEXT.replace("{{ image }}", "${image}")],
    ["cpu as a bare number", WEB, WEB_TEXT.replace('"{{ TASK_CPU }}"', "256")],
    ["no containers", WEB, '{"family": "shop-web-{{ env }}", "image": "{{ image }}", "containerDefinitions": []}'],
    ["worker.yaml has a date", WORKER, WORKER_TEXT.replace('cpu: "512"', "cpu: 2024-01-01")],
    ["worker.yaml has !!binary", WORKER, WORKER_TEXT.replace('cpu: "512"', "cpu: !!binary aGVsbG8=")],
    ["worker.yaml has .inf", WORKER, WORKER_TEXT.replace('cpu: "512"', "cpu: .inf")],
    ["worker.yaml has a JS function tag", WORKER, WORKER_TEXT.replace('cpu: "512"', 'cpu: !!js/function "function () { return 1 }"')],
    ["worker.yaml has a duplicate key", WORKER, WORKER_TEXT.replace('cpu: "512"', 'cpu: "512"\n  cpu: "1024"')],
    ["worker.yaml has a tab", WORKER, WORKER_TEXT.replace('  cpu: "512"', '\tcpu: "512"')],
    ["worker.yaml is cut in half", WORKER, WORKER_TEXT.slice(0, 700)],
  ];
  for (const [what, file, text] of badTemplates) add({ category: "template", what, text: () => BASE_TEXT, files: { [file]: text } });
  for (const value of sample(random, notAName, 8)) {
    // A placeholder whose value is itself a name (env, TASK_CPU) renders to a valid family.
    if (/^\{\{\s*(env|TASK_CPU)\s*\}\}$/.test(value)) continue;
    add({
      category: "template",
      what: `web.json's family = ${short(value)} (not an ECS family name)`,
      text: () => BASE_TEXT,
      files: {
        [WEB]: WEB_TEXT.replace('"shop-web-{{ env }}"', JSON.stringify(`shop-web-{{ env }}${value}`)),
      },
    });
  }
  for (let i = 0; i < 5; i++) {
    const value = hostileString(random);
    add({
      category: "template",
      what: `web.json's executionRoleArn = ${short(value)}`,
      text: () => BASE_TEXT,
      files: {
        [WEB]: WEB_TEXT.replace('"arn:aws:iam::123456789012:role/shop-{{ env }}-ecs-execution"', JSON.stringify(value)),
      },
    });
  }
  return cases;
}

/**
 * Why a wrong-typed value at `path` can still be a valid config, or undefined when it must not
 * load. Only places where the schema deliberately accepts the type: a variable's value may be a
 * string, a number or a boolean; lists of notify targets and alarms may be empty; `promote: {}`
 * means "promote from the previous environment, automatically"; a target's own variables may be
 * empty (its environment's apply).
 */
function legitimately(path: Path, value: unknown): string | undefined {
  const p = showPath(path);
  const kind = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  if (/\.variables\.\w+$/.test(p) && ["number", "boolean", "string"].includes(kind)) return "a variable may be a string, a number or true/false";
  if (/\.(notify|alarms)$/.test(p) && Array.isArray(value) && value.length === 0) return "an empty list of notify targets or alarms is allowed";
  if (/\.promote$/.test(p) && kind === "object" && Object.keys(value as object).length === 0) return "promote: {} takes every default";
  if (/targets\[\d+\]\.variables$/.test(p) && kind === "object" && Object.keys(value as object).length === 0) return "a target's own variables may be empty";
  return undefined;
}

// ── hostile VALUES, end to end ───────────────────────────────────────────────────────────

export interface ValueCase {
  id: string;
  what: string;
  /** Values for the variables the example templates use only inside strings. */
  variables: { LOG_LEVEL: string; QUEUE: string; CONCURRENCY: string };
  /** Built-ins that come from outside (a tag from ECR, a commit from a build's GIT_COMMIT). */
  tag: string;
  commit: string;
}

/**
 * Configs whose variables carry hostile text: quotes, braces, newlines, `{{ }}` (including the
 * names of other variables and built-ins), `${...}`, `$(...)`, `$&`, unicode and long values.
 * LOG_LEVEL (web), QUEUE and CONCURRENCY (worker) are placed only inside strings by the
 * templates, so every such config is valid and must render with its structure intact, except
 * where a value of 100,000 characters makes a task definition longer than ECS takes.
 */
export function hostileValues(seed: number, count: number): ValueCase[] {
  const random = mulberry32(seed);
  const value = (i: number): string => {
    if (i % 50 === 0) return huge(100_000, pick(random, ["{{ image }}", '"}],\n', "\u202e🚀"]));
    if (i % 3 === 0) return pick(random, TEMPLATE_LIKE);
    return hostileString(random);
  };
  return Array.from({ length: count }, (_, i) => {
    const variables = { LOG_LEVEL: value(i), QUEUE: value(i + 1), CONCURRENCY: value(i + 2) };
    const c = { id: `T${String(i + 1).padStart(4, "0")}`, variables, tag: value(i + 3), commit: value(i + 4) };
    return {
      ...c,
      what: `LOG_LEVEL=${short(variables.LOG_LEVEL)} QUEUE=${short(variables.QUEUE)} CONCURRENCY=${short(variables.CONCURRENCY)} commit=${short(c.commit)}`,
    };
  });
}

/** The example config with a value case's variables set where the templates use them. */
export function configWithValues(c: ValueCase): string {
  const t = baseTree();
  t.apps["shop-web"].variables.LOG_LEVEL = c.variables.LOG_LEVEL;
  delete t.apps["shop-web"].environments[0].variables.LOG_LEVEL;
  for (const env of t.apps["shop-worker"].environments) {
    env.variables.QUEUE = c.variables.QUEUE;
    env.variables.CONCURRENCY = c.variables.CONCURRENCY;
  }
  const reports = t.apps["shop-worker"].environments[0].targets[2].variables;
  reports.QUEUE = c.variables.QUEUE;
  reports.CONCURRENCY = c.variables.CONCURRENCY;
  return yaml(t);
}
