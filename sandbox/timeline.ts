// What happened in a world, as a person would follow it: when (sandbox time since the start),
// what came in (AWS's events), what Stevedore did (its AWS writes and record changes), and what
// the webhooks received.
import type { StoredRecord } from "../shared/records/model";
import type { Clock } from "./clock";
import type { AwsEvent } from "./events";
import type { Invocation } from "./runtime";
import type { ReceivedMessage } from "./webhook";

export type EntryKind = "note" | "event" | "failed" | "did" | "record" | "webhook";

export interface Entry {
  at: number;
  kind: EntryKind;
  text: string;
}

const MARK: Record<EntryKind, string> = {
  note: "▶",
  event: "⚡",
  failed: "✗",
  did: "⚙",
  record: "●",
  webhook: "✉",
};

interface Call {
  operation: string;
  function?: string;
  body?: Record<string, unknown>;
}

export class Timeline {
  readonly entries: Entry[] = [];
  private start: number;

  constructor(private readonly clock: Clock) {
    this.start = clock.now();
  }

  /** Times are shown from here on (the scenario's start, not the world's setup). */
  restart(): void {
    this.start = this.clock.now();
    this.entries.length = 0;
  }

  private add(kind: EntryKind, text: string): void {
    this.entries.push({ at: this.clock.now(), kind, text });
  }

  note(text: string): void {
    this.add("note", text);
  }

  event(event: AwsEvent): void {
    const text = describeEvent(event);
    if (text) this.add("event", text);
  }

  invocation(invocation: Invocation): void {
    if (invocation.outcome?.ok === false) {
      this.add(
        "failed",
        `${invocation.function} ${invocation.outcome.kind === "error" ? "failed" : invocation.outcome.kind === "crash" ? "crashed" : "timed out"}: ${invocation.outcome.error.split("\n")[0]} (Lambda retries it)`,
      );
    }
  }

  did(call: Call): void {
    const b = call.body ?? {};
    const what =
      call.operation === "RegisterTaskDefinition"
        ? `register ${String(b.family)}`
        : call.operation === "UpdateService"
          ? `UpdateService ${String(b.cluster)}/${String(b.service)} → ${String(b.taskDefinition).replace(/^.*\//, "")}`
          : call.operation === "StopServiceDeployment"
            ? `StopServiceDeployment (roll back) ${String(b.serviceDeploymentArn).replace(/^.*service-deployment\//, "")}`
            : call.operation;
    this.add("did", `${call.function ?? "stevedore"}: ${what}`);
  }

  recorded(record: StoredRecord): void {
    if (record.kind === "deployment") {
      const reason = record.reason && record.status !== "started" ? ` — ${record.reason}` : "";
      this.add("record", `${record.app}/${record.env} ${record.cluster}/${record.service}: ${record.status}${record.tag ? ` (${record.tag})` : ""}${reason}`);
    } else if (record.kind === "promotion") {
      this.add("record", `promotion ${record.id} ${record.app} ${record.from} → ${record.to}: ${record.status}`);
    } else {
      this.add("record", `build ${record.project} ${record.status}`);
    }
  }

  webhook(message: ReceivedMessage): void {
    this.add("webhook", `${message.destination}: ${message.title}`);
  }

  render(): string[] {
    return this.entries.map((e) => {
      const seconds = Math.max(0, Math.round((e.at - this.start) / 1000));
      const stamp = `+${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
      return `  ${stamp}  ${MARK[e.kind]} ${e.text}`;
    });
  }
}

function describeEvent(e: AwsEvent): string | undefined {
  const d = e.detail as Record<string, unknown>;
  const service = e.resources[0]?.replace(/^.*:service\//, "");
  switch (e["detail-type"]) {
    case "ECR Image Action":
      return `ECR ${String(d["action-type"]).toLowerCase()}: ${String(d["repository-name"])}${d["image-tag"] ? `:${String(d["image-tag"])}` : " (untagged)"} ${String(d["image-digest"]).slice(7, 19)}`;
    case "CodeBuild Build State Change": {
      const info = d["additional-information"] as { "build-number"?: number } | undefined;
      return `CodeBuild ${String(d["project-name"])} #${info?.["build-number"] ?? "?"}: ${String(d["build-status"])}`;
    }
    case "ECS Deployment State Change":
      return `ECS ${service}: ${String(d.eventName).replace("SERVICE_DEPLOYMENT_", "")} ${String(d.deploymentId).slice(-6)}${/rolling back|circuit|fail/i.test(String(d.reason ?? "")) ? ` — ${String(d.reason)}` : ""}`;
    case "ECS Service Action":
      return `ECS ${service}: ${String(d.eventName)}`;
    case "CloudWatch Alarm State Change":
      return `CloudWatch ${String(d.alarmName)}: ${String((d.state as { value?: string })?.value)}`;
    case "Stevedore Promotion Decision":
      return `EventBridge: ${String(d.decision)} ${String(d.app)} ${String(d.promotionId)} (by ${String(d.by)})`;
    default:
      return undefined; // scheduled sweeps: their effects show as record changes
  }
}
