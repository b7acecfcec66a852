import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { dump } from "js-yaml";
import { configPath, DEFAULT_CONFIG_PATH, loadConfig, parseConfig } from "../../shared/config/load";
import type { PipelineConfig } from "../../shared/config/model";
import { ConfigError } from "../../shared/errors";
import { FIXTURE_CONFIG } from "../support/config";

const EXAMPLES = resolve(dirname(FIXTURE_CONFIG));
const WEB_JSON = readFileSync(join(EXAMPLES, "templates/web.json"), "utf8");
const FILE = "/virtual/stevedore.yml";

/** Template files by absolute path, as parseConfig resolves them against /virtual. */
type Files = Record<string, string>;

function reader(files: Files) {
  return (path: string): string => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return text;
  };
}

// Test documents are plain YAML trees edited freely by each row.
type Doc = any;

/** A small valid config: two environments (the second promoted), one Slack and one webhook. */
function validDoc(): Doc {
  return {
    version: 1,
    notifications: {
      "team-slack": { type: "slack", url: "ssm:/stevedore/team/slack-url" },
      audit: { type: "webhook", url: "ssm:/stevedore/audit-url", secret: "secretsmanager:stevedore/audit-secret" },
    },
    apps: {
      web: {
        repository: "shop/web",
        tags: "v\\d+\\.\\d+\\.\\d+",
        template: "templates/web.json",
        variables: { LOG_LEVEL: "info", CONTAINER_PORT: 8080, TASK_CPU: "256", TASK_MEMORY: "512" },
        notify: ["team-slack"],
        environments: [
          { name: "staging", region: "eu-west-1", targets: [{ cluster: "shop-staging", service: "web" }], alarms: ["web-5xx"] },
          { name: "production", region: "eu-west-1", promote: {}, targets: [{ cluster: "shop-prod", service: "web" }] },
        ],
      },
    },
  };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function validFiles(): Files {
  return { "/virtual/templates/web.json": WEB_JSON };
}

function parse(doc: Doc, files: Files = validFiles()): PipelineConfig {
  return parseConfig(typeof doc === "string" ? doc : dump(doc), FILE, reader(files));
}

/** The ConfigError that parsing throws (fails the test when nothing is thrown). */
function problemsOf(doc: Doc, files: Files = validFiles()): string[] {
  try {
    parse(doc, files);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
  throw new Error("expected a ConfigError, but the config loaded");
}

/** A web.json variant: the example template, edited. */
function webJson(edit: (td: Doc) => void): string {
  const td = JSON.parse(WEB_JSON);
  edit(td);
  return JSON.stringify(td, null, 2);
}

describe("parseConfig: the valid baseline", () => {
  it("loads (so every broken row below fails for its one reason)", () => {
    const config = parse(validDoc());
    expect(config.apps.map((a) => a.name)).toEqual(["web"]);
    expect(config.destinations).toEqual({
      "team-slack": { name: "team-slack", type: "slack", url: { store: "ssm", name: "/stevedore/team/slack-url" } },
      audit: {
        name: "audit",
        type: "webhook",
        url: { store: "ssm", name: "/stevedore/audit-url" },
        secret: { store: "secretsmanager", id: "stevedore/audit-secret" },
      },
    });
  });
});

describe("loadConfig: the example config", () => {
  const config = loadConfig(join(EXAMPLES, "stevedore.yml"));
  const app = (name: string) => {
    const found = config.apps.find((a) => a.name === name);
    if (!found) throw new Error(`no app ${name}`);
    return found;
  };
  const env = (appName: string, envName: string) => {
    const found = app(appName).environments.find((e) => e.name === envName);
    if (!found) throw new Error(`no env ${appName}/${envName}`);
    return found;
  };

  it("keeps the file's absolute path and its apps in order", () => {
    expect(config.file).toBe(join(EXAMPLES, "stevedore.yml"));
    expect(config.apps.map((a) => [a.name, a.repository])).toEqual([
      ["shop-web", "shop/web"],
      ["shop-worker", "shop/worker"],
    ]);
  });

  it("keeps environments in the order they are written", () => {
    expect(config.apps.map((a) => a.environments.map((e) => e.name))).toEqual([
      ["staging", "production"],
      ["staging", "production"],
    ]);
  });

  it("keys every target region/cluster/service", () => {
    const keys = config.apps.flatMap((a) => a.environments.flatMap((e) => e.targets.map((t) => t.key)));
    expect(keys).toEqual([
      "eu-west-1/shop-staging/web",
      "eu-west-1/shop-prod/web",
      "eu-west-1/shop-staging/worker",
      "eu-west-1/shop-staging/worker-priority",
      "eu-west-1/shop-batch/worker-reports",
      "eu-west-1/shop-prod/worker",
    ]);
  });

  it("merges app, environment and target variables, the most specific winning, types kept", () => {
    expect(env("shop-web", "staging").targets[0]?.variables).toEqual({
      LOG_LEVEL: "debug",
      CONTAINER_PORT: 8080,
      TASK_CPU: "256",
      TASK_MEMORY: "512",
    });
    expect(env("shop-web", "production").targets[0]?.variables).toEqual({
      LOG_LEVEL: "info",
      CONTAINER_PORT: 8080,
      TASK_CPU: "1024",
      TASK_MEMORY: "2048",
    });
    const [worker, priority, reports] = env("shop-worker", "staging").targets;
    expect(worker?.variables).toEqual({ FAMILY: "shop-worker-staging", QUEUE: "shop-staging-jobs", CONCURRENCY: "4" });
    expect(priority?.variables).toEqual(worker?.variables);
    expect(reports?.variables).toEqual({ FAMILY: "shop-worker-reports-staging", QUEUE: "shop-staging-reports", CONCURRENCY: "1" });
  });

  it("defaults whenAlarmFiring to refuse in production and warn in staging", () => {
    expect(env("shop-web", "production").whenAlarmFiring).toBe("refuse");
    expect(env("shop-web", "staging").whenAlarmFiring).toBe("warn");
    expect(env("shop-worker", "production").whenAlarmFiring).toBe("refuse");
  });

  it("maps blue-green to BLUE_GREEN with its bake time in minutes, and defaults to ROLLING", () => {
    expect(env("shop-web", "production").strategy).toEqual({ type: "BLUE_GREEN", bakeTimeMinutes: 5 });
    expect(env("shop-web", "staging").strategy).toEqual({ type: "ROLLING" });
  });

  it("reads durations and their defaults in seconds", () => {
    expect(env("shop-web", "staging")).toMatchObject({ watchSeconds: 300, deadlineSeconds: 1200, onTimeout: "report" });
    expect(env("shop-web", "production")).toMatchObject({ watchSeconds: 600, deadlineSeconds: 1800, onTimeout: "rollback" });
    expect(env("shop-worker", "production")).toMatchObject({ watchSeconds: 600, deadlineSeconds: 1800 });
  });

  it("promotes from the previous environment, with the approval and expiry written or defaulted", () => {
    expect(env("shop-web", "staging").promote).toBeUndefined();
    expect(env("shop-web", "production").promote).toEqual({ from: "staging", approval: "auto", expiresAfterSeconds: 86400 });
    expect(env("shop-worker", "production").promote).toEqual({ from: "staging", approval: "manual", expiresAfterSeconds: 172800 });
  });

  it("keeps alarms and inherits the app's notify list", () => {
    expect(env("shop-web", "production").alarms).toEqual(["shop-prod-web-5xx", "shop-prod-web-latency"]);
    expect(env("shop-web", "staging").notify).toEqual(["shop-slack", "shop-audit"]);
    expect(env("shop-worker", "staging").notify).toEqual(["shop-slack"]);
  });

  it.each([
    ["3f9c2ab", true],
    ["3f9c2ab81d6e4f0a9b8c7d6e5f4a3b2c1d0e9f8a", true],
    ["latest", false],
    ["x3f9c2abx", false],
    ["3f9c2ab-dirty", false],
    ["3f9c2a", false],
  ])("matches shop-web's tag regex against the whole tag: %s → %s", (tag, deploys) => {
    expect(app("shop-web").tags?.test(tag)).toBe(deploys);
  });

  it("deploys every tag of an app without tags", () => {
    expect(app("shop-worker").tags).toBeNull();
  });

  it("records the build project", () => {
    expect(app("shop-web").buildProject).toBe("shop-web");
    expect(app("shop-worker").buildProject).toBeUndefined();
  });

  it("keeps a destination's KMS key", () => {
    const doc = validDoc();
    doc.notifications.audit.kmsKey = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(parse(doc).destinations.audit).toMatchObject({ kmsKey: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" });
  });

  it("gives every destination without a key of its own the config's kmsKey", () => {
    const doc = validDoc();
    doc.kmsKey = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    doc.notifications.audit.kmsKey = "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef";
    const { destinations } = parse(doc);
    expect(Object.values(destinations).map((d) => [d.name, d.kmsKey])).toEqual(
      Object.keys(doc.notifications).map((name) => [
        name,
        name === "audit"
          ? "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
          : "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      ]),
    );
  });

  it("lets only main's builds deploy when an app names no branches", () => {
    expect(app("shop-web").branches).toEqual(["main"]);
  });

  it("parses each template once, read-only keys stripped, placeholders listed", () => {
    const [worker, priority] = env("shop-worker", "staging").targets;
    expect(worker?.template).toBe(priority?.template);
    expect(worker?.templateFile).toBe("templates/worker.yaml");
    expect(worker?.template.strippedKeys).toEqual(expect.arrayContaining(["taskDefinitionArn", "revision", "status"]));
    expect(worker?.template.placeholders).toEqual(["CONCURRENCY", "FAMILY", "QUEUE", "env", "image", "region", "tag"]);
  });

  it("gives the same model through parseConfig with the template files injected", () => {
    const files: Files = {
      [join(EXAMPLES, "templates/web.json")]: WEB_JSON,
      [join(EXAMPLES, "templates/worker.yaml")]: readFileSync(join(EXAMPLES, "templates/worker.yaml"), "utf8"),
    };
    const again = parseConfig(readFileSync(join(EXAMPLES, "stevedore.yml"), "utf8"), join(EXAMPLES, "stevedore.yml"), reader(files));
    expect(again).toEqual(config);
  });
});

// Each row breaks ONE thing in the valid baseline. `path` is where the problem must point;
// `fix` is (part of) what the message must tell people to do.
interface Row {
  what: string;
  edit: (doc: Doc, files: Files) => void;
  path: string;
  fix: string | RegExp;
  /** How many problems the one break causes (a shared template is checked once per target). */
  count?: number;
}

const env0 = (d: Doc) => d.apps.web.environments[0];
const env1 = (d: Doc) => d.apps.web.environments[1];

/** A change to the web template, which both environments use: its problem is reported for each target. */
const webTemplate = (edit: (td: Doc) => void) => (_: Doc, f: Files) => {
  f["/virtual/templates/web.json"] = webJson(edit);
};
const TARGET = "apps.web.environments[0].targets[0]";

const rows: Row[] = [
  // Configs that would deploy something other than what the user believes.
  {
    what: "a misspelled task-definition key (the SDK would drop it: no health check)",
    edit: webTemplate((td) => {
      td.containerDefinitions[0].healthcheck = td.containerDefinitions[0].healthCheck;
      delete td.containerDefinitions[0].healthCheck;
    }),
    path: TARGET,
    count: 2,
    fix: 'templates/web.json: containerDefinitions[0].healthcheck: ECS\'s ContainerDefinition has no member "healthcheck" (the SDK would drop it silently); did you mean "healthCheck"?',
  },
  {
    what: "a misspelled key at the top of the task definition",
    edit: webTemplate((td) => {
      td.runtimePlatfrom = td.runtimePlatform;
      delete td.runtimePlatform;
    }),
    path: TARGET,
    count: 2,
    fix: 'runtimePlatfrom: ECS\'s RegisterTaskDefinitionRequest has no member "runtimePlatfrom" (the SDK would drop it silently); did you mean "runtimePlatform"?',
  },
  {
    what: "a value outside ECS's enum",
    edit: webTemplate((td) => {
      td.containerDefinitions[0].portMappings[0].protocol = "TCP";
    }),
    path: TARGET,
    count: 2,
    fix: 'containerDefinitions[0].portMappings[0].protocol: "TCP" is not one of "tcp", "udp"; did you mean "tcp"?',
  },
  {
    what: "a boolean written as a string",
    edit: webTemplate((td) => {
      td.containerDefinitions[0].essential = "true";
    }),
    path: TARGET,
    count: 2,
    fix: 'containerDefinitions[0].essential: must be a boolean, got "true" (true or false, without quotes)',
  },
  {
    what: "a number inside command",
    edit: webTemplate((td) => {
      td.containerDefinitions[0].command = ["serve", "--port", 8080];
    }),
    path: TARGET,
    count: 2,
    fix: 'containerDefinitions[0].command[2]: must be a string, got 8080 (quote it: "8080")',
  },
  {
    what: "entryPoint that is not a list",
    edit: webTemplate((td) => {
      td.containerDefinitions[0].entryPoint = "node server.js";
    }),
    path: TARGET,
    count: 2,
    fix: "containerDefinitions[0].entryPoint: must be a list",
  },
  {
    what: "{{ image }} only inside an environment value, another image running",
    edit: webTemplate((td) => {
      td.containerDefinitions[0].image = "public.ecr.aws/nginx/nginx:latest";
      td.containerDefinitions[0].environment.push({ name: "APP_IMAGE", value: "{{ image }}" });
    }),
    path: TARGET,
    count: 2,
    fix: 'no container\'s "image" is "{{ image }}" (it is used elsewhere only), so the image deployed would not be the one that runs',
  },
  {
    what: "more tags than ECS leaves room for beside Stevedore's own (every RegisterTaskDefinition would fail)",
    edit: webTemplate((td) => {
      td.tags = Array.from({ length: 46 }, (_, i) => ({ key: `cost-center-${i}`, value: "{{ env }}" }));
    }),
    path: TARGET,
    count: 2,
    fix: "templates/web.json: tags: 46 tags, and Stevedore adds up to 8 of its own (stevedore:app, stevedore:digest, …); ECS allows 50 on a task definition: keep at most 42",
  },
  {
    what: "a tag key AWS reserves",
    edit: webTemplate((td) => {
      td.tags = [{ key: "aws:cost-center", value: "shop" }];
    }),
    path: TARGET,
    count: 2,
    fix: 'templates/web.json: tags[0].key: "aws:cost-center" starts with aws:, which AWS reserves for its own tags',
  },
  {
    what: "a tag key that is not a string",
    edit: webTemplate((td) => {
      td.tags = [{ key: 7, value: "shop" }];
    }),
    path: TARGET,
    count: 2,
    fix: "templates/web.json: tags[0].key",
  },
  {
    what: "awsvpc with a hostPort other than the containerPort",
    edit: webTemplate((td) => {
      td.containerDefinitions[0].portMappings[0].hostPort = 80;
    }),
    path: TARGET,
    count: 2,
    fix: 'containerDefinitions[0].portMappings[0].hostPort: with networkMode "awsvpc" it must equal containerPort (8080); leave it out',
  },
  {
    what: "bake times longer than the deadline (every rollout would time out)",
    edit: (d) => {
      env1(d).strategy = { type: "blue-green", bakeTime: "45m" };
    },
    path: "apps.web.environments[1].deadline",
    fix: "30m is not longer than the BLUE_GREEN strategy's bake times alone (45m): every rollout would time out",
  },
  {
    what: "linear steps whose bakes add up past the deadline",
    edit: (d) => {
      env1(d).strategy = { type: "linear", stepPercent: 10, stepBakeTime: "5m" };
      env1(d).deadline = "40m";
    },
    path: "apps.web.environments[1].deadline",
    fix: "LINEAR strategy's bake times alone (45m)",
  },
  {
    what: "a tag pattern that backtracks exponentially",
    edit: (d) => {
      d.apps.web.tags = "(a+)+b";
    },
    path: "apps.web.tags",
    fix: "matching a long tag can take exponential time",
  },
  {
    what: "a tag pattern whose repetitions nothing separates",
    edit: (d) => {
      d.apps.web.tags = "([a-z0-9]+-?)+";
    },
    path: "apps.web.tags",
    fix: "exponential time",
  },
  {
    what: "a tag pattern written as a JavaScript regex literal",
    edit: (d) => {
      d.apps.web.tags = "/v\\d+/";
    },
    path: "apps.web.tags",
    fix: 'write the expression without the JavaScript slashes: "v\\d+"',
  },
  {
    what: "a tag pattern with a slash, which no ECR tag has",
    edit: (d) => {
      d.apps.web.tags = "release/v\\d+";
    },
    path: "apps.web.tags",
    fix: 'ECR tags never contain "/"',
  },
  {
    what: "a tag pattern written as a glob",
    edit: (d) => {
      d.apps.web.tags = "v*";
    },
    path: "apps.web.tags",
    fix: 'this looks like a glob, but tags is a regular expression matched against the whole tag: write "v.*"',
  },
  {
    what: "environments in two regions",
    edit: (d) => {
      env1(d).region = "us-east-1";
    },
    path: "apps.web.environments[1].region",
    fix: "environments span several regions: eu-west-1 (web/staging); us-east-1 (web/production)",
  },
  {
    what: "an unknown key close to a known one",
    edit: (d) => {
      d.apps.web.varables = d.apps.web.variables;
      delete d.apps.web.variables;
    },
    path: "apps.web.varables",
    fix: 'unknown key; did you mean "variables"?',
  },
  {
    what: "an unknown key deep inside a target",
    edit: (d) => {
      env0(d).targets[0].clustr = "shop-staging";
    },
    path: "apps.web.environments[0].targets[0].clustr",
    fix: 'did you mean "cluster"?',
  },
  {
    what: "a branch written as a ref",
    edit: (d) => {
      d.apps.web.branches = ["refs/heads/main"];
    },
    path: "apps.web.branches[0]",
    fix: 'write the branch name alone ("main"), not the ref',
  },
  {
    what: "a branch written as a pattern",
    edit: (d) => {
      d.apps.web.branches = ["main", "release/*"];
    },
    path: "apps.web.branches[1]",
    fix: "branches are exact branch names, not patterns: list each branch that deploys",
  },
  {
    what: "a branch name git would refuse",
    edit: (d) => {
      d.apps.web.branches = ["feature..x"];
    },
    path: "apps.web.branches[0]",
    fix: '"feature..x" is not a valid git branch name',
  },
  {
    what: "an empty list of branches",
    edit: (d) => {
      d.apps.web.branches = [];
    },
    path: "apps.web.branches",
    fix: "list at least one branch, or leave branches out for main",
  },
  {
    what: "a build project whose app deploys every tag (a pull request's nodeploy- image would deploy)",
    edit: (d) => {
      d.apps.web.build = "shop-web";
      delete d.apps.web.tags;
    },
    path: "apps.web.tags",
    fix: 'leaving tags out deploys every tag, including the tags buildspec.yml gives builds of branches and pull requests that do not deploy (e.g. nodeploy-pr-12-3f9c2ab); with a build project, write a pattern that excludes them, e.g. "[0-9a-f]{7,40}"',
  },
  {
    what: "a build project whose tags pattern matches the nodeploy- tags",
    edit: (d) => {
      d.apps.web.build = "shop-web";
      d.apps.web.tags = "[a-z0-9-]+";
    },
    path: "apps.web.tags",
    fix: "this pattern matches the tags buildspec.yml gives builds of branches and pull requests that do not deploy",
  },
  {
    what: "a KMS key given by its alias",
    edit: (d) => {
      d.notifications.audit.kmsKey = "arn:aws:kms:eu-west-1:123456789012:alias/stevedore";
    },
    path: "notifications.audit.kmsKey",
    fix: "an alias cannot be granted kms:Decrypt in IAM; write the key's ARN (aws kms describe-key --key-id alias/stevedore --query KeyMetadata.Arn)",
  },
  {
    what: "a config-wide KMS key given by its alias",
    edit: (d) => {
      d.kmsKey = "alias/stevedore";
    },
    path: "kmsKey",
    fix: "an alias cannot be granted kms:Decrypt in IAM; write the key's ARN",
  },
  {
    what: "a KMS key that is not a key ARN",
    edit: (d) => {
      d.notifications.audit.kmsKey = "1234abcd-12ab-34cd-56ef-1234567890ab";
    },
    path: "notifications.audit.kmsKey",
    fix: "must be the ARN of the KMS key the parameters or secrets are encrypted with",
  },
  {
    what: "an unknown key like no known one",
    edit: (d) => {
      d.apps.web.colour = "blue";
    },
    path: "apps.web.colour",
    fix: "(allowed: repository, tags, build, branches, template, variables, notify, environments)",
  },
  {
    what: "an unknown top-level key",
    edit: (d) => {
      d.notification = d.notifications;
    },
    path: "notification",
    fix: 'did you mean "notifications"?',
  },
  {
    what: "an unknown key in a notification (either type's keys suggested)",
    edit: (d) => {
      d.notifications.audit.secrett = d.notifications.audit.secret;
    },
    path: "notifications.audit.secrett",
    fix: 'did you mean "secret"?',
  },
  {
    what: "an unknown key in a list item inside an optional mapping",
    edit: (d) => {
      env0(d).strategy = {
        type: "rolling",
        hooks: [{ target: "arn:aws:lambda:eu-west-1:123456789012:function:check", role: "arn:aws:iam::123456789012:role/hooks", stage: ["PRE_SCALE_UP"] }],
      };
    },
    path: "apps.web.environments[0].strategy.hooks[0].stage",
    count: 2,
    fix: 'did you mean "stages"?', // and "stages: required"
  },
  {
    what: "a missing repository",
    edit: (d) => {
      delete d.apps.web.repository;
    },
    path: "apps.web.repository",
    fix: "required",
  },
  {
    what: "a missing service",
    edit: (d) => {
      delete env0(d).targets[0].service;
    },
    path: "apps.web.environments[0].targets[0].service",
    fix: "required",
  },
  {
    what: "a missing region",
    edit: (d) => {
      delete env1(d).region;
    },
    path: "apps.web.environments[1].region",
    fix: "required",
  },
  {
    what: "a missing apps",
    edit: (d) => {
      delete d.apps;
    },
    path: "apps",
    fix: "required",
  },
  {
    what: "version 2",
    edit: (d) => {
      d.version = 2;
    },
    path: "version",
    fix: "write version: 1",
  },
  {
    what: "version as a string",
    edit: (d) => {
      d.version = "1";
    },
    path: "version",
    fix: "write version: 1",
  },
  {
    what: "no version",
    edit: (d) => {
      delete d.version;
    },
    path: "version",
    fix: "write version: 1",
  },
  {
    what: "an app name in capitals",
    edit: (d) => {
      d.apps.Web = d.apps.web;
      delete d.apps.web;
    },
    path: "apps.Web",
    fix: "an app name must be lowercase letters, digits and dashes, starting with a letter",
  },
  {
    what: "a notification name with an underscore",
    edit: (d) => {
      d.notifications.team_slack = d.notifications["team-slack"];
      delete d.notifications["team-slack"];
      d.apps.web.notify = [];
    },
    path: "notifications.team_slack",
    fix: "a notification name must be lowercase letters",
  },
  {
    what: "an environment name in capitals",
    edit: (d) => {
      env0(d).name = "Staging";
    },
    path: "apps.web.environments[0].name",
    fix: "an environment name must be lowercase letters, digits and dashes",
  },
  {
    what: "a variable name starting with a digit",
    edit: (d) => {
      d.apps.web.variables["1X"] = "x";
    },
    path: "apps.web.variables.1X",
    fix: "variable names are letters, digits and _, not starting with a digit",
  },
  {
    what: "a variable that is a list",
    edit: (d) => {
      d.apps.web.variables.HOSTS = ["a", "b"];
    },
    path: "apps.web.variables.HOSTS",
    fix: "must be a string, a number or true/false, not a list",
  },
  {
    what: "a variable left empty",
    edit: (d) => {
      d.apps.web.variables.LOG_LEVEL = null;
    },
    path: "apps.web.variables.LOG_LEVEL",
    fix: "must be a string, a number or true/false, not empty",
  },
  {
    what: "a repository name in capitals",
    edit: (d) => {
      d.apps.web.repository = "Shop/Web";
    },
    path: "apps.web.repository",
    fix: "must be an ECR repository name like shop/web",
  },
  {
    what: "a repository URI instead of a name",
    edit: (d) => {
      d.apps.web.repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:latest";
    },
    path: "apps.web.repository",
    fix: "must be an ECR repository name like shop/web",
  },
  {
    what: "a tags regex that does not compile",
    edit: (d) => {
      d.apps.web.tags = "[0-9a-f{7,40}";
    },
    path: "apps.web.tags",
    fix: /not a valid regular expression \(.+\); the whole tag must match it/,
  },
  {
    what: "a tags regex that only compiles once wrapped (it would match every tag)",
    edit: (d) => {
      d.apps.web.tags = "v1)|(.*";
    },
    path: "apps.web.tags",
    fix: "not a valid regular expression",
  },
  {
    what: "a build project name with a space",
    edit: (d) => {
      d.apps.web.build = "shop web";
    },
    path: "apps.web.build",
    fix: "must be a CodeBuild project name",
  },
  {
    what: "a region without its number",
    edit: (d) => {
      env0(d).region = "eu-west";
    },
    path: "apps.web.environments[0].region",
    fix: "must be an AWS region like eu-west-1",
  },
  {
    what: "a region in capitals",
    edit: (d) => {
      env0(d).region = "EU-WEST-1";
    },
    path: "apps.web.environments[0].region",
    fix: "must be an AWS region like eu-west-1",
  },
  {
    what: "a cluster ARN with a short account",
    edit: (d) => {
      env0(d).targets[0].cluster = "arn:aws:ecs:eu-west-1:1234:cluster/shop-staging";
    },
    path: "apps.web.environments[0].targets[0].cluster",
    fix: "not a cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME); or write just the name",
  },
  {
    what: "a cluster ARN in another region",
    edit: (d) => {
      env0(d).targets[0].cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/shop-staging";
    },
    path: "apps.web.environments[0].targets[0].cluster",
    fix: "the cluster is in us-east-1 but the environment is in eu-west-1",
  },
  {
    what: "a cluster name with a slash",
    edit: (d) => {
      env0(d).targets[0].cluster = "shop/staging";
    },
    path: "apps.web.environments[0].targets[0].cluster",
    fix: "must be a cluster name (letters, digits, hyphens, underscores) or ARN",
  },
  {
    what: "a service name with a dot",
    edit: (d) => {
      env0(d).targets[0].service = "web.v2";
    },
    path: "apps.web.environments[0].targets[0].service",
    fix: "must be an ECS service name",
  },
  {
    what: "an alarm ARN of another service",
    edit: (d) => {
      env0(d).alarms = ["arn:aws:sns:eu-west-1:123456789012:web-5xx"];
    },
    path: "apps.web.environments[0].alarms[0]",
    fix: "not an alarm ARN (arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME); or write just the name",
  },
  {
    what: "an alarm ARN in another region",
    edit: (d) => {
      env0(d).alarms = ["arn:aws:cloudwatch:us-west-2:123456789012:alarm:web-5xx"];
    },
    path: "apps.web.environments[0].alarms[0]",
    fix: "the alarm is in us-west-2 but the environment is in eu-west-1",
  },
  {
    what: "an alarm name with a newline",
    edit: (d) => {
      env0(d).alarms = ["web\n5xx"];
    },
    path: "apps.web.environments[0].alarms[0]",
    fix: "not a CloudWatch alarm name",
  },
  {
    what: "a Slack webhook URL written in the config",
    edit: (d) => {
      d.notifications["team-slack"].url = "https://hooks.slack.com/services/T000/B000/XXXX";
    },
    path: "notifications.team-slack.url",
    fix: /never write a webhook URL .*SSM Parameter Store.*write ssm:\/path or secretsmanager:name/,
  },
  {
    what: "a webhook signing secret written in the config",
    edit: (d) => {
      d.notifications.audit.secret = "hunter2";
    },
    path: "notifications.audit.secret",
    fix: "must be ssm:/parameter/name, secretsmanager:secret-name, or the parameter's or secret's ARN",
  },
  {
    what: "an SSM reference with a space",
    edit: (d) => {
      d.notifications.audit.url = "ssm:/stevedore/audit url";
    },
    path: "notifications.audit.url",
    fix: "must be ssm:/parameter/name, secretsmanager:secret-name",
  },
  {
    what: "a notification without its type",
    edit: (d) => {
      delete d.notifications.audit.type;
    },
    path: "notifications.audit.type",
    fix: "type must be slack or webhook",
  },
  {
    what: "a webhook without its signing secret",
    edit: (d) => {
      delete d.notifications.audit.secret;
    },
    path: "notifications.audit.secret",
    fix: "required",
  },
  {
    what: "an app notifying a destination that is not defined",
    edit: (d) => {
      d.apps.web.notify = ["team-slak"];
    },
    path: "apps.web.notify[0]",
    fix: '"team-slak" is not defined under notifications (defined: team-slack, audit)',
  },
  {
    what: "an environment notifying a destination that is not defined",
    edit: (d) => {
      env1(d).notify = ["audit", "pager"];
    },
    path: "apps.web.environments[1].notify[1]",
    fix: '"pager" is not defined under notifications',
  },
  {
    what: "an unknown whenAlarmFiring",
    edit: (d) => {
      env0(d).whenAlarmFiring = "block";
    },
    path: "apps.web.environments[0].whenAlarmFiring",
    fix: "must be one of refuse, warn",
  },
  {
    what: "an unknown strategy type",
    edit: (d) => {
      env1(d).strategy = { type: "bluegreen" };
    },
    path: "apps.web.environments[1].strategy.type",
    fix: "must be one of rolling, blue-green, linear, canary",
  },
  {
    what: "a duration written as a number",
    edit: (d) => {
      env0(d).watch = 300;
    },
    path: "apps.web.environments[0].watch",
    fix: "must be a duration like 30s, 10m or 1h30m",
  },
  {
    what: "targets written as one mapping instead of a list",
    edit: (d) => {
      env0(d).targets = env0(d).targets[0];
    },
    path: "apps.web.environments[0].targets",
    fix: "must be a list, not a mapping",
  },
  {
    what: "a percentage over 100",
    edit: (d) => {
      env1(d).strategy = { type: "linear", stepPercent: 150 };
    },
    path: "apps.web.environments[1].strategy.stepPercent",
    fix: "must be at most 100",
  },
  {
    what: "a template file that does not exist",
    edit: (d) => {
      d.apps.web.template = "templates/missing.json";
    },
    path: "apps.web.template",
    fix: "cannot read templates/missing.json (ENOENT); paths are relative to the config file",
  },
  {
    what: "a JSON template that does not parse",
    edit: (d, f) => {
      d.apps.web.template = "templates/bad.json";
      f["/virtual/templates/bad.json"] = '{ "family": "web", ';
    },
    path: "apps.web.template",
    fix: /templates\/bad\.json: cannot parse: /,
  },
  {
    what: "a YAML template that does not parse",
    edit: (d, f) => {
      d.apps.web.template = "templates/bad.yaml";
      f["/virtual/templates/bad.yaml"] = "family: web\ncontainerDefinitions: [\n  { name: web";
    },
    path: "apps.web.template",
    fix: /templates\/bad\.yaml: cannot parse: /,
  },
  {
    what: "a template that is not an object",
    edit: (d, f) => {
      d.apps.web.template = "templates/list.json";
      f["/virtual/templates/list.json"] = "[]";
    },
    path: "apps.web.template",
    fix: "templates/list.json: the template must be a task definition object",
  },
  {
    what: "a template with a malformed placeholder",
    edit: (d, f) => {
      f["/virtual/templates/web.json"] = webJson((td) => {
        td.containerDefinitions[0].environment[0].value = "{{ .Env }}";
      });
    },
    path: "apps.web.template",
    fix: 'templates/web.json: containerDefinitions[0].environment[0].value: "{{ .Env }}" is not a placeholder',
  },
  {
    what: "a template without {{ image }}",
    edit: (d, f) => {
      f["/virtual/templates/web.json"] = webJson((td) => {
        td.containerDefinitions[0].image = "nginx:latest";
      });
    },
    path: "apps.web.template",
    fix: 'templates/web.json never uses {{ image }}, so a push would not change what runs; set a container\'s image to "{{ image }}"',
  },
  {
    what: "a target template without {{ image }} (the path names the target)",
    edit: (d, f) => {
      env0(d).targets[0].template = "templates/other.json";
      f["/virtual/templates/other.json"] = webJson((td) => {
        td.containerDefinitions[0].image = "nginx:latest";
      });
    },
    path: "apps.web.environments[0].targets[0].template",
    fix: "never uses {{ image }}",
  },
  {
    what: "no template anywhere",
    edit: (d) => {
      delete d.apps.web.template;
      env1(d).template = "templates/web.json";
    },
    path: "apps.web.environments[0].targets[0].template",
    fix: "no template: set template on the target, its environment or its app",
  },
  {
    what: "a variable named like a built-in",
    edit: (d) => {
      d.apps.web.variables.env = "prod";
    },
    path: "apps.web.variables.env",
    fix: /"env" is built in \(image, digest, tag, .*\); rename yours/,
  },
  {
    what: "a target variable named like a built-in",
    edit: (d) => {
      env1(d).targets[0].variables = { image: "nginx" };
    },
    path: "apps.web.environments[1].targets[0].variables.image",
    fix: '"image" is built in',
  },
  {
    what: "a Fargate cpu/memory pair ECS rejects (checked on the rendered template)",
    edit: (d) => {
      env1(d).variables = { TASK_MEMORY: "3000" };
    },
    path: "apps.web.environments[1].targets[0]",
    fix: "templates/web.json: memory: 3000 MiB is not valid with cpu 256 on Fargate; use 512, 1024, 2048",
  },
  {
    what: "a number where the rendered template needs a string (task cpu)",
    edit: (d) => {
      env1(d).variables = { TASK_CPU: 256 };
    },
    path: "apps.web.environments[1].targets[0]",
    fix: 'templates/web.json: cpu: must be a string, got the number 256 (quote the variable\'s value: "256")',
  },
  {
    what: "a string where the rendered template needs a number (container port)",
    edit: (d) => {
      env1(d).variables = { CONTAINER_PORT: "http" };
    },
    path: "apps.web.environments[1].targets[0]",
    fix: 'containerDefinitions[0].portMappings[0].containerPort: must be a port number, got "http"',
  },
  {
    what: "two containers with the same name",
    edit: (d, f) => {
      f["/virtual/templates/web.json"] = webJson((td) => {
        td.containerDefinitions.push({ name: "web", image: "public.ecr.aws/aws-observability/aws-otel-collector", essential: false });
      });
    },
    path: "apps.web.environments[0].targets[0]",
    fix: 'containerDefinitions[1].name: "web" is used by two containers; names must be unique',
    count: 2,
  },
  {
    what: "the same service in two environments",
    edit: (d) => {
      env1(d).targets[0].cluster = "shop-staging";
    },
    path: "apps.web.environments[1].targets[0]",
    fix: "service eu-west-1/shop-staging/web is already deployed by apps.web.environments[0].targets[0]; a service can have one owner",
  },
  {
    what: "the same service by name and by ARN",
    edit: (d) => {
      env1(d).targets[0].cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/shop-staging";
    },
    path: "apps.web.environments[1].targets[0]",
    fix: "service eu-west-1/shop-staging/web is already deployed by apps.web.environments[0].targets[0]",
  },
  {
    what: "the same service in two apps",
    edit: (d) => {
      d.apps.api = {
        repository: "shop/api",
        template: "templates/web.json",
        variables: { LOG_LEVEL: "info", CONTAINER_PORT: 8080, TASK_CPU: "256", TASK_MEMORY: "512" },
        environments: [{ name: "staging", region: "eu-west-1", targets: [{ cluster: "shop-prod", service: "web" }] }],
      };
    },
    path: "apps.api.environments[0].targets[0]",
    fix: "service eu-west-1/shop-prod/web is already deployed by apps.web.environments[1].targets[0]",
  },
  {
    what: "promote on the first environment",
    edit: (d) => {
      env0(d).promote = { approval: "manual" };
    },
    path: "apps.web.environments[0].promote",
    fix: "the first environment is fed by pushes; only later ones can be promoted to",
  },
  {
    what: "promote.from naming an environment that does not exist",
    edit: (d) => {
      env1(d).promote = { from: "qa" };
    },
    path: "apps.web.environments[1].promote.from",
    fix: '"qa" is not an earlier environment of this app (staging)',
  },
  {
    what: "promote.from naming a later environment",
    edit: (d) => {
      env1(d).promote = { from: "perf" };
      d.apps.web.environments.push({ name: "perf", region: "eu-west-1", targets: [{ cluster: "shop-perf", service: "web" }] });
    },
    path: "apps.web.environments[1].promote.from",
    fix: '"perf" is not an earlier environment of this app (staging)',
  },
  {
    what: "promote.from naming the environment itself",
    edit: (d) => {
      env1(d).promote = { from: "production" };
    },
    path: "apps.web.environments[1].promote.from",
    fix: '"production" is not an earlier environment of this app (staging)',
  },
  {
    what: "a linear field on a blue-green strategy",
    edit: (d) => {
      env1(d).strategy = { type: "blue-green", bakeTime: "5m", stepPercent: 20 };
    },
    path: "apps.web.environments[1].strategy.stepPercent",
    fix: "only applies to type: linear",
  },
  {
    what: "a canary field on a linear strategy",
    edit: (d) => {
      env1(d).strategy = { type: "linear", canaryBakeTime: "5m" };
    },
    path: "apps.web.environments[1].strategy.canaryBakeTime",
    fix: "only applies to type: canary",
  },
  {
    what: "a bake time on a rolling strategy",
    edit: (d) => {
      env1(d).strategy = { type: "rolling", bakeTime: "5m" };
    },
    path: "apps.web.environments[1].strategy",
    fix: "bakeTime and hooks apply to blue-green, linear and canary, not rolling",
  },
  {
    what: "a linear step under 3%",
    edit: (d) => {
      env1(d).strategy = { type: "linear", stepPercent: 2 };
    },
    path: "apps.web.environments[1].strategy.stepPercent",
    fix: "ECS needs at least 3",
  },
  {
    what: "a bake time that is not whole minutes",
    edit: (d) => {
      env1(d).strategy = { type: "blue-green", bakeTime: "90s" };
    },
    path: "apps.web.environments[1].strategy.bakeTime",
    fix: "ECS counts bake time in whole minutes, 0 to 1440 (24h)",
  },
  {
    what: "a bake time over 24h",
    edit: (d) => {
      env1(d).strategy = { type: "canary", canaryBakeTime: "1d1m" };
    },
    path: "apps.web.environments[1].strategy.canaryBakeTime",
    fix: "ECS counts bake time in whole minutes, 0 to 1440 (24h)",
  },
  {
    what: "a lifecycle hook whose target is not a Lambda ARN",
    edit: (d) => {
      env1(d).strategy = {
        type: "blue-green",
        hooks: [{ target: "my-function", role: "arn:aws:iam::123456789012:role/hooks", stages: ["POST_TEST_TRAFFIC_SHIFT"] }],
      };
    },
    path: "apps.web.environments[1].strategy.hooks[0].target",
    fix: "must be a Lambda function ARN",
  },
  {
    what: "a deadline of 0s",
    edit: (d) => {
      env0(d).deadline = "0s";
    },
    path: "apps.web.environments[0].deadline",
    fix: "must be longer than 0s",
  },
  {
    what: "a duration in words",
    edit: (d) => {
      env0(d).watch = "5 minutes";
    },
    path: "apps.web.environments[0].watch",
    fix: "must be a duration like 30s, 10m or 1h30m",
  },
  {
    what: "a duration with units out of order",
    edit: (d) => {
      env1(d).promote = { expiresAfter: "30m1h" };
    },
    path: "apps.web.environments[1].promote.expiresAfter",
    fix: "must be a duration like 30s, 10m or 1h30m",
  },
  {
    what: "an empty targets list",
    edit: (d) => {
      env0(d).targets = [];
    },
    path: "apps.web.environments[0].targets",
    fix: "list at least one { cluster, service }",
  },
  {
    what: "an empty environments list",
    edit: (d) => {
      d.apps.web.environments = [];
    },
    path: "apps.web.environments",
    fix: "list at least one environment",
  },
  {
    what: "no apps",
    edit: (d) => {
      d.apps = {};
    },
    path: "apps",
    fix: "list at least one app",
  },
  {
    what: "two environments with the same name",
    edit: (d) => {
      env1(d).name = "staging";
    },
    path: "apps.web.environments[1].name",
    fix: '"staging" is already used in this app; environment names must be unique',
  },
];

describe("parseConfig: one broken thing, one problem that names the path and the fix", () => {
  it.each(rows.map((row) => [row.what, row] as const))("%s", (_, row) => {
    const doc = validDoc();
    const files = validFiles();
    row.edit(doc, files);
    const problems = problemsOf(doc, files);
    expect(problems).toHaveLength(row.count ?? 1);
    expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${escape(row.path)}: `)));
    const message = (problems.find((p) => p.startsWith(`${row.path}: `)) ?? "").slice(row.path.length + 2);
    if (typeof row.fix === "string") expect(message).toContain(row.fix);
    else expect(message).toMatch(row.fix);
  });

  it("reports every placeholder an environment leaves undefined in one message", () => {
    const files = validFiles();
    files["/virtual/templates/web.json"] = webJson((td) => {
      td.containerDefinitions[0].environment.push({ name: "A", value: "{{ FEATURE_A }}" }, { name: "B", value: "x-{{ FEATURE_B }}" });
    });
    const doc = validDoc();
    env1(doc).variables = { FEATURE_A: "on" };
    expect(problemsOf(doc, files)).toEqual([
      "apps.web.environments[0].targets[0]: templates/web.json uses {{ FEATURE_A }}, {{ FEATURE_B }} but staging defines no value; add them under variables",
      "apps.web.environments[1].targets[0]: templates/web.json uses {{ FEATURE_B }} but production defines no value; add them under variables",
    ]);
  });

  it("does not take an Object.prototype name for a defined variable", () => {
    const files = validFiles();
    files["/virtual/templates/web.json"] = webJson((td) => {
      td.containerDefinitions[0].environment[0].value = "{{ constructor }}";
    });
    const doc = validDoc();
    doc.apps.web.environments.pop();
    expect(problemsOf(doc, files)).toEqual([
      "apps.web.environments[0].targets[0]: templates/web.json uses {{ constructor }} but staging defines no value; add them under variables",
    ]);
  });

  it("checks a template shared by several targets once, and reports its problem once", () => {
    const doc = validDoc();
    const files = validFiles();
    files["/virtual/templates/web.json"] = "{ nope";
    const reads: string[] = [];
    const read = reader(files);
    expect(() =>
      parseConfig(dump(doc), FILE, (p) => {
        reads.push(p);
        return read(p);
      }),
    ).toThrow(ConfigError);
    expect(reads).toEqual(["/virtual/templates/web.json"]);
    expect(problemsOf(doc, files)).toHaveLength(1);
  });
});

describe("parseConfig: several problems at once", () => {
  it("reports every schema problem, one per unknown key, not only the first", () => {
    const doc = validDoc();
    doc.apps.web.repositry = "shop/web";
    doc.apps.web.tag = "v1";
    env0(doc).targets[0].clustr = "x";
    env1(doc).whenAlarmFiring = "never";
    // Two unknown keys of one object are two problems, each with its own path.
    expect(problemsOf(doc)).toEqual(
      expect.arrayContaining([
        'apps.web.repositry: unknown key; did you mean "repository"?',
        'apps.web.tag: unknown key; did you mean "tags"?',
        'apps.web.environments[0].targets[0].clustr: unknown key; did you mean "cluster"?',
        "apps.web.environments[1].whenAlarmFiring: must be one of refuse, warn",
      ]),
    );
    expect(problemsOf(doc)).toHaveLength(4);
  });

  it("reports every cross-check problem, from notifications to templates", () => {
    const doc = validDoc();
    doc.notifications.audit.url = "https://example.com/hook";
    doc.apps.web.notify = ["nobody"];
    env0(doc).deadline = "0s";
    env0(doc).targets[0].cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/shop-staging";
    env1(doc).variables = { TASK_MEMORY: "4096" };
    const problems = problemsOf(doc);
    expect(problems.map((p) => p.slice(0, p.indexOf(": ")))).toEqual([
      "notifications.audit.url",
      "apps.web.notify[0]",
      "apps.web.environments[0].targets[0].cluster",
      "apps.web.environments[0].deadline",
      "apps.web.environments[1].targets[0]",
    ]);
  });

  it("names the file and lists every problem in the error's message", () => {
    const doc = validDoc();
    env0(doc).deadline = "0s";
    env1(doc).promote = { from: "qa" };
    let error: unknown;
    try {
      parse(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, file, retryable } = error as ConfigError;
    expect(file).toMatch(/virtual\/stevedore\.yml$/);
    expect(retryable).toBe(false);
    expect(message).toContain("stevedore.yml is not a valid Stevedore config:");
    expect(message).toContain("  - apps.web.environments[0].deadline: must be longer than 0s");
    expect(message).toContain('  - apps.web.environments[1].promote.from: "qa" is not an earlier environment');
  });
});

describe("parseConfig: files that are not a config", () => {
  it.each([
    ["a YAML syntax error", "version: 1\napps: [\n  web: {", /^not valid YAML: /],
    ["a tab-indented block", "version: 1\napps:\n\tweb: {}", /^not valid YAML: /],
  ])("names the file for %s", (_, text, expected) => {
    let error: unknown;
    try {
      parseConfig(text, "/virtual/broken.yml", reader({}));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toMatch(/broken\.yml$/);
    expect((error as ConfigError).message).toMatch(/broken\.yml is not a valid Stevedore config/);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(expected)]);
  });

  it.each([
    ["an empty file", "", "(file): required"],
    ["a list", "- web\n- api", "(file): must be a mapping (key: value), not a list"],
    ["a scalar", "stevedore", 'must be a mapping (key: value), not a string ("stevedore")'],
  ])("says what a config is for %s", (_, text, expected) => {
    let error: unknown;
    try {
      parseConfig(text, FILE, reader({}));
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems).toEqual([expect.stringContaining(expected)]);
  });
});

describe("tags patterns people write for version and commit tags", () => {
  it.each(["v\\d+\\.\\d+\\.\\d+", "(\\d+\\.)*\\d+", "v\\d+(\\.\\d+)*", "[0-9a-f]{7}", "main-[0-9a-f]{7}", "(?:[0-9a-f]{40}|v\\d+)", "v.*", "(ab){2,}"])(
    "loads %s",
    (pattern) => {
      const doc = validDoc();
      doc.apps.web.tags = pattern;
      expect(parse(doc).apps[0]?.tags?.source).toBe(`^(?:${pattern})$`);
    },
  );
});

describe("loadConfig: files that are not a config or template file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "stevedore-files-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const problemsLoading = (path: string): string[] => {
    try {
      loadConfig(path);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error(`${path} loaded`);
  };

  it.each([
    ["a device (/dev/zero would never end)", () => "/dev/zero", "is a device, not a regular file; point to the file itself"],
    ["a directory", () => dir, "is a directory, not a regular file"],
    [
      "a file of 2 MiB",
      () => {
        const p = join(dir, "huge.yml");
        writeFileSync(p, `# ${"x".repeat(2 * 1024 * 1024)}`);
        return p;
      },
      "is 2.0 MiB; a config or template is at most 1 MiB",
    ],
    [
      "UTF-16 text",
      () => {
        const p = join(dir, "utf16.yml");
        writeFileSync(p, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("version: 1\n", "utf16le")]));
        return p;
      },
      "is UTF-16 text; save it as UTF-8",
    ],
    [
      "UTF-16 without a byte order mark",
      () => {
        const p = join(dir, "utf16-nobom.yml");
        writeFileSync(p, Buffer.from("version: 1\n", "utf16le"));
        return p;
      },
      "holds NUL bytes",
    ],
    [
      "Latin-1 bytes",
      () => {
        const p = join(dir, "latin1.yml");
        writeFileSync(p, Buffer.from([0x23, 0x20, 0xe9, 0x0a]));
        return p;
      },
      "is not valid UTF-8; save it as UTF-8",
    ],
  ])("refuses %s, saying what it is and what to do", (_, make, expected) => {
    expect(problemsLoading(make())).toEqual([expect.stringContaining(expected)]);
  });

  it("names a template that is not UTF-8, at the field that points to it", () => {
    const doc = validDoc();
    const config = join(dir, "with-utf16-template.yml");
    mkdirSync(join(dir, "templates"), { recursive: true });
    writeFileSync(join(dir, "templates/web.json"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(WEB_JSON, "utf16le")]));
    writeFileSync(config, dump(doc));
    expect(problemsLoading(config)).toEqual(["apps.web.template: templates/web.json is UTF-16 text; save it as UTF-8"]);
  });

  it("reads a UTF-8 file with a byte order mark", () => {
    const config = join(dir, "bom.yml");
    mkdirSync(join(dir, "templates"), { recursive: true });
    writeFileSync(join(dir, "templates/web.json"), WEB_JSON);
    writeFileSync(config, `\ufeff${dump(validDoc())}`);
    expect(loadConfig(config).apps.map((a) => a.name)).toEqual(["web"]);
  });
});

describe("loadConfig", () => {
  it("names a missing file and tells about STEVEDORE_CONFIG", () => {
    expect(() => loadConfig("/nowhere/stevedore.yml")).toThrow(ConfigError);
    try {
      loadConfig("/nowhere/stevedore.yml");
    } catch (error) {
      expect((error as ConfigError).file).toBe("/nowhere/stevedore.yml");
      expect((error as ConfigError).problems).toEqual(["cannot read it (ENOENT); set STEVEDORE_CONFIG to your config file's path"]);
      expect((error as ConfigError).message).toContain("/nowhere/stevedore.yml");
    }
  });
});

describe("configPath", () => {
  it.each<[NodeJS.ProcessEnv, string]>([
    [{ STEVEDORE_CONFIG: "/etc/stevedore/pipeline.yml" }, "/etc/stevedore/pipeline.yml"],
    [{}, DEFAULT_CONFIG_PATH],
    [{ STEVEDORE_CONFIG: "" }, DEFAULT_CONFIG_PATH],
  ])("reads STEVEDORE_CONFIG (%o) → %s", (env, expected) => {
    expect(configPath(env)).toBe(expected);
  });
});
