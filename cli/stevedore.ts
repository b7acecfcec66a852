#!/usr/bin/env node
// The Stevedore command line: check a config, see what would be registered, approve or reject a
// promotion, read a service's history. Run it as `npm run stevedore -- <command>`.
// It talks to AWS with the SDK's usual credentials (profiles, SSO, env) and honours
// AWS_ENDPOINT_URL like everything else, so it works against the local sandbox too.
import { parseArgs } from "node:util";
import { userInfo } from "node:os";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { configPath, loadConfig } from "../shared/config/load";
import { formatConfigDuration } from "../shared/config/duration";
import type { PipelineConfig } from "../shared/config/model";
import { ConfigError } from "../shared/errors";
import { imageOf } from "../shared/deploy/image";
import { renderTarget } from "../shared/render/task-definition";
import { shortDigest } from "../shared/records/model";
import { redeliver } from "../shared/notify/notify";
import { queryApp, queryUndelivered } from "../shared/records/store";

const USAGE = `Usage: npm run stevedore -- <command> [options]

Commands:
  validate                               check the config and its templates; show what deploys where
  render <app> <env> [--target C/S] [--image URI@sha256:…] [--tag T] [--commit C]
                                         print the task definition Stevedore would register
  approve <app> <promotion-id> [--by NAME] [--reason TEXT]
  reject  <app> <promotion-id> --reason TEXT [--by NAME]
                                         decide on a promotion waiting for approval
  history <app> [--env ENV] [--limit N]  the app's deployments, newest first, and any final message
                                         that could not be delivered (needs RECORDS_TABLE)
  redeliver <app> [<record-id>]          send again the final messages kept as undelivered (a
                                         destination refused them, its secret was missing, or it
                                         was down for 50 minutes), once the cause is fixed

Options:
  --config FILE   the pipeline config (default: $STEVEDORE_CONFIG or examples/stevedore.yml)
  --help          this text`;

