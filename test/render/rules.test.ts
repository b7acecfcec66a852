import { checkTaskDefinition, cpuUnits, memoryMiB } from "../../shared/render/rules";
import type { Json, JsonObject } from "../../shared/render/placeholders";

const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web@sha256:${"a".repeat(64)}`;
const EXECUTION_ROLE = "arn:aws:iam::123456789012:role/shop-ecs-execution";

/** A valid Fargate task definition; `edit` changes one thing. */
function fargate(edit: (td: Record<string, any>) => void = () => {}): JsonObject {
  const td: Record<string, any> = {
    family: "shop-web",
    requiresCompatibilities: ["FARGATE"],
    networkMode: "awsvpc",
    cpu: "256",
    memory: "512",
    executionRoleArn: EXECUTION_ROLE,
    containerDefinitions: [{ name: "web", image: IMAGE, essential: true, portMappings: [{ containerPort: 8080 }] }],
  };
  edit(td);
  return td as JsonObject;
}

/** A valid EC2 task definition without task-level sizes. */
function ec2(edit: (td: Record<string, any>) => void = () => {}): JsonObject {
  const td: Record<string, any> = {
    family: "shop-web",
    containerDefinitions: [{ name: "web", image: IMAGE, memory: 512 }],
  };
  edit(td);
  return td as JsonObject;
}

const container = (td: Record<string, any>, i = 0): Record<string, any> => td.containerDefinitions[i];

// The Fargate table of the ECS documentation ("Task CPU and memory"), as it is written there:
// cpu units → memory from, to, in steps of (MiB).
const FARGATE_TABLE: [number, number, number, number][] = [
  [256, 512, 2048, 0], // 512 MiB, 1 GB, 2 GB
  [512, 1024, 4096, 1024],
  [1024, 2048, 8192, 1024],
  [2048, 4096, 16384, 1024],
  [4096, 8192, 30720, 1024],
  [8192, 16384, 61440, 4096],
  [16384, 32768, 122880, 8192],
];

function validPairs(): [number, number][] {
  return FARGATE_TABLE.flatMap(([cpu, from, to, step]) => {
    const sizes = step === 0 ? [512, 1024, 2048] : Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
    return sizes.map((memory): [number, number] => [cpu, memory]);
  });
}

describe("checkTaskDefinition: Fargate cpu and memory", () => {
  it("accepts the baseline", () => {
    expect(checkTaskDefinition(fargate())).toEqual([]);
  });

  it.each(validPairs())("accepts cpu %i with memory %i MiB", (cpu, memory) => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          td.cpu = String(cpu);
          td.memory = String(memory);
        }),
      ),
    ).toEqual([]);
  });

  it("covers all 74 documented pairs", () => {
    expect(validPairs()).toHaveLength(74);
  });

  it.each<[number, number, string]>([
    [256, 256, "512, 1024, 2048"],
    [256, 1536, "512, 1024, 2048"],
    [256, 3072, "512, 1024, 2048"],
    [256, 4096, "512, 1024, 2048"],
    [512, 512, "1024, 2048, 3072, 4096"],
    [512, 1536, "1024, 2048, 3072, 4096"],
    [512, 5120, "1024, 2048, 3072, 4096"],
    [1024, 1024, "2048 to 8192 in steps of 1024"],
    [1024, 2560, "2048 to 8192 in steps of 1024"],
    [1024, 9216, "2048 to 8192 in steps of 1024"],
    [2048, 3072, "4096 to 16384 in steps of 1024"],
    [2048, 4608, "4096 to 16384 in steps of 1024"],
    [2048, 17408, "4096 to 16384 in steps of 1024"],
    [4096, 7168, "8192 to 30720 in steps of 1024"],
    [4096, 31744, "8192 to 30720 in steps of 1024"],
    [8192, 12288, "16384 to 61440 in steps of 4096"],
    [8192, 17408, "16384 to 61440 in steps of 4096"],
    [8192, 65536, "16384 to 61440 in steps of 4096"],
    [16384, 24576, "32768 to 122880 in steps of 8192"],
    [16384, 36864, "32768 to 122880 in steps of 8192"],
    [16384, 131072, "32768 to 122880 in steps of 8192"],
  ])("rejects cpu %i with memory %i MiB, listing the valid sizes", (cpu, memory, sizes) => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          td.cpu = String(cpu);
          td.memory = String(memory);
        }),
      ),
    ).toEqual([`memory: ${memory} MiB is not valid with cpu ${cpu} on Fargate; use ${sizes}`]);
  });

  it.each(["128", "300", "768", "1000", "3072", "32768"])("rejects cpu %s, which is no Fargate size", (cpu) => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          td.cpu = cpu;
          td.memory = "2048";
        }),
      ),
    ).toEqual([`cpu: ${cpu} is not a Fargate cpu size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384`]);
  });

  it.each([
    ["0.25 vCPU", "0.5 GB"],
    ["0.5 vCPU", "1 GB"],
    ["1 vCPU", "2 GB"],
    ["1 vcpu", "2gb"],
    ["2vCPU", "16 GB"],
    ["4 vCPU", "30 GB"],
    ["16 vCPU", "120 GB"],
    ["1 vCPU", "2048"],
    ["1024", "2 GB"],
  ])("accepts the string forms cpu %j, memory %j", (cpu, memory) => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          td.cpu = cpu;
          td.memory = memory;
        }),
      ),
    ).toEqual([]);
  });

  it("rejects a string-form pair that is not in the table", () => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          td.cpu = "1 vCPU";
          td.memory = "1 GB";
        }),
      ),
    ).toEqual(["memory: 1024 MiB is not valid with cpu 1024 on Fargate; use 2048 to 8192 in steps of 1024"]);
  });

  it.each<[string, Json, Json, string]>([
    ["cpu", "1 core", "2048", 'cpu: "1 core" is not a cpu value: write units ("1024") or vCPUs ("1 vCPU")'],
    ["cpu", "", "2048", 'cpu: "" is not a cpu value: write units ("1024") or vCPUs ("1 vCPU")'],
    ["memory", "1024", "2 GiB", 'memory: "2 GiB" is not a memory value: write MiB ("2048") or GB ("2 GB")'],
    ["memory", "1024", "-2048", 'memory: "-2048" is not a memory value: write MiB ("2048") or GB ("2 GB")'],
  ])("rejects an unreadable task %s (cpu %j, memory %j)", (_, cpu, memory, message) => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          td.cpu = cpu;
          td.memory = memory;
        }),
      ),
    ).toEqual([message]);
  });

  it.each<[string, number, string]>([
    ["cpu", 256, 'cpu: must be a string, got the number 256 (quote the variable\'s value: "256")'],
    ["memory", 512, 'memory: must be a string, got the number 512 (quote the variable\'s value: "512")'],
  ])("rejects a task %s given as a number (the API takes a string)", (key, value, message) => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          td[key] = value;
        }),
      ),
    ).toEqual([message]);
  });

  it("needs both task-level cpu and memory on Fargate", () => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          delete td.memory;
          container(td).memory = 512;
        }),
      ),
    ).toEqual(["cpu/memory: Fargate tasks need both task-level cpu and memory"]);
  });

  it("needs awsvpc on Fargate", () => {
    expect(
      checkTaskDefinition(
        fargate((td) => {
          td.networkMode = "bridge";
        }),
      ),
    ).toEqual(['networkMode: Fargate tasks need "awsvpc"']);
  });

  it("checks no Fargate table for EC2", () => {
    expect(
      checkTaskDefinition(
        ec2((td) => {
          td.cpu = "300";
          td.memory = "700";
        }),
      ),
    ).toEqual([]);
  });
});

describe("cpuUnits and memoryMiB", () => {
  it.each<[Json, number | null]>([
    ["1024", 1024],
    [1024, 1024],
    [" 512 ", 512],
    ["1 vCPU", 1024],
    ["0.25 vCPU", 256],
    ["0.5 vcpu", 512],
    ["2vCPU", 2048],
    ["1.5 vCPU", 1536],
    ["1 core", null],
    ["", null],
    ["-1", null],
    ["1e3", null],
    [true, null],
    [null, null],
  ])("reads cpu %j as %p", (value, units) => {
    expect(cpuUnits(value)).toBe(units);
  });

  it.each<[Json, number | null]>([
    ["2048", 2048],
    [2048, 2048],
    ["2 GB", 2048],
    ["2gb", 2048],
    ["0.5 GB", 512],
    ["120 GB", 122880],
    ["2 GiB", null],
    ["2048 MiB", null],
    ["", null],
    ["1.5", null],
    [false, null],
  ])("reads memory %j as %p", (value, mib) => {
    expect(memoryMiB(value)).toBe(mib);
  });
});

describe("checkTaskDefinition: containers", () => {
  it.each<[string, JsonObject, string[]]>([
    [
      "an EC2 container without memory or memoryReservation and no task memory",
      ec2((td) => {
        delete container(td).memory;
      }),
      ["containerDefinitions[0]: needs memory or memoryReservation when the task has no task-level memory"],
    ],
    [
      "two containers with one name",
      fargate((td) => {
        td.containerDefinitions.push({ name: "web", image: IMAGE, essential: false });
      }),
      ['containerDefinitions[1].name: "web" is used by two containers; names must be unique'],
    ],
    [
      "a container without a name",
      fargate((td) => {
        delete container(td).name;
      }),
      ["containerDefinitions[0].name: required: letters, digits, hyphens, underscores"],
    ],
    [
      "a container name with a dot",
      fargate((td) => {
        container(td).name = "web.v2";
      }),
      ["containerDefinitions[0].name: required: letters, digits, hyphens, underscores"],
    ],
    [
      "a container without an image",
      fargate((td) => {
        delete container(td).image;
      }),
      ["containerDefinitions[0].image: required: the image to run"],
    ],
    [
      "a blank image",
      fargate((td) => {
        container(td).image = "  ";
      }),
      ["containerDefinitions[0].image: required: the image to run"],
    ],
    [
      "no essential container",
      fargate((td) => {
        container(td).essential = false;
      }),
      ["containerDefinitions: at least one container must be essential"],
    ],
    [
      "no containers",
      fargate((td) => {
        td.containerDefinitions = [];
      }),
      ["containerDefinitions: at least one container is required"],
    ],
    [
      "a container that is not an object",
      fargate((td) => {
        td.containerDefinitions.push("sidecar");
      }),
      ["containerDefinitions[1]: must be an object"],
    ],
    [
      "secrets without executionRoleArn",
      fargate((td) => {
        delete td.executionRoleArn;
        container(td).secrets = [{ name: "DB", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/db" }];
      }),
      ["containerDefinitions[0].secrets: secrets are fetched by the execution role: set executionRoleArn"],
    ],
    [
      "a secret from an S3 ARN",
      fargate((td) => {
        container(td).secrets = [{ name: "DB", valueFrom: "arn:aws:s3:::bucket/db" }];
      }),
      ["containerDefinitions[0].secrets[0].valueFrom: must be an SSM parameter or Secrets Manager ARN (the value never passes through Stevedore)"],
    ],
    [
      "a secret whose value is written in",
      fargate((td) => {
        container(td).secrets = [{ name: "DB", valueFrom: "postgres://user:pw@db:5432/shop" }];
      }),
      ["containerDefinitions[0].secrets[0].valueFrom: must be an SSM parameter or Secrets Manager ARN (the value never passes through Stevedore)"],
    ],
    [
      "a secret without valueFrom",
      fargate((td) => {
        container(td).secrets = [{ name: "DB" }];
      }),
      ["containerDefinitions[0].secrets[0].valueFrom: must be an SSM parameter or Secrets Manager ARN (the value never passes through Stevedore)"],
    ],
    [
      "a user ARN as task role",
      fargate((td) => {
        td.taskRoleArn = "arn:aws:iam::123456789012:user/deploy";
      }),
      ['taskRoleArn: "arn:aws:iam::123456789012:user/deploy" is not an IAM role ARN (arn:aws:iam::123456789012:role/name)'],
    ],
    [
      "a role name as execution role",
      fargate((td) => {
        td.executionRoleArn = "shop-ecs-execution";
      }),
      ['executionRoleArn: "shop-ecs-execution" is not an IAM role ARN (arn:aws:iam::123456789012:role/name)'],
    ],
    [
      "a role ARN with a short account",
      fargate((td) => {
        td.taskRoleArn = "arn:aws:iam::1234:role/task";
      }),
      ['taskRoleArn: "arn:aws:iam::1234:role/task" is not an IAM role ARN (arn:aws:iam::123456789012:role/name)'],
    ],
    [
      "memoryReservation over memory",
      fargate((td) => {
        container(td).memory = 256;
        container(td).memoryReservation = 300;
      }),
      ["containerDefinitions[0].memoryReservation: must not exceed memory"],
    ],
    [
      "container memory under 6 MiB",
      fargate((td) => {
        container(td).memory = 4;
      }),
      ["containerDefinitions[0].memory: must be at least 6 MiB"],
    ],
    [
      "containers reserving more memory than the task",
      fargate((td) => {
        container(td).memory = 384;
        td.containerDefinitions.push({ name: "otel", image: IMAGE, essential: false, memoryReservation: 256 });
      }),
      ["containerDefinitions: containers reserve 640 MiB, more than the task's 512"],
    ],
    [
      "containers reserving more cpu than the task",
      fargate((td) => {
        container(td).cpu = 200;
        td.containerDefinitions.push({ name: "otel", image: IMAGE, essential: false, cpu: 100 });
      }),
      ["containerDefinitions: containers reserve 300 cpu units, more than the task's 256"],
    ],
    [
      "container memory as a quoted number",
      fargate((td) => {
        container(td).memory = "512";
      }),
      ['containerDefinitions[0].memory: must be a whole number, got "512" (write the variable without quotes)'],
    ],
    [
      'an EC2 container memory as a quoted number (one problem, not also "needs memory")',
      ec2((td) => {
        container(td).memory = "512";
      }),
      ['containerDefinitions[0].memory: must be a whole number, got "512" (write the variable without quotes)'],
    ],
    [
      "container cpu as a quoted number",
      fargate((td) => {
        container(td).cpu = "128";
      }),
      ['containerDefinitions[0].cpu: must be a whole number, got "128" (write the variable without quotes)'],
    ],
    [
      "a fractional memoryReservation",
      fargate((td) => {
        container(td).memoryReservation = 127.5;
      }),
      ["containerDefinitions[0].memoryReservation: must be a whole number, got 127.5 (write the variable without quotes)"],
    ],
    [
      "a negative container cpu",
      fargate((td) => {
        container(td).cpu = -1;
      }),
      ["containerDefinitions[0].cpu: must be a whole number, got -1 (write the variable without quotes)"],
    ],
    [
      "dependsOn naming an unknown container",
      fargate((td) => {
        container(td).dependsOn = [{ containerName: "migrate", condition: "SUCCESS" }];
      }),
      ['containerDefinitions[0].dependsOn[0].containerName: "migrate" is not a container of this task'],
    ],
    [
      "dependsOn without a container name",
      fargate((td) => {
        container(td).dependsOn = [{ condition: "START" }];
      }),
      ['containerDefinitions[0].dependsOn[0].containerName: "undefined" is not a container of this task'],
    ],
    [
      "containerPort 0",
      fargate((td) => {
        container(td).portMappings = [{ containerPort: 0 }];
      }),
      ["containerDefinitions[0].portMappings[0].containerPort: must be a port number, got 0"],
    ],
    [
      "containerPort 65536",
      fargate((td) => {
        container(td).portMappings = [{ containerPort: 65536 }];
      }),
      ["containerDefinitions[0].portMappings[0].containerPort: must be a port number, got 65536"],
    ],
    [
      "a quoted containerPort",
      fargate((td) => {
        container(td).portMappings = [{ containerPort: "8080" }];
      }),
      ['containerDefinitions[0].portMappings[0].containerPort: must be a port number, got "8080"'],
    ],
    [
      "a negative hostPort",
      ec2((td) => {
        container(td).portMappings = [{ containerPort: 80, hostPort: -1 }];
      }),
      ["containerDefinitions[0].portMappings[0].hostPort: must be a port number, got -1"],
    ],
    [
      "hostPort 70000",
      ec2((td) => {
        container(td).portMappings = [{ containerPort: 80, hostPort: 70000 }];
      }),
      ["containerDefinitions[0].portMappings[0].hostPort: must be a port number, got 70000"],
    ],
    [
      "an environment value that is a number",
      fargate((td) => {
        container(td).environment = [{ name: "PORT", value: 8080 }];
      }),
      ['containerDefinitions[0].environment[0]: must be { name, value } with a string value (quote numbers: "8080")'],
    ],
    [
      "a family with a colon",
      fargate((td) => {
        td.family = "shop:web";
      }),
      ["family: required: up to 255 letters, digits, hyphens and underscores"],
    ],
    [
      "no family",
      fargate((td) => {
        delete td.family;
      }),
      ["family: required: up to 255 letters, digits, hyphens and underscores"],
    ],
  ])("rejects %s", (_, td, problems) => {
    expect(checkTaskDefinition(td)).toEqual(problems);
  });

  it.each<[string, JsonObject]>([
    [
      "an EC2 container with memoryReservation only",
      ec2((td) => {
        delete container(td).memory;
        container(td).memoryReservation = 128;
      }),
    ],
    [
      "an EC2 container sized by the task",
      ec2((td) => {
        delete container(td).memory;
        td.memory = "1024";
      }),
    ],
    [
      "memoryReservation equal to memory",
      fargate((td) => {
        container(td).memory = 256;
        container(td).memoryReservation = 256;
      }),
    ],
    [
      "containers filling the task exactly",
      fargate((td) => {
        container(td).memory = 256;
        container(td).cpu = 128;
        td.containerDefinitions.push({ name: "otel", image: IMAGE, essential: false, memory: 256, cpu: 128 });
      }),
    ],
    [
      "a secret from an SSM parameter ARN",
      fargate((td) => {
        container(td).secrets = [{ name: "DB", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/db" }];
      }),
    ],
    [
      "a secret from a Secrets Manager ARN with a JSON key",
      fargate((td) => {
        container(td).secrets = [{ name: "DB", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-AbCdEf:password::" }];
      }),
    ],
    [
      "a secret from a parameter name in the task's region",
      fargate((td) => {
        container(td).secrets = [{ name: "DB", valueFrom: "/shop/db" }];
      }),
    ],
    [
      "a role ARN with a path",
      fargate((td) => {
        td.taskRoleArn = "arn:aws:iam::123456789012:role/service-role/shop-web";
      }),
    ],
    [
      "a role ARN in GovCloud",
      fargate((td) => {
        td.taskRoleArn = "arn:aws-us-gov:iam::123456789012:role/shop-web";
      }),
    ],
    [
      "dependsOn naming a later container",
      fargate((td) => {
        container(td).dependsOn = [{ containerName: "init", condition: "SUCCESS" }];
        td.containerDefinitions.push({ name: "init", image: IMAGE, essential: false });
      }),
    ],
    [
      "ports 1 and 65535",
      fargate((td) => {
        container(td).portMappings = [{ containerPort: 1 }, { containerPort: 65535, hostPort: 65535 }];
      }),
    ],
    [
      "a dynamic host port (0) in bridge mode",
      ec2((td) => {
        td.networkMode = "bridge";
        container(td).portMappings = [{ containerPort: 8080, hostPort: 0, protocol: "tcp" }];
      }),
    ],
    [
      "a container cpu of 0 (as describe-task-definition returns it)",
      fargate((td) => {
        container(td).cpu = 0;
      }),
    ],
    [
      "an essential flag left out (ECS defaults it to true)",
      fargate((td) => {
        delete container(td).essential;
      }),
    ],
  ])("accepts %s", (_, td) => {
    expect(checkTaskDefinition(td)).toEqual([]);
  });

  it("accepts a definition as describe-task-definition returns it, read-only keys stripped", () => {
    const described: JsonObject = {
      family: "shop-worker",
      taskRoleArn: "arn:aws:iam::123456789012:role/shop-worker-task",
      executionRoleArn: EXECUTION_ROLE,
      networkMode: "awsvpc",
      containerDefinitions: [
        {
          name: "worker",
          image: IMAGE,
          cpu: 0,
          portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: "tcp", name: "worker-8080-tcp" }],
          essential: true,
          environment: [],
          environmentFiles: [],
          mountPoints: [],
          volumesFrom: [],
          ulimits: [],
          secrets: [{ name: "TOKEN", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/token-AbCdEf" }],
          logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/shop-worker" }, secretOptions: [] },
          systemControls: [],
        },
      ],
      volumes: [],
      placementConstraints: [],
      requiresCompatibilities: ["FARGATE"],
      cpu: "512",
      memory: "1024",
      runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
      enableFaultInjection: false,
    };
    expect(checkTaskDefinition(described)).toEqual([]);
  });

  it("reports every problem together, each with its path", () => {
    const td = fargate((td) => {
      td.memory = "3000";
      td.taskRoleArn = "task";
      container(td).image = "";
      container(td).memory = "512";
      td.containerDefinitions.push({ name: "web", image: IMAGE, essential: false, portMappings: [{ containerPort: 0 }] });
    });
    expect(checkTaskDefinition(td).map((p) => p.slice(0, p.indexOf(": ")))).toEqual([
      "taskRoleArn",
      "memory",
      "containerDefinitions[0].image",
      "containerDefinitions[0].memory",
      "containerDefinitions[1].name",
      "containerDefinitions[1].portMappings[0].containerPort",
    ]);
  });
});

describe("checkTaskDefinition: the template's tags, as ECS sees them beside Stevedore's own", () => {
  const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `team-${i}`, value: "payments" }));
  const withTags = (list: Json) =>
    fargate((td) => {
      td.tags = list;
    });

  it.each<[string, Json]>([
    ["42 tags: with Stevedore's 8, ECS's 50", tags(42)],
    ["no tags at all", []],
    ["a key of 128 characters and a value of 256, in letters of any script", [{ key: "ü".repeat(128), value: "日".repeat(256) }]],
    ["every character ECS allows", [{ key: "a b_c.d:e/f=g+h-i@j", value: "Ünïcødé 1 2 3" }]],
    ["a tag without a value", [{ key: "owner" }]],
    ["aws and stevedore not as a prefix", [{ key: "team:aws:x", value: "my-stevedore:y" }]],
  ])("accepts %s", (_, list) => {
    expect(checkTaskDefinition(withTags(list))).toEqual([]);
  });

  it.each<[string, Json, string[]]>([
    [
      "43 tags, one more than Stevedore's 8 leave room for",
      tags(43),
      ["tags: 43 tags, and Stevedore adds up to 8 of its own (stevedore:app, stevedore:digest, …); ECS allows 50 on a task definition: keep at most 42"],
    ],
    ["a key ECS reserves", [{ key: "aws:team", value: "x" }], ['tags[0].key: "aws:team" starts with aws:, which AWS reserves for its own tags']],
    ["a value ECS reserves, in capitals", [{ key: "team", value: "AWS:x" }], ['tags[0].value: "AWS:x" starts with aws:, which AWS reserves for its own tags']],
    [
      "a key of Stevedore's provenance",
      [{ key: "stevedore:env", value: "prod" }],
      ['tags[0].key: "stevedore:env": stevedore: keys are the provenance tags Stevedore sets on every revision it registers; use another prefix'],
    ],
    [
      "a character outside ECS's pattern",
      [{ key: "team", value: "a|b" }],
      ['tags[0].value: "a|b" has characters ECS does not allow in tags: only letters, digits, spaces and _ . : / = + - @'],
    ],
    ["an empty key", [{ key: "", value: "x" }], ["tags[0].key: must be 1 to 128 characters, got 0"]],
    ["a key of 129 characters", [{ key: "k".repeat(129), value: "x" }], ["tags[0].key: must be 1 to 128 characters, got 129"]],
    ["a value of 257 characters", [{ key: "k", value: "v".repeat(257) }], ["tags[0].value: must be at most 256 characters, got 257"]],
    [
      "one key twice",
      [
        { key: "team", value: "a" },
        { key: "team", value: "b" },
      ],
      ['tags[1].key: "team" is given twice; a tag key can have one value'],
    ],
  ])("refuses %s", (_, list, problems) => {
    expect(checkTaskDefinition(withTags(list))).toEqual(problems);
  });

  it("leaves a tag of the wrong shape to the shape check", () => {
    expect(checkTaskDefinition(withTags([{ key: 7, value: "x" }, "team"]))).toEqual([]);
  });
});

describe("checkTaskDefinition: ECS's quotas on a task definition", () => {
  const containers = (n: number) =>
    fargate((td) => {
      td.containerDefinitions = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: IMAGE, essential: i === 0 }));
    });
  /** A definition whose JSON is `bytes` long (its one environment value padded to fit). */
  const sized = (bytes: number) => {
    const td = fargate((td) => {
      container(td).environment = [{ name: "BLOB", value: "" }];
    });
    (container(td).environment as Json[])[0] = { name: "BLOB", value: "x".repeat(bytes - JSON.stringify(td).length) };
    expect(JSON.stringify(td)).toHaveLength(bytes);
    return td;
  };
  // What Stevedore's 8 tags can add at most: each key with a value of 256 characters.
  const provenance = 2347;

  it("accepts 10 containers", () => {
    expect(checkTaskDefinition(containers(10))).toEqual([]);
  });

  it("refuses 11 containers, a quota that cannot be raised", () => {
    expect(checkTaskDefinition(containers(11))).toEqual([
      "containerDefinitions: 11 containers; ECS allows 10 in a task definition (a quota that cannot be raised)",
    ]);
  });

  it("accepts a definition that stays within 64 KiB with Stevedore's tags added", () => {
    expect(checkTaskDefinition(sized(65_536 - provenance))).toEqual([]);
  });

  it("refuses one byte more, naming the sizes and a way out", () => {
    expect(checkTaskDefinition(sized(65_536 - provenance + 1))).toEqual([
      `the task definition is ${65_536 - provenance + 1} bytes of JSON, and Stevedore's tags can add ${provenance}; ECS takes at most 65536: move large values (long environment lists, scripts) into an environment file or a secret`,
    ]);
  });
});

