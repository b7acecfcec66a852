// Structured JSON logs (Powertools Logger): one line per decision, with the ids that let a
// person follow one image through every function. Never log config values, variables or
// secrets: log names, ids and reasons.
import { Logger } from "@aws-lambda-powertools/logger";

export const logger = new Logger({ serviceName: "stevedore" });