export async function main(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      target: { type: "string" },
      image: { type: "string" },
      tag: { type: "string" },
      commit: { type: "string" },
      by: { type: "string" },
      reason: { type: "string" },
      env: { type: "string" },
      limit: { type: "string" },
      help: { type: "boolean" },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command || command === "help") {
    out(USAGE);
    return command || values.help ? 0 : 2;
  }
  const file = values.config ?? configPath();
  try {
    switch (command) {
      case "validate":
        return validate(loadConfig(file), out);
      case "render":
        return render(loadConfig(file), args, values, out);
      case "approve":
      case "reject":
        return await approveOrReject(command, args, values, out);
      case "history":
        return await history(args, values, out);
      case "redeliver":
        return await resend(loadConfig(file), args, out);
      default:
        out(`Unknown command "${command}".\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    out(error instanceof ConfigError ? error.message : `stevedore ${command}: ${(error as Error).message}`);
    return 1;
  }
}

function validate(config: PipelineConfig, out: (line: string) => void): number {
  out(`${config.file}: valid\n`);
  for (const app of config.apps) {
    const tags = app.tags ? `tags matching /${app.tags.source.slice(4, -2)}/` : "every tagged push";
    out(`${app.name}: ${app.repository} (${tags})${app.buildProject ? `, and builds of CodeBuild project ${app.buildProject}` : ""}`);
    for (const env of app.environments) {
      const feed = env.promote
        ? `promoted from ${env.promote.from} (${env.promote.approval}${env.promote.approval === "manual" ? `, expires after ${formatConfigDuration(env.promote.expiresAfterSeconds)}` : ""})`
        : "deployed on push";
      out(`  ${env.name} [${env.region}]: ${feed}`);
      for (const t of env.targets) out(`    ${t.cluster}/${t.service} ← ${t.template.file}`);
      out(`    alarms: ${env.alarms.join(", ") || "none"} (if already firing: ${env.whenAlarmFiring})`);
      out(
        `    strategy ${env.strategy.type}, watch ${formatConfigDuration(env.watchSeconds)}, deadline ${formatConfigDuration(env.deadlineSeconds)}, on timeout: ${env.onTimeout}`,
      );
      out(`    notify: ${env.notify.join(", ") || "nobody"}`);
    }
    const stripped = [
      ...new Set(
        app.environments
          .flatMap((e) => e.targets)
          .filter((t) => t.template.strippedKeys.length > 0)
          .map((t) => `${t.template.file} (${t.template.strippedKeys.join(", ")})`),
      ),
    ];
    for (const s of stripped) out(`  note: read-only keys are stripped from ${s}`);
  }
  return 0;
}

function render(config: PipelineConfig, args: string[], values: Record<string, unknown>, out: (line: string) => void): number {
  const [appName, envName] = args;
  const env = config.apps.find((a) => a.name === appName)?.environments.find((e) => e.name === envName);
  if (!env) throw new Error(`no environment ${envName ?? "(missing)"} in app ${appName ?? "(missing)"}; see \`npm run stevedore -- validate\``);
  const target = values.target ? env.targets.find((t) => `${t.cluster}/${t.service}` === values.target) : env.targets[0];
  if (!target) throw new Error(`${String(values.target)} is not a target of ${appName}/${envName}`);
  const app = config.apps.find((a) => a.name === appName);
  const uri = typeof values.image === "string" ? values.image : `123456789012.dkr.ecr.${env.region}.amazonaws.com/${app?.repository}@sha256:${"0".repeat(64)}`;
  const m = /^(.+)@(sha256:[a-f0-9]{64})$/.exec(uri);
  if (!m) throw new Error("--image must be pinned by digest: <repository URI>@sha256:<64 hex>");
  const rendered = renderTarget(
    target,
    imageOf(app?.repository ?? "", m[1] as string, m[2] as string, values.tag as string | undefined, values.commit as string | undefined),
  );
  if (!rendered.ok) throw new Error(rendered.problems.join("\n"));
  out(JSON.stringify(rendered.input, null, 2));
  return 0;
}

async function approveOrReject(command: "approve" | "reject", args: string[], values: Record<string, unknown>, out: (line: string) => void): Promise<number> {
  const [app, promotionId] = args;
  if (!app || !promotionId || !/^p-[0-9a-f]{12}$/.test(promotionId)) {
    throw new Error(`usage: ${command} <app> <promotion-id>, e.g. ${command} shop-worker p-0a1b2c3d4e5f (the id is in the approval message)`);
  }
  if (command === "reject" && !values.reason) throw new Error("reject needs --reason: the team reads it in the message");
  const detail = { app, promotionId, decision: command, by: (values.by as string | undefined) ?? userInfo().username, reason: values.reason };
  const result = await new EventBridgeClient({}).send(
    new PutEventsCommand({
      Entries: [{ Source: "stevedore", DetailType: "Stevedore Promotion Decision", Detail: JSON.stringify(detail) }],
    }),
  );
  const failure = result.Entries?.find((e) => e.ErrorCode);
  if ((result.FailedEntryCount ?? 0) > 0 || failure) throw new Error(`EventBridge refused the decision: ${failure?.ErrorCode}: ${failure?.ErrorMessage}`);
  out(`${command === "approve" ? "Approved" : "Rejected"} ${app} ${promotionId} as ${detail.by}; the outcome arrives as a notification.`);
  return 0;
}

async function history(args: string[], values: Record<string, unknown>, out: (line: string) => void): Promise<number> {
  const [app] = args;
  if (!app) throw new Error("usage: history <app> [--env ENV] [--limit N]");
  if (!process.env.RECORDS_TABLE) throw new Error("set RECORDS_TABLE to the records table's name (the stack output RecordsTableName)");
  const limit = Number(values.limit ?? 20);
  const records = (await queryApp(app, 500))
    .filter((r) => !values.env || r.env === values.env)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, limit);
  if (records.length === 0) out(`no deployments of ${app} yet`);
  const undelivered = await queryUndelivered(app);
  for (const r of records) {
    out(
      `${r.createdAt.slice(0, 19).replace("T", " ")}  ${r.env.padEnd(12)} ${`${r.cluster}/${r.service}`.padEnd(28)} ${(r.tag ?? "-").padEnd(12)} ${shortDigest(r.digest)}  ${r.status.padEnd(12)} ${r.id}${r.reason ? `  ${r.reason}` : ""}`,
    );
    for (const u of undelivered.filter((x) => x.recordId === r.id)) out(`${" ".repeat(21)}⚠ ${u.event} not delivered to ${u.destination}: ${u.reason}`);
  }
  const others = undelivered.filter((u) => !records.some((r) => r.id === u.recordId));
  for (const u of others) out(`⚠ ${u.recordId}: ${u.event} not delivered to ${u.destination}: ${u.reason}`);
  if (undelivered.length > 0) out(`\nSend them again once fixed: npm run stevedore -- redeliver ${app}`);
  return 0;
}

async function resend(config: PipelineConfig, args: string[], out: (line: string) => void): Promise<number> {
  const [app, recordId] = args;
  if (!app) throw new Error("usage: redeliver <app> [<record-id>]");
  if (!process.env.RECORDS_TABLE) throw new Error("set RECORDS_TABLE to the records table's name (the stack output RecordsTableName)");
  const results = await redeliver(app, recordId, { config });
  if (results.length === 0) out(`nothing of ${app}${recordId ? ` ${recordId}` : ""} is kept as undelivered`);
  for (const r of results)
    out(`${r.delivered ? "✓ delivered" : "✗ still not delivered"}: ${r.recordId} ${r.event} to ${r.destination}${r.error ? ` (${r.error})` : ""}`);
  return results.every((r) => r.delivered) ? 0 : 1;
}

// Run when executed, not when imported by a test.
if (process.argv[1] && /stevedore\.[cm]?[tj]s$/.test(process.argv[1])) {
  // A reader that stops early (`stevedore status | head`) closes the pipe: stop quietly, as
  // Unix tools do, instead of dying on an unhandled EPIPE.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(0);
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
