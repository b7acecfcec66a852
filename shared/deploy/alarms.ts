// CloudWatch alarm states, read before a deployment starts: ECS ignores an alarm that is
// already in ALARM when a deployment begins, so a firing alarm would not guard it.
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { clientFor } from "../aws/clients";
import { call } from "../aws/errors";
import type { AlarmReading } from "../records/state";

/** The states of the named alarms, metric and composite. Alarms that do not exist are absent. */
export async function describeAlarms(region: string, names: string[]): Promise<AlarmReading[]> {
  const states: AlarmReading[] = [];
  // DescribeAlarms takes at most 100 names a call.
  for (let i = 0; i < names.length; i += 100) {
    let token: string | undefined;
    do {
      const out = await call("DescribeAlarms", () =>
        clientFor(CloudWatchClient, region).send(
          new DescribeAlarmsCommand({
            AlarmNames: names.slice(i, i + 100),
            AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
            NextToken: token,
          }),
        ),
      );
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName) {
          states.push({
            name: alarm.AlarmName,
            state: alarm.StateValue ?? "UNKNOWN",
            reason: alarm.StateReason,
            since: alarm.StateUpdatedTimestamp?.toISOString(),
          });
        }
      }
      token = out.NextToken;
    } while (token);
  }
  return states;
}
