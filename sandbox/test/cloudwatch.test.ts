import {
  DescribeAlarmsCommand,
  InvalidFormatFault,
  InvalidNextToken,
  InvalidParameterValueException,
  ListMetricsCommand,
  PutCompositeAlarmCommand,
  PutMetricAlarmCommand,
  ResourceNotFound,
  SetAlarmStateCommand,
  ValidationException,
} from "@aws-sdk/client-cloudwatch";
import { CLOUDWATCH_PREFIX } from "../aws/cloudwatch";
import type { AwsEvent } from "../events";
import { fixture, shape, startWorld, type World } from "./local-aws";

const ALARM = "shop-prod-web-5xx";
const ARN = `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${ALARM}`;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;

async function failure(promise: Promise<unknown>): Promise<Error & { Code?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to fail");
}

describe("LocalCloudWatch", () => {
  let world: World;
  let heard: [string, string, string][];

  beforeEach(async () => {
    world = await startWorld();
    heard = [];
    world.cloudwatch.onStateChange((name, state, reason) => heard.push([name, state, reason]));
  });

  afterEach(async () => {
    await world.close();
  });

  /** The alarm of the sample events, created through the API. */
  const putSampleAlarm = () =>
    world.cwClient.send(
      new PutMetricAlarmCommand({
        AlarmName: ALARM,
        AlarmDescription: "Target 5xx responses of the web service are above 2% for 2 minutes",
        Namespace: "AWS/ApplicationELB",
        MetricName: "HTTPCode_Target_5XX_Count",
        Dimensions: [
          { Name: "LoadBalancer", Value: "app/shop-prod/50dc6c495c0c9188" },
          { Name: "TargetGroup", Value: "targetgroup/web/943f017f100becff" },
        ],
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 2,
        Threshold: 10,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );

  const alarmEvents = () => world.events.filter((e) => e["detail-type"] === "CloudWatch Alarm State Change");

  it("answers on the X-Amz-Target prefix the SDK sends (JSON 1.0)", async () => {
    await world.cwClient.send(new DescribeAlarmsCommand({}));
    expect(world.targets).toEqual([`${CLOUDWATCH_PREFIX}.DescribeAlarms`]);
  });

  it("creates metric alarms and describes them with their state, timestamps as Dates", async () => {
    await putSampleAlarm();
    const out = await world.cwClient.send(new DescribeAlarmsCommand({ AlarmNames: [ALARM] }));
    expect(out.CompositeAlarms).toEqual([]);
    const [alarm] = out.MetricAlarms ?? [];
    expect(alarm).toMatchObject({
      AlarmName: ALARM,
      AlarmArn: ARN,
      StateValue: "INSUFFICIENT_DATA",
      StateReason: "Unchecked: Initial alarm creation",
      MetricName: "HTTPCode_Target_5XX_Count",
      Namespace: "AWS/ApplicationELB",
      Threshold: 10,
      ComparisonOperator: "GreaterThanThreshold",
      ActionsEnabled: true,
    });
    expect(alarm?.StateUpdatedTimestamp).toBeInstanceOf(Date);
    expect(alarm?.AlarmConfigurationUpdatedTimestamp).toBeInstanceOf(Date);
    expect(Math.abs((alarm?.StateUpdatedTimestamp?.getTime() ?? 0) - world.clock.now())).toBeLessThan(10 * 60_000);
    expect(heard).toEqual([[ALARM, "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"]]);
  });

  it("changes state with SetAlarmState and emits the state change event in AWS's exact shape", async () => {
    await putSampleAlarm();
    const sample = fixture("cloudwatch-alarm-state-change-alarm");
    const alarmDetail = sample.detail as { state: { reason: string; reasonData: string } };
    await world.cwClient.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: "OK", StateReason: "fine", StateReasonData: '{"version":"1.0"}' }));
    await world.cwClient.send(
      new SetAlarmStateCommand({
        AlarmName: ALARM,
        StateValue: "ALARM",
        StateReason: alarmDetail.state.reason,
        StateReasonData: alarmDetail.state.reasonData,
      }),
    );

    const [, event] = alarmEvents() as [AwsEvent, AwsEvent];
    expect(shape(event)).toEqual(shape(sample));
    expect(event).toMatchObject({
      source: "aws.cloudwatch",
      "detail-type": "CloudWatch Alarm State Change",
      resources: [ARN],
      region: "eu-west-1",
      account: "123456789012",
    });
    expect(event.detail).toEqual({
      alarmName: ALARM,
      configuration: (sample.detail as { configuration: unknown }).configuration,
      previousState: { reason: "fine", reasonData: '{"version":"1.0"}', timestamp: expect.stringMatching(TIMESTAMP), value: "OK" },
      state: { reason: alarmDetail.state.reason, reasonData: alarmDetail.state.reasonData, timestamp: expect.stringMatching(TIMESTAMP), value: "ALARM" },
    });

    await world.cwClient.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: "OK", StateReason: "recovered", StateReasonData: "{}" }));
    expect(shape(alarmEvents()[2])).toEqual(shape(fixture("cloudwatch-alarm-state-change-ok")));
    const [alarm] = (await world.cwClient.send(new DescribeAlarmsCommand({ AlarmNames: [ALARM] }))).MetricAlarms ?? [];
    expect(alarm).toMatchObject({ StateValue: "OK", StateReason: "recovered", StateReasonData: "{}" });
  });

  it("notifies listeners and emits only on a real change of state", async () => {
    world.cloudwatch.createAlarm(ALARM, { state: "OK" });
    heard.length = 0;
    const set = (StateValue: "OK" | "ALARM") =>
      world.cwClient.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue, StateReason: `now ${StateValue}` }));
    await set("OK");
    expect(heard).toEqual([]);
    expect(alarmEvents()).toEqual([]);
    await set("ALARM");
    await set("ALARM");
    expect(heard).toEqual([[ALARM, "ALARM", "now ALARM"]]);
    expect(alarmEvents()).toHaveLength(1);
    expect(world.cloudwatch.alarm(ALARM)).toMatchObject({ state: "ALARM", reason: "now ALARM", arn: ARN, type: "MetricAlarm" });
  });

  it("answers errors as the SDK's exception classes, query-compatible codes included", async () => {
    const missing = await failure(world.cwClient.send(new SetAlarmStateCommand({ AlarmName: "nope", StateValue: "ALARM", StateReason: "x" })));
    expect(missing).toBeInstanceOf(ResourceNotFound);
    expect(missing.Code).toBe("ResourceNotFound");
    expect(missing.$metadata?.httpStatusCode).toBe(404);

    world.cloudwatch.createAlarm(ALARM);
    const state = await failure(world.cwClient.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: "BROKEN" as never, StateReason: "x" })));
    expect(state).toBeInstanceOf(ValidationException);
    expect(state.Code).toBe("ValidationError");
    const data = await failure(
      world.cwClient.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: "OK", StateReason: "x", StateReasonData: "not json" })),
    );
    expect(data).toBeInstanceOf(InvalidFormatFault);
    const rule = await failure(world.cwClient.send(new PutCompositeAlarmCommand({ AlarmName: "c", AlarmRule: "ALARM(a) AND" })));
    expect(rule).toBeInstanceOf(InvalidParameterValueException);
    expect(rule.Code).toBe("InvalidParameterValue");
    const names = await failure(world.cwClient.send(new DescribeAlarmsCommand({ AlarmNames: Array.from({ length: 101 }, (_, i) => `a${i}`) })));
    expect(names).toBeInstanceOf(ValidationException);
    const unknown = await failure(world.cwClient.send(new ListMetricsCommand({})));
    expect(unknown.name).toBe("UnknownOperationException");
    expect(unknown.message).toMatch(/not implemented by the sandbox/);
  });

  it("pages DescribeAlarms with MaxRecords and NextToken, filters by type and state", async () => {
    for (const name of ["g", "c", "a", "e", "b", "f", "d"]) world.cloudwatch.createAlarm(name, { state: name < "d" ? "ALARM" : "OK" });
    world.cloudwatch.createAlarm("z-composite", { composite: "ALARM(a) OR ALARM(b)" });

    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const out = await world.cwClient.send(new DescribeAlarmsCommand({ AlarmTypes: ["MetricAlarm", "CompositeAlarm"], MaxRecords: 3, NextToken }));
      seen.push(...[...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].map((a) => a.AlarmName ?? ""));
      NextToken = out.NextToken;
      pages++;
    } while (NextToken);
    expect(pages).toBe(3);
    expect(seen).toEqual(["a", "b", "c", "d", "e", "f", "g", "z-composite"]);

    const metricOnly = await world.cwClient.send(new DescribeAlarmsCommand({}));
    expect(metricOnly.CompositeAlarms).toEqual([]);
    expect(metricOnly.MetricAlarms).toHaveLength(7);
    const firing = await world.cwClient.send(new DescribeAlarmsCommand({ StateValue: "ALARM", AlarmTypes: ["MetricAlarm", "CompositeAlarm"] }));
    expect([...(firing.MetricAlarms ?? []), ...(firing.CompositeAlarms ?? [])].map((a) => a.AlarmName)).toEqual(["a", "b", "c", "z-composite"]);
    const byName = await world.cwClient.send(
      new DescribeAlarmsCommand({ AlarmNames: ["z-composite", "b", "missing"], AlarmTypes: ["MetricAlarm", "CompositeAlarm"] }),
    );
    expect(byName.MetricAlarms?.map((a) => a.AlarmName)).toEqual(["b"]);
    expect(byName.CompositeAlarms?.[0]).toMatchObject({ AlarmName: "z-composite", AlarmRule: "ALARM(a) OR ALARM(b)", StateValue: "ALARM" });

    const token = await failure(world.cwClient.send(new DescribeAlarmsCommand({ NextToken: "garbage" })));
    expect(token).toBeInstanceOf(InvalidNextToken);
  });

  it("moves composite alarms with their children and carries the rule in their events", async () => {
    await world.cwClient.send(
      new PutMetricAlarmCommand({
        AlarmName: "cpu",
        MetricName: "CPUUtilization",
        Namespace: "AWS/ECS",
        Statistic: "Average",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 90,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    await world.cwClient.send(
      new PutMetricAlarmCommand({
        AlarmName: "errors",
        MetricName: "Errors",
        Namespace: "Shop",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    await world.cwClient.send(
      new PutCompositeAlarmCommand({ AlarmName: "web-health", AlarmRule: 'ALARM("cpu") AND NOT OK(errors)', AlarmDescription: "web is unhealthy" }),
    );
    expect(world.cloudwatch.alarm("web-health")?.state).toBe("OK");

    await world.cwClient.send(new SetAlarmStateCommand({ AlarmName: "cpu", StateValue: "ALARM", StateReason: "hot" }));
    expect(world.cloudwatch.alarm("web-health")?.state).toBe("ALARM");
    const event = alarmEvents().find((e) => e.detail.alarmName === "web-health") as AwsEvent;
    expect(event.detail.configuration).toEqual({ alarmRule: 'ALARM("cpu") AND NOT OK(errors)', description: "web is unhealthy" });
    expect(event.resources).toEqual(["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-health"]);
    expect(heard.filter(([name]) => name === "web-health").map(([, state]) => state)).toEqual(["INSUFFICIENT_DATA", "OK", "ALARM"]);

    await world.cwClient.send(new SetAlarmStateCommand({ AlarmName: "errors", StateValue: "OK", StateReason: "quiet" }));
    expect(world.cloudwatch.alarm("web-health")?.state).toBe("OK");
  });
});
