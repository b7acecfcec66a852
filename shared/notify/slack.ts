// Notification → Slack incoming-webhook payload (Block Kit). Pure.
// The header and the colour bar say failure in two ways for every failed outcome, because the
// complaint about other tools is a rollback posted with a green tick.
import { watchText, type Notification, type Severity } from "./message";

// Slack's documented limits; a payload over them is rejected as a whole (invalid_blocks).
const LIMIT = { header: 150, sectionText: 3000, field: 2000, fields: 10, contextText: 3000, buttonText: 75, url: 3000, text: 3000 };

export interface SlackText {
  type: "plain_text" | "mrkdwn";
  text: string;
  emoji?: boolean;
}
export type SlackBlock =
  | { type: "header"; text: SlackText }
  | { type: "section"; text?: SlackText; fields?: SlackText[] }
  | { type: "context"; elements: SlackText[] }
  | { type: "actions"; elements: { type: "button"; text: SlackText; url: string; action_id: string }[] };

export interface SlackPayload {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: SlackBlock[];
  attachments: { color: string; fallback: string; blocks: SlackBlock[] }[];
}

const COLOR: Record<Severity, string> = {
  success: "#2eb67d",
  info: "#1d9bd1",
  warning: "#ecb22e",
  failure: "#e01e5a",
};

const EMOJI: Record<string, string> = {
  "deployment.started": "🚀",
  "deployment.completed": "⏳",
  "deployment.rolling_back": "⚠️",
  "deployment.verified": "✅",
  "deployment.superseded": "⏭️",
  "deployment.refused": "⛔",
  "deployment.warning": "⚠️",
  "promotion.awaiting_approval": "🙋",
  "promotion.approved": "👍",
  "promotion.rejected": "🚫",
  "promotion.expired": "⌛",
};

function emojiOf(n: Notification): string {
  // Every failure gets the same unmistakable mark, whatever the event.
  return n.severity === "failure" ? "❌" : (EMOJI[n.event] ?? "ℹ️");
}

export function toSlack(n: Notification): SlackPayload {
  const title = `${emojiOf(n)} ${n.title}`;
  const details: SlackBlock[] = [
    { type: "section", text: mrkdwn(truncate(escape(n.summary), LIMIT.sectionText)) },
    {
      type: "section",
      fields: fieldsOf(n)
        .slice(0, LIMIT.fields)
        .map(([name, value]) => mrkdwn(truncate(`*${name}*\n${escape(value)}`, LIMIT.field))),
    },
  ];
  const context = contextOf(n);
  if (context.length > 0) details.push({ type: "context", elements: context.map((c) => mrkdwn(truncate(escape(c), LIMIT.contextText))) });
  const buttons = buttonsOf(n);
  if (buttons.length > 0) details.push({ type: "actions", elements: buttons });
  return {
    text: truncate(escape(`${title}: ${n.summary}`), LIMIT.text),
    blocks: [{ type: "header", text: { type: "plain_text", text: truncate(title, LIMIT.header), emoji: true } }],
    attachments: [{ color: COLOR[n.severity], fallback: truncate(escape(`${title}: ${n.summary}`), LIMIT.text), blocks: details }],
  };
}

function fieldsOf(n: Notification): [string, string][] {
  const fields: [string, string | undefined][] =
    n.kind === "deployment"
      ? [
          ["App", n.deployment.app],
          ["Environment", n.deployment.env],
          ["Service", `${n.deployment.cluster}/${n.deployment.service} (${n.deployment.region})`],
          ["Image", `${n.deployment.repository}${n.deployment.tag ? `:${n.deployment.tag}` : ""} · ${n.deployment.shortDigest}`],
          ["Commit", shortCommit(n.deployment.commit)],
          ["Revision", n.deployment.revision === undefined ? undefined : String(n.deployment.revision)],
          ["Trigger", n.deployment.triggeredBy],
          ["Duration", n.deployment.duration],
        ]
      : n.kind === "promotion"
        ? [
            ["App", n.promotion.app],
            ["Promotion", `${n.promotion.from} → ${n.promotion.to}`],
            ["Image", `${n.promotion.repository}${n.promotion.tag ? `:${n.promotion.tag}` : ""} · ${n.promotion.shortDigest}`],
            ["Commit", shortCommit(n.promotion.commit)],
            ["Decided by", n.promotion.decidedBy],
          ]
        : [
            ["App", n.build.app],
            ["Project", n.build.project],
            ["Build", n.build.buildNumber === undefined ? n.build.buildId : `#${n.build.buildNumber}`],
            ["Phase", n.build.phase],
            ["Commit", shortCommit(n.build.commit)],
            ["Repository", n.build.repository],
          ];
  return fields.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== "");
}

function contextOf(n: Notification): string[] {
  if (n.kind === "build") return [`Build ${n.build.buildId}`];
  if (n.kind === "promotion") {
    return [
      `Promotion ${n.promotion.id}`,
      n.promotion.approveCommand && `Approve: ${n.promotion.approveCommand}`,
      n.promotion.rejectCommand && `Reject: ${n.promotion.rejectCommand}`,
    ].filter((c): c is string => !!c);
  }
  return [`Deployment ${n.deployment.id}`, `Digest ${n.deployment.digest}`, watchText(n.deployment.watchUntil)].filter((c): c is string => c !== undefined);
}

function buttonsOf(n: Notification): Extract<SlackBlock, { type: "actions" }>["elements"] {
  const links: [string, string, string | undefined][] = [
    ["ecs_console", "ECS console", n.links.ecsConsole],
    ["build_logs", "Build logs", n.links.buildLogs],
  ];
  return links
    .filter((l): l is [string, string, string] => l[2] !== undefined && l[2].length <= LIMIT.url && /^https?:\/\//.test(l[2]))
    .map(([id, label, url]) => ({ type: "button", action_id: id, text: { type: "plain_text", text: label }, url }));
}

function shortCommit(commit: string | undefined): string | undefined {
  return commit && /^[0-9a-f]{8,}$/i.test(commit) ? commit.slice(0, 7) : commit;
}

function mrkdwn(text: string): SlackText {
  return { type: "mrkdwn", text };
}

// Slack reads <…> as links and mentions (<!channel>); reasons come from ECS and builds, not us.
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Never leave half an escape (&am…) or half a surrogate pair behind.
  cut = cut.replace(/&[a-z]{0,3}$/, "").replace(/[\uD800-\uDBFF]$/, "");
  return `${cut}…`;
}
