// A guarding alarm went to ALARM → roll back every deployment it guards that is still rolling
// out or inside its watch window. OK and INSUFFICIENT_DATA change nothing.
import type { PipelineConfig } from "../config/model";
import type { Lease } from "../lambda";
import type { AlarmStateChange } from "../events/alarm";
import { CONCURRENCY, mapLimit } from "../limit";
import { logger } from "../log";
import { readTarget } from "../records/store";
import { decideAndRollBack } from "./rollback";

export type AlarmResult = { ignored: string } | { checked: { target: string; recordId?: string; status?: string; rolledBack: boolean }[] };

export async function rollBackOnAlarm(event: AlarmStateChange, config: PipelineConfig, lease: Lease): Promise<AlarmResult> {
  const { alarmName, state } = event.detail;
  if (state.value !== "ALARM") return ignored(`${alarmName} went to ${state.value}: only ALARM rolls back`, alarmName);
  const targets = config.apps
    .flatMap((app) => app.environments)
    .filter((env) => env.region === event.region && env.alarms.includes(alarmName))
    .flatMap((env) => env.targets);
  if (targets.length === 0) return ignored(`${alarmName} guards no configured environment in ${event.region}`, alarmName);

  const checked = await mapLimit(targets, CONCURRENCY, async (target) => {
    const { record } = await readTarget(target.key);
    if (!record) return { target: target.key, rolledBack: false };
    // The alarm's own timestamp, not the delivery time: a late event still lands in (or out of) the window.
    const { record: after, decided } = await decideAndRollBack(
      record,
      {
        kind: "alarm",
        at: state.timestamp,
        alarm: alarmName,
        reason: state.reason ?? "no reason given",
        wallNow: Date.now(),
        leaseUntil: lease.until(),
      },
      state.timestamp,
    );
    return { target: target.key, recordId: after.id, status: after.status, rolledBack: decided };
  });
  logger.info(`alarm ${alarmName}: ${checked.filter((c) => c.rolledBack).length} rollback(s)`, { alarm: alarmName, checked });
  return { checked };
}

function ignored(reason: string, alarm: string): AlarmResult {
  logger.info(`alarm ignored: ${reason}`, { alarm });
  return { ignored: reason };
}
