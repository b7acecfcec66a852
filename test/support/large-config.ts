// A config at the size the stack must hold (issue "Hold on a real AWS account"): 50 apps of ten
// teams, 200 services on 4 clusters, a task definition family per service, a task role per app and environment, a
// guarding alarm per environment, a build project per app, half of them promoted by a person.
// Names are as long as real ones tend to be, so the sizes measured on it are honest.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const TEAMS = ["payments", "search", "catalog", "checkout", "identity", "billing", "shipping", "reviews", "inventory", "analytics"];
const PARTS = ["api", "worker", "web", "scheduler", "gateway"];
export const LARGE = { apps: TEAMS.length * PARTS.length, services: 200, clusters: 4 } as const;

const TEMPLATE = {
  family: "{{ FAMILY }}",
  requiresCompatibilities: ["FARGATE"],
  networkMode: "awsvpc",
  cpu: "512",
  memory: "1024",
  executionRoleArn: "arn:aws:iam::123456789012:role/platform-{{ env }}-ecs-execution",
  taskRoleArn: "{{ TASK_ROLE }}",
  containerDefinitions: [
    {
      name: "app",
      image: "{{ image }}",
      essential: true,
      environment: [{ name: "APP_ENV", value: "{{ env }}" }],
    },
  ],
};

/** Writes the config and its template into `dir`; returns the config's path. */
export function writeLargeConfig(dir: string): string {
  mkdirSync(join(dir, "templates"), { recursive: true });
  writeFileSync(join(dir, "templates", "service.json"), JSON.stringify(TEMPLATE, null, 2));
  const lines = ["version: 1", "notifications:", "  platform-slack:", "    type: slack", "    url: ssm:/stevedore/platform/slack-webhook-url", "apps:"];
  for (const team of TEAMS) {
    for (const part of PARTS) {
      const app = `${team}-${part}`;
      lines.push(
        `  ${app}:`,
        `    repository: ${team}/${part}`,
        `    build: ${app}-build`,
        `    tags: "[0-9a-f]{7,40}"`,
        "    template: templates/service.json",
        "    notify: [platform-slack]",
        "    environments:",
      );
      for (const env of ["staging", "production"]) {
        const manual = env === "production" && PARTS.indexOf(part) % 2 === 0;
        lines.push(
          `      - name: ${env}`,
          "        region: eu-west-1",
          ...(env === "production" ? [`        promote: { approval: ${manual ? "manual" : "auto"} }`] : []),
          `        alarms: [${app}-${env}-errors]`,
          "        targets:",
        );
        for (const side of ["blue", "green"]) {
          const cluster = `platform-${env}-${side === "blue" ? "a" : "b"}`;
          const service = `${app}-${side}`;
          lines.push(
            `          - cluster: ${cluster}`,
            `            service: ${service}`,
            `            variables: { FAMILY: ${app}-${env}-${side}, TASK_ROLE: "arn:aws:iam::123456789012:role/${app}-${env}-task" }`,
          );
        }
      }
    }
  }
  const file = join(dir, "stevedore.yml");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}