describe("checkTaskDefinition: volumes as ECS resolves them", () => {
  it.each<[string, JsonObject]>([
    [
      "a mount point of a declared volume (a bind mount on Fargate's task storage)",
      fargate((td) => {
        td.volumes = [{ name: "scratch" }];
        container(td).mountPoints = [{ sourceVolume: "scratch", containerPath: "/tmp/scratch" }];
      }),
    ],
    [
      "a host path on EC2",
      ec2((td) => {
        td.volumes = [{ name: "docker-sock", host: { sourcePath: "/var/run/docker.sock" } }];
        container(td).mountPoints = [{ sourceVolume: "docker-sock", containerPath: "/var/run/docker.sock" }];
      }),
    ],
  ])("accepts %s", (_, td) => {
    expect(checkTaskDefinition(td)).toEqual([]);
  });

  it.each<[string, JsonObject, string[]]>([
    [
      "a mount point of a volume the task does not declare (ECS: Unknown volume)",
      fargate((td) => {
        td.volumes = [{ name: "scratch" }];
        container(td).mountPoints = [{ sourceVolume: "cache", containerPath: "/cache" }];
      }),
      ['containerDefinitions[0].mountPoints[0].sourceVolume: "cache" is not one of the task\'s volumes; add it under volumes'],
    ],
    [
      "a host path on Fargate",
      fargate((td) => {
        td.volumes = [{ name: "logs", host: { sourcePath: "/var/log" } }];
      }),
      [
        "volumes[0].host.sourcePath: Fargate tasks cannot mount a path of the host; leave host out (a bind mount on the task's own storage) or use an EFS volume",
      ],
    ],
  ])("refuses %s", (_, td, problems) => {
    expect(checkTaskDefinition(td)).toEqual(problems);
  });
});

