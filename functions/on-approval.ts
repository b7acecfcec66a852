// Stevedore Promotion Decision (sent by the CLI) → approve or reject a waiting promotion.
import { getConfig } from "../shared/config/compiled";
import { promotionDecision } from "../shared/events/approval";
import { eventHandler } from "../shared/handler";
import { leaseOf } from "../shared/lambda";
import { applyPromotionDecision } from "../shared/promote/promote";

export const handler = eventHandler("on-approval", promotionDecision, (event, context) => applyPromotionDecision(event, getConfig(), leaseOf(context)));
