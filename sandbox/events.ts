// EventBridge events as AWS delivers them (see ../shared/events in the design notes and
// test/events/): the envelope every local service stamps its events with.
import type { Clock } from "./clock";
import { madeUpId } from "./random";

export interface AwsEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** How a local service hands an event to the sandbox's bus. */
export type Emit = (event: AwsEvent) => void;

export interface EventOrigin {
  clock: Clock;
  account: string;
  region: string;
}

export function awsEvent(origin: EventOrigin, source: string, detailType: string, detail: Record<string, unknown>, resources: string[] = []): AwsEvent {
  const event = {
    "detail-type": detailType,
    source,
    account: origin.account,
    time: origin.clock.eventTime(),
    region: origin.region,
    resources,
    detail,
  };
  return { version: "0", id: madeUpId(event), ...event };
}
