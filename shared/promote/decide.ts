// The life of a promotion waiting for approval, as a pure function like the deployments' one:
//   awaiting_approval ─▶ approved | rejected      (a person decided before it expired)
//                    └─▶ expired                  (nobody did; a late decision changes nothing)
import type { PromotionRecord, PromotionStatus } from "../records/model";

export type PromotionFact = { kind: "approve" | "reject"; at: string; by: string; reason?: string } | { kind: "expire"; at: string };

export function decidePromotion(record: PromotionRecord, fact: PromotionFact): PromotionRecord {
  if (record.status !== "awaiting_approval") return record;
  if (fact.at >= record.expiresAt) {
    return moved(record, "expired", fact.at, undefined, `nobody approved it before ${record.expiresAt}`);
  }
  if (fact.kind === "expire") return record;
  return moved(record, fact.kind === "approve" ? "approved" : "rejected", fact.at, fact.by, fact.reason);
}

function moved(record: PromotionRecord, status: PromotionStatus, at: string, by?: string, reason?: string): PromotionRecord {
  return {
    ...record,
    status,
    ...(by ? { decidedBy: by } : {}),
    ...(status !== "awaiting_approval" ? { decidedAt: at } : {}),
    ...(reason ? { reason } : {}),
    history: [...record.history, { status, at, ...(by ? { by } : {}), ...(reason ? { reason } : {}) }],
    version: record.version + 1,
  };
}
