// One error family for the whole library. `retryable` tells a caller (and Lambda, through a
// thrown error) whether trying again can help: throttling and conflicts can, a validation
// error or a missing service cannot, and retrying those would only repeat the failure.

// Each class names itself in a string: the bundles are minified, which renames classes, so a
// name taken from the class (new.target.name) would log as a two-letter word in Lambda.
export abstract class StevedoreError extends Error {
  abstract readonly retryable: boolean;
}

/** The pipeline config or a template is wrong. Nothing is deployed until it is fixed. */
export class ConfigError extends StevedoreError {
  override readonly name = "ConfigError";
  readonly retryable = false;
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not a valid Stevedore config:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** A failed AWS call: the operation, AWS's error code and its message. */
abstract class AwsCallError extends StevedoreError {
  constructor(
    readonly operation: string,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} failed: ${code}: ${message}`, options);
  }
}

/** AWS said no for a reason that will not change on retry (validation, missing resource, access). */
export class TerminalAwsError extends AwsCallError {
  override readonly name = "TerminalAwsError";
  readonly retryable = false;
}

/** AWS throttled us, was briefly unavailable, or a write lost a race: trying later can succeed. */
export class RetryableAwsError extends AwsCallError {
  override readonly name = "RetryableAwsError";
  readonly retryable = true;
}