describe("checkTaskDefinition: a container that waits for another to exit", () => {
  const waitingFor = (condition: string, essential: boolean | undefined) =>
    fargate((td) => {
      td.containerDefinitions.unshift({ name: "migrate", image: IMAGE, ...(essential === undefined ? {} : { essential }) });
      container(td, 1).dependsOn = [{ containerName: "migrate", condition }];
    });

  it.each<[string, JsonObject]>([
    ["SUCCESS of a container that is not essential", waitingFor("SUCCESS", false)],
    ["COMPLETE of a container that is not essential", waitingFor("COMPLETE", false)],
    ["START of an essential container", waitingFor("START", true)],
  ])("accepts %s", (_, td) => {
    expect(checkTaskDefinition(td)).toEqual([]);
  });

  it.each<[string, JsonObject, string]>([
    ["SUCCESS of an essential container", waitingFor("SUCCESS", true), "SUCCESS"],
    ["COMPLETE of a container left essential by default", waitingFor("COMPLETE", undefined), "COMPLETE"],
  ])("refuses %s (ECS refuses it)", (_, td, condition) => {
    expect(checkTaskDefinition(td)).toEqual([
      `containerDefinitions[1].dependsOn[0].condition: ${condition} waits for "migrate" to exit, and an essential container's exit stops the task: set "essential": false on "migrate"`,
    ]);
  });
});
