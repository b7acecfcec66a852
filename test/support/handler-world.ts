// What a handler test starts from, set up the same way in every file: one local DynamoDB for the
// file, and before each test an empty records table and, where the handler calls them, ECS and
// CloudWatch faked afresh with a full registration budget.
import { fakeAws } from "./ecs";
import { startDynamo, type TestDynamo } from "./local-dynamo";
import { acceptStops, QUIET_ALARMS, refillRegistrationBudget, SERVICES } from "./records";

export type FakeAws = ReturnType<typeof fakeAws>;
export type FakeAwsOptions = Parameters<typeof fakeAws>[0];

export interface HandlerWorld {
  /** The local DynamoDB; its table is new in each test. */
  readonly db: TestDynamo;
  /** This test's fake ECS and CloudWatch. */
  readonly aws: FakeAws;
  /** Fakes ECS and CloudWatch anew for the rest of this test (another set of services or alarms). */
  fakeAws(options: FakeAwsOptions): FakeAws;
}

export interface WorldOptions {
  /**
   * ECS and CloudWatch before each test: the fixture's services running earlier revisions and
   * its alarms quiet unless given; `false` fakes nothing (a handler that calls neither).
   */
  aws?: false | (Partial<FakeAwsOptions> & { acceptStops?: boolean });
}

/** Registers the hooks; read the world's fields inside tests and hooks, where they are set. */
export function handlerWorld(options: WorldOptions = {}): HandlerWorld {
  let db: TestDynamo | undefined;
  let aws: FakeAws | undefined;
  const fake = (fakeOptions: FakeAwsOptions & { acceptStops?: boolean }): FakeAws => {
    aws?.restore();
    aws = fakeAws(fakeOptions);
    if (fakeOptions.acceptStops) acceptStops(aws);
    return aws;
  };
  beforeAll(async () => {
    db = await startDynamo();
  });
  afterAll(async () => db?.close());
  beforeEach(async () => {
    await db?.reset();
    if (options.aws === false) return;
    refillRegistrationBudget();
    fake({ services: SERVICES, alarms: QUIET_ALARMS, ...options.aws });
  });
  afterEach(() => {
    aws?.restore();
    aws = undefined;
  });
  return {
    get db() {
      if (!db) throw new Error("the world's DynamoDB starts in beforeAll: read world.db inside a test or a hook");
      return db;
    },
    get aws() {
      if (!aws) throw new Error("ECS and CloudWatch are faked before each test: read world.aws inside a test or a hook");
      return aws;
    },
    fakeAws: fake,
  };
}
