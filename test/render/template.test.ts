import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { render, type JsonObject, type TaskDefinitionTemplate, type VariableValue } from "../../shared/render/placeholders";
import { parseTemplate, READ_ONLY_KEYS, TemplateError } from "../../shared/render/template";
import { FIXTURE_TEMPLATES } from "../support/config";

const TEMPLATES = resolve(FIXTURE_TEMPLATES);

function template(body: JsonObject, file = "t.json"): TaskDefinitionTemplate {
  return parseTemplate(JSON.stringify(body), file);
}

function rendered(body: JsonObject, variables: Record<string, VariableValue>): JsonObject {
  const result = render(template(body), variables);
  if (!result.ok) throw new Error(`missing ${result.missing.join(", ")}`);
  return result.taskDefinition;
}

function templateError(text: string, file: string): TemplateError {
  try {
    parseTemplate(text, file);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error("expected a TemplateError");
}

describe("parseTemplate: placeholders", () => {
  it("collects every placeholder name from string values at any depth, sorted and once each", () => {
    const t = template({
      family: "{{ FAMILY }}",
      containerDefinitions: [
        {
          image: "{{ image }}",
          command: ["run", "--queue", "{{ QUEUE }}", ["nested", "{{ DEEP }}"]],
          environment: [{ name: "A", value: "{{ FAMILY }}-{{ env }}" }],
          logConfiguration: { options: { "awslogs-region": "{{ region }}" } },
        },
      ],
    });
    expect(t.placeholders).toEqual(["DEEP", "FAMILY", "QUEUE", "env", "image", "region"]);
  });

  it.each([["{{x}}"], ["{{ x }}"], ["{{  x  }}"], ["{{\tx\t}}"], ["{{\nx\n}}"]])("reads %j as the placeholder x", (text) => {
    expect(template({ a: text }).placeholders).toEqual(["x"]);
  });

  it("finds no placeholder in numbers, booleans, null or single braces", () => {
    expect(template({ a: 1, b: true, c: null, d: "{ x }", e: "{x}}", f: "{{x}", g: "}} {{" }).placeholders).toEqual([]);
  });

  it.each([
    ["a space inside the name", "{{ a b }}", '"{{ a b }}" is not a placeholder'],
    ["a Go template", "{{.Name}}", '"{{.Name}}" is not a placeholder'],
    ["a dotted name", "{{ a.b }}", '"{{ a.b }}" is not a placeholder'],
    ["a name starting with a digit", "{{ 1x }}", '"{{ 1x }}" is not a placeholder'],
    ["a dash in the name", "{{ LOG-LEVEL }}", '"{{ LOG-LEVEL }}" is not a placeholder'],
    ["an empty placeholder", "{{ }}", '"{{ }}" is not a placeholder'],
    ["a filter", "{{ x | upper }}", '"{{ x | upper }}" is not a placeholder'],
  ])("rejects %s with the value's path", (_, value, message) => {
    const error = templateError(JSON.stringify({ containerDefinitions: [{ environment: [{ name: "A", value }] }] }), "t.json");
    expect(error.file).toBe("t.json");
    expect(error.problems).toEqual([`containerDefinitions[0].environment[0].value: ${message}; names are letters, digits and _`]);
  });

  it("rejects placeholders in keys, naming the key's path", () => {
    const error = templateError(JSON.stringify({ containerDefinitions: [{ dockerLabels: { "team-{{ env }}": "x" } }] }), "t.json");
    expect(error.problems).toEqual(["containerDefinitions[0].dockerLabels.team-{{ env }}: placeholders are substituted in values only, not in keys"]);
  });

  it("reports every problem of a template together", () => {
    const error = templateError(JSON.stringify({ "{{ k }}": 1, a: "{{ a b }}", b: ["{{.X}}"] }), "t.json");
    expect(error.problems).toHaveLength(3);
    expect(error.message).toContain("t.json: ");
  });
});

describe("parseTemplate: files", () => {
  it.each([
    ["JSON by .json", "t.json", '{"family": "web", "cpu": "256"}'],
    ["JSON by .JSON", "T.JSON", '{"family": "web", "cpu": "256"}'],
    ["YAML by .yaml", "t.yaml", 'family: web\ncpu: "256"'],
    ["YAML by .yml", "t.yml", 'family: web\ncpu: "256"'],
  ])("reads %s", (_, file, text) => {
    expect(parseTemplate(text, file).body).toEqual({ family: "web", cpu: "256" });
  });

  it("does not read YAML from a .json file", () => {
    expect(templateError("family: web", "t.json").problems).toEqual([expect.stringMatching(/^cannot parse: /)]);
  });

  it("reads YAML's own forms (flow, block, anchors) in a .yaml file", () => {
    const t = parseTemplate("base: &b { name: web }\ncontainerDefinitions:\n  - *b\n", "t.yaml");
    expect(t.body.containerDefinitions).toEqual([{ name: "web" }]);
  });

  it.each([
    ["bad JSON", "t.json", '{ "family": '],
    ["bad YAML", "t.yaml", "family: [web"],
    ["an unknown YAML tag", "t.yaml", "family: !!python/object:os.system web"],
  ])("names the file and says it cannot parse %s", (_, file, text) => {
    const error = templateError(text, file);
    expect(error.file).toBe(file);
    expect(error.problems).toEqual([expect.stringMatching(/^cannot parse: \S/)]);
    expect(error.problems[0]).not.toContain("\n");
  });

  it.each([
    ["an unquoted date", "dockerLabels: { built: 2024-01-01 }", "dockerLabels.built: YAML reads this as a date, not text; quote it"],
    ["a timestamp in a list", "command: [run, 2024-01-01T10:00:00Z]", "command[1]: YAML reads this as a date, not text; quote it"],
    ["!!binary", "data: !!binary aGVsbG8=", "data: YAML reads this as binary data, not text; quote it"],
    [".inf", "x: .inf", "x: YAML reads this as Infinity, which JSON cannot hold; quote it"],
    [".nan", "x: .nan", "x: YAML reads this as NaN, which JSON cannot hold; quote it"],
  ])("rejects YAML's non-JSON values (%s) instead of rendering them as {} or null", (_, yaml, problem) => {
    expect(templateError(`family: web\n${yaml}\n`, "t.yaml").problems).toEqual([problem]);
  });

  it("keeps a quoted date as text", () => {
    expect(parseTemplate("dockerLabels: { built: '2024-01-01' }", "t.yaml").body).toEqual({ dockerLabels: { built: "2024-01-01" } });
  });

  it("accepts an unquoted date in a read-only key it strips (raw describe output)", () => {
    const t = parseTemplate("taskDefinition:\n  family: web\n  registeredAt: 2026-10-02T11:40:12.511Z\n", "t.yaml");
    expect(t.body).toEqual({ family: "web" });
    expect(t.strippedKeys).toEqual(["registeredAt"]);
  });

  it.each([
    ["a list", "t.json", "[]"],
    ["a string", "t.json", '"family"'],
    ["null", "t.json", "null"],
    ["a number", "t.yaml", "42"],
    ["an empty file", "t.yaml", ""],
  ])("rejects %s as not a task definition object", (_, file, text) => {
    expect(templateError(text, file).problems).toEqual(["the template must be a task definition object"]);
  });
});

describe("parseTemplate: describe-task-definition output", () => {
  const describeOutput = {
    taskDefinition: {
      taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7",
      family: "web",
      revision: 7,
      status: "ACTIVE",
      requiresAttributes: [{ name: "com.amazonaws.ecs.capability.execution-role-awslogs" }],
      compatibilities: ["EC2", "FARGATE"],
      registeredAt: "2026-10-02T11:40:12.511Z",
      registeredBy: "arn:aws:sts::123456789012:assumed-role/admin/someone",
      deregisteredAt: "2026-10-03T11:40:12.511Z",
      requiresCompatibilities: ["FARGATE"],
      containerDefinitions: [{ name: "web", image: "{{ image }}", cpu: 0 }],
      newFieldEcsAddsLater: { enabled: true },
    },
    tags: [{ key: "team", value: "shop" }],
  };

  it("unwraps the definition, strips exactly the read-only keys and reports them", () => {
    const t = template(describeOutput);
    expect(t.strippedKeys.slice().sort()).toEqual([...READ_ONLY_KEYS].sort());
    expect(t.body).toEqual({
      family: "web",
      requiresCompatibilities: ["FARGATE"],
      containerDefinitions: [{ name: "web", image: "{{ image }}", cpu: 0 }],
      newFieldEcsAddsLater: { enabled: true },
      tags: [{ key: "team", value: "shop" }],
    });
    expect(t.placeholders).toEqual(["image"]);
  });

  it("strips read-only keys from a plain definition too", () => {
    const t = template({ family: "web", revision: 3, status: "ACTIVE", containerDefinitions: [] });
    expect(t.strippedKeys).toEqual(["revision", "status"]);
    expect(t.body).toEqual({ family: "web", containerDefinitions: [] });
  });

  it("keeps nested keys that share a read-only key's name", () => {
    const t = template({ family: "web", containerDefinitions: [{ name: "web", status: "x" }] });
    expect(t.strippedKeys).toEqual([]);
    expect(t.body.containerDefinitions).toEqual([{ name: "web", status: "x" }]);
  });

  it("keeps the definition's own tags over the wrapper's", () => {
    const t = template({ taskDefinition: { family: "web", tags: [{ key: "own", value: "1" }] }, tags: [{ key: "team", value: "shop" }] });
    expect(t.body.tags).toEqual([{ key: "own", value: "1" }]);
  });

  it("adds no tags key when the wrapper's tags are empty", () => {
    expect(template({ taskDefinition: { family: "web" }, tags: [] }).body).toEqual({ family: "web" });
  });

  it("reads the fixture templates/worker.yaml (raw describe output in YAML)", () => {
    const t = parseTemplate(readFileSync(join(TEMPLATES, "worker.yaml"), "utf8"), "templates/worker.yaml");
    expect(t.strippedKeys.slice().sort()).toEqual([
      "compatibilities",
      "registeredAt",
      "registeredBy",
      "requiresAttributes",
      "revision",
      "status",
      "taskDefinitionArn",
    ]);
    expect(Object.keys(t.body)).not.toContain("taskDefinition");
    expect(t.body.tags).toEqual([{ key: "team", value: "shop" }]);
    expect(t.body.family).toBe("{{ FAMILY }}");
  });
});

describe("render", () => {
  it.each<[string, VariableValue, VariableValue]>([
    ["a number", 512, 512],
    ["zero", 0, 0],
    ["a negative number", -1, -1],
    ["a fraction", 0.5, 0.5],
    ["true", true, true],
    ["false", false, false],
    ["a string of digits", "512", "512"],
    ["an empty string", "", ""],
  ])("keeps the type of %s when the value is exactly one placeholder", (_, value, expected) => {
    expect(rendered({ memory: "{{ X }}", list: ["{{X}}"], spaced: "{{   X   }}" }, { X: value })).toEqual({
      memory: expected,
      list: [expected],
      spaced: expected,
    });
  });

  it.each<[string, VariableValue, string]>([
    ["a number", 8080, "http://127.0.0.1:8080/health"],
    ["true", true, "http://127.0.0.1:true/health"],
    ["a fraction", 1.5, "http://127.0.0.1:1.5/health"],
  ])("inserts the text of %s into a longer string", (_, value, expected) => {
    expect(rendered({ url: "http://127.0.0.1:{{ PORT }}/health" }, { PORT: value })).toEqual({ url: expected });
  });

  it.each([
    [" {{ X }}", " v"],
    ["{{ X }} ", "v "],
    ["{{ X }}{{ X }}", "vv"],
    ["{{ X }}-{{ Y }}", "v-7"],
  ])("treats %j as a longer string (text)", (text, expected) => {
    expect(rendered({ a: text }, { X: "v", Y: 7 })).toEqual({ a: expected });
  });

  it("substitutes in nested objects and arrays and leaves other values alone", () => {
    expect(rendered({ a: { b: [{ c: "{{ X }}" }, "{{ X }}!", 3, null, false], d: { e: { f: "-{{X}}-" } } }, n: 1.25 }, { X: "x" })).toEqual({
      a: { b: [{ c: "x" }, "x!", 3, null, false], d: { e: { f: "-x-" } } },
      n: 1.25,
    });
  });

  it("reports every missing variable at once, and ignores extra ones", () => {
    const t = template({ a: "{{ A }}", b: "{{ B }}-{{ C }}", d: "{{ D }}" });
    expect(render(t, { B: "b", EXTRA: "e" })).toEqual({ ok: false, missing: ["A", "C", "D"] });
  });

  it("does not take Object.prototype's members for variables", () => {
    const t = template({ a: "{{ constructor }}", b: "{{ toString }}" });
    expect(render(t, {})).toEqual({ ok: false, missing: ["constructor", "toString"] });
  });

  it.each([["$&"], ["$1"], ["$$"], ["$`"], ["$'"], ["$<name>"], ["a$&b$1c"]])("inserts %j literally (no String.replace patterns)", (value) => {
    expect(rendered({ a: "[{{ X }}]", b: "{{ X }}" }, { X: value })).toEqual({ a: `[${value}]`, b: value });
  });

  it("does not substitute a placeholder that a value brings in", () => {
    expect(rendered({ a: "{{ A }}", b: "<{{ A }}>", c: "{{ B }}" }, { A: "{{ B }}", B: "{{ A }}" })).toEqual({
      a: "{{ B }}",
      b: "<{{ B }}>",
      c: "{{ A }}",
    });
  });

  it("leaves the template untouched for the next render", () => {
    const t = template({ a: "{{ A }}", b: ["{{ A }}"] });
    const before = JSON.stringify(t.body);
    expect(render(t, { A: 1 })).toEqual({ ok: true, taskDefinition: { a: 1, b: [1] } });
    expect(render(t, { A: "two" })).toEqual({ ok: true, taskDefinition: { a: "two", b: ["two"] } });
    expect(JSON.stringify(t.body)).toBe(before);
  });

  it("renders the fixture templates/web.json with typed numbers and text in strings", () => {
    const t = parseTemplate(readFileSync(join(TEMPLATES, "web.json"), "utf8"), "templates/web.json");
    const result = render(t, {
      TASK_CPU: "256",
      TASK_MEMORY: "512",
      CONTAINER_PORT: 8080,
      LOG_LEVEL: "debug",
      env: "staging",
      image: "repo@sha256:abc",
      commit: "3f9c2ab",
      region: "eu-west-1",
    });
    if (!result.ok) throw new Error(result.missing.join());
    const td = result.taskDefinition as { [key: string]: any };
    expect(td.cpu).toBe("256");
    expect(td.family).toBe("shop-web-staging");
    expect(td.containerDefinitions[0].portMappings[0].containerPort).toBe(8080);
    expect(td.containerDefinitions[0].healthCheck.command[1]).toBe("wget -qO- http://127.0.0.1:8080/health || exit 1");
    expect(td.containerDefinitions[0].environment).toContainEqual({ name: "GIT_COMMIT", value: "3f9c2ab" });
  });
});
