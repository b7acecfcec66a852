// Every test process starts like a Lambda with dummy credentials (no test can reach real AWS)
// and the fixture config, compiled as `osls package` compiles it.
import { FIXTURE_CONFIG, useConfig } from "./config";

process.env.AWS_REGION ??= "eu-west-1";
process.env.AWS_ACCESS_KEY_ID ??= "test";
process.env.AWS_SECRET_ACCESS_KEY ??= "test";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
delete process.env.AWS_PROFILE;
// Decisions are logged at INFO; tests keep WARN and up so failures stay readable. A test that
// asserts on a log line raises the level itself (logger.setLogLevel).
process.env.LOG_LEVEL ??= "WARN";

useConfig(FIXTURE_CONFIG);
// What the CLI reads: the fixture too, whatever the shell running the tests points it at.
process.env.STEVEDORE_CONFIG = FIXTURE_CONFIG;
