import type { RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import { loadConfig } from "../../shared/config/load";
import type { Target } from "../../shared/config/model";
import { BUILTIN_VARIABLES, builtins, canonical, pinnedImage, provenanceTags, renderTarget, renderWith, type Image } from "../../shared/render/task-definition";
import { parseTemplate } from "../../shared/render/template";
import { FIXTURE_CONFIG } from "../support/config";

const config = loadConfig(FIXTURE_CONFIG);
const DIGEST = `sha256:${"3f9c2ab1".repeat(8)}`;
const URI = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web";
const image: Image = { repository: "shop/web", repositoryUri: URI, digest: DIGEST, tag: "3f9c2ab", commit: "3f9c2ab81d6e" };

function target(app: string, env: string, service: string): Target {
  const found = config.apps
    .find((a) => a.name === app)
    ?.environments.find((e) => e.name === env)
    ?.targets.find((t) => t.service === service);
  if (!found) throw new Error(`no target ${app}/${env}/${service}`);
  return found;
}

function input(t: Target, img: Image = image): Record<string, any> {
  const result = renderTarget(t, img);
  if (!result.ok) throw new Error(result.problems.join("\n"));
  return result.input as Record<string, any>;
}

const envOf = (container: { environment: { name: string; value: string }[] }) => Object.fromEntries(container.environment.map((e) => [e.name, e.value]));

describe("renderTarget: the example config", () => {
  const all = config.apps.flatMap((a) => a.environments.flatMap((e) => e.targets));

  it.each(all.map((t) => [t.key, t] as const))("renders %s into a definition that passes the ECS rules", (_, t) => {
    expect(renderTarget(t, image)).toEqual({ ok: true, input: expect.any(Object) });
  });

  it("pins the image by digest, never by tag", () => {
    const web = input(target("shop-web", "staging", "web"));
    expect(web.containerDefinitions[0].image).toBe(`${URI}@${DIGEST}`);
    expect(pinnedImage(image)).toBe(`${URI}@${DIGEST}`);
    expect(JSON.stringify(web)).not.toContain(':3f9c2ab"');
  });

  it("substitutes the built-ins env, region and commit in shop-web", () => {
    const web = input(target("shop-web", "production", "web"));
    expect(web.family).toBe("shop-web-production");
    expect(web.executionRoleArn).toBe("arn:aws:iam::123456789012:role/shop-production-ecs-execution");
    expect(envOf(web.containerDefinitions[0])).toEqual({ APP_ENV: "production", LOG_LEVEL: "info", GIT_COMMIT: "3f9c2ab81d6e" });
    expect(web.containerDefinitions[0].logConfiguration.options).toEqual({
      "awslogs-group": "/ecs/shop-web-production",
      "awslogs-region": "eu-west-1",
      "awslogs-stream-prefix": "web",
    });
    expect(web.containerDefinitions[0].secrets[0].valueFrom).toBe("arn:aws:ssm:eu-west-1:123456789012:parameter/shop/production/database-url");
  });

  it("keeps numbers typed and quoted values as strings", () => {
    const web = input(target("shop-web", "production", "web"));
    expect(web.cpu).toBe("1024");
    expect(web.memory).toBe("2048");
    expect(web.containerDefinitions[0].portMappings[0].containerPort).toBe(8080);
    expect(web.containerDefinitions[0].healthCheck.command[1]).toBe("wget -qO- http://127.0.0.1:8080/health || exit 1");
    expect(web.containerDefinitions[0].healthCheck.interval).toBe(10);
  });

  it("substitutes the tag and the target's own variables in shop-worker, keeping the template's tags", () => {
    const worker = input(target("shop-worker", "staging", "worker"));
    expect(worker.family).toBe("shop-worker-staging");
    expect(worker.containerDefinitions[0].command).toEqual(["bin/worker", "--queue", "shop-staging-jobs", "--concurrency", "4"]);
    expect(envOf(worker.containerDefinitions[0])).toEqual({ APP_ENV: "staging", IMAGE_TAG: "3f9c2ab" });
    expect(worker.tags).toEqual([{ key: "team", value: "shop" }]);
    for (const key of ["taskDefinitionArn", "revision", "status", "registeredAt", "registeredBy", "compatibilities", "requiresAttributes"]) {
      expect(worker).not.toHaveProperty(key);
    }
    const reports = input(target("shop-worker", "staging", "worker-reports"));
    expect(reports.family).toBe("shop-worker-reports-staging");
    expect(reports.containerDefinitions[0].command).toEqual(["bin/worker", "--queue", "shop-staging-reports", "--concurrency", "1"]);
  });

  it("renders the same definition for two services that share a template and variables", () => {
    const a = input(target("shop-worker", "staging", "worker"));
    const b = input(target("shop-worker", "staging", "worker-priority"));
    expect(canonical(a)).toBe(canonical(b));
    expect(canonical(a)).not.toBe(canonical(input(target("shop-worker", "staging", "worker-reports"))));
  });

  it("writes an empty tag and commit for an image pushed without them", () => {
    const worker = input(target("shop-worker", "staging", "worker"), { repository: "shop/worker", repositoryUri: URI, digest: DIGEST });
    expect(envOf(worker.containerDefinitions[0])).toEqual({ APP_ENV: "staging", IMAGE_TAG: "" });
  });

  it("lets built-ins win over a target variable of the same name", () => {
    const t = target("shop-web", "staging", "web");
    const web = input({ ...t, variables: { ...t.variables, env: "production", image: "nginx:latest" } });
    expect(web.family).toBe("shop-web-staging");
    expect(web.containerDefinitions[0].image).toBe(`${URI}@${DIGEST}`);
  });
});

describe("builtins", () => {
  it("gives every built-in variable a value from the target and the image", () => {
    const t = target("shop-web", "staging", "web");
    const values = builtins(t, image);
    expect(Object.keys(values).sort()).toEqual([...BUILTIN_VARIABLES].sort());
    expect(values).toEqual({
      image: `${URI}@${DIGEST}`,
      digest: DIGEST,
      tag: "3f9c2ab",
      commit: "3f9c2ab81d6e",
      app: "shop-web",
      env: "staging",
      region: "eu-west-1",
      cluster: "shop-staging",
      service: "web",
      repository: "shop/web",
    });
  });
});

describe("renderWith", () => {
  const template = parseTemplate(
    JSON.stringify({
      family: "{{ FAMILY }}",
      containerDefinitions: [{ name: "app", image: "{{ image }}", memory: "{{ MEMORY }}" }],
    }),
    "templates/app.json",
  );

  it("names the file and every missing variable", () => {
    expect(renderWith(template, { image: "x" })).toEqual({ ok: false, problems: ["templates/app.json: missing variables FAMILY, MEMORY"] });
  });

  it("names the file in every rule problem", () => {
    expect(renderWith(template, { image: "x", FAMILY: "app", MEMORY: "512" })).toEqual({
      ok: false,
      problems: ['templates/app.json: containerDefinitions[0].memory: must be a whole number, got "512" (write the variable without quotes)'],
    });
  });

  it("returns the RegisterTaskDefinition input when the rules pass", () => {
    expect(renderWith(template, { image: "x", FAMILY: "app", MEMORY: 512 })).toEqual({
      ok: true,
      input: { family: "app", containerDefinitions: [{ name: "app", image: "x", memory: 512 }] },
    });
  });
});

describe("provenanceTags", () => {
  const withTags = (tags?: { key: string; value: string }[]): RegisterTaskDefinitionCommandInput => ({
    family: "web",
    containerDefinitions: [],
    ...(tags ? { tags } : {}),
  });

  it("adds ours with the stevedore: prefix after the template's own", () => {
    expect(provenanceTags(withTags([{ key: "team", value: "shop" }]), { app: "shop-web", digest: DIGEST })).toEqual([
      { key: "team", value: "shop" },
      { key: "stevedore:app", value: "shop-web" },
      { key: "stevedore:digest", value: DIGEST },
    ]);
  });

  it("works without template tags", () => {
    expect(provenanceTags(withTags(), { env: "staging" })).toEqual([{ key: "stevedore:env", value: "staging" }]);
  });

  it("lets ours win when the template already has the key", () => {
    const tags = provenanceTags(
      withTags([
        { key: "stevedore:env", value: "stale" },
        { key: "team", value: "shop" },
      ]),
      { env: "production" },
    );
    expect(tags).toEqual([
      { key: "team", value: "shop" },
      { key: "stevedore:env", value: "production" },
    ]);
  });

  it("drops empty and undefined values", () => {
    expect(provenanceTags(withTags(), { tag: undefined, commit: "", trigger: "push" })).toEqual([{ key: "stevedore:trigger", value: "push" }]);
  });

  it.each<[string, string, string]>([
    ["the allowed punctuation", "feature/x y+z=1.2_3:4@5-6", "feature/x y+z=1.2_3:4@5-6"],
    ["letters and digits of any script", "größe ١٢٣ 日本", "größe ١٢٣ 日本"],
    ["a no-break space (a Unicode space)", "a\u00a0b", "a\u00a0b"],
    ["newlines and tabs", "a\nb\tc\r\nd", "a_b_c__d"],
    ["quotes, brackets and shell characters", `"'<>&*#!$;,|`, "____________"],
    ["an emoji (one character, one _)", "ship 🚀", "ship _"],
    ["a lone surrogate", "a\ud800b", "a_b"],
    ["NUL and other controls", "a\u0000b\u001bc", "a_b_c"],
    ["a right-to-left mark", "a\u200fb", "a_b"],
  ])("sanitises %s", (_, value, expected) => {
    expect(provenanceTags(withTags(), { trigger: value })).toEqual([{ key: "stevedore:trigger", value: expected }]);
  });

  it.each<[string, string]>([
    ["ASCII", "r".repeat(300)],
    ["letters outside the BMP (surrogate pairs)", "𝐀".repeat(300)],
    ["a mix where the cut falls on a surrogate pair", `${"a".repeat(255)}${"𝐀".repeat(10)}`],
  ])("cuts %s to 256 characters without splitting one", (_, value) => {
    const [tag] = provenanceTags(withTags(), { replaces: value });
    expect(Array.from(tag?.value ?? "")).toHaveLength(256);
    expect(Buffer.from(tag?.value ?? "", "utf8").toString("utf8")).toBe(tag?.value);
    expect(value.startsWith(tag?.value ?? "-")).toBe(true);
  });

  it("always produces values ECS accepts, whatever comes in", () => {
    const nasty = ["", " ", "a\u2028b", "\ud83d", "\udc00x", "😀".repeat(200), "x".repeat(1000), "ünïcödé/ok:1", "{{ env }}", "$&"];
    const tags = provenanceTags(withTags(), Object.fromEntries(nasty.map((v, i) => [`k${i}`, v])));
    expect(tags.length).toBeGreaterThan(0);
    for (const { value } of tags) {
      expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
      expect(Array.from(value ?? "").length).toBeLessThanOrEqual(256);
      expect(Buffer.from(value ?? "", "utf8").toString("utf8")).toBe(value);
    }
  });
});

describe("canonical", () => {
  it("gives the same text whatever the key order, at every level", () => {
    const a = { family: "web", cpu: "256", containerDefinitions: [{ name: "web", image: "i", environment: [{ name: "A", value: "1" }] }] };
    const b = { containerDefinitions: [{ environment: [{ value: "1", name: "A" }], image: "i", name: "web" }], cpu: "256", family: "web" };
    expect(canonical(a)).toBe(canonical(b));
    expect(JSON.parse(canonical(a))).toEqual(a);
  });

  it.each<[string, object]>([
    ["a value", { family: "web", cpu: "512" }],
    ["a value's type", { family: "web", cpu: 256 }],
    ["an extra key", { family: "web", cpu: "256", memory: "512" }],
  ])("tells definitions apart by %s", (_, other) => {
    expect(canonical({ family: "web", cpu: "256" })).not.toBe(canonical(other as RegisterTaskDefinitionCommandInput));
  });

  it("keeps array order (container order matters)", () => {
    expect(canonical({ containerDefinitions: [{ name: "a" }, { name: "b" }] })).not.toBe(canonical({ containerDefinitions: [{ name: "b" }, { name: "a" }] }));
  });
});
