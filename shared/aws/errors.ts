// SDK errors → our error types, so no caller has to know SDK error names.
import { RetryableAwsError, StevedoreError, TerminalAwsError } from "../errors";

const RETRYABLE_CODES = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ProvisionedThroughputExceededException",
  "RequestThrottled",
  "RequestThrottledException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalServerError",
  "InternalFailure",
  "ServerException",
  "TransactionConflictException",
  "TransactionInProgressException",
  "TimeoutError",
  "RequestTimeout",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
]);

/**
 * Why DynamoDB cancels a transaction that may succeed when tried again: another transaction or
 * write holds one of its items (TransactionConflict), or capacity ran short for a moment.
 */
const RETRYABLE_CANCELLATIONS = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: { Code?: string }[];
}

/** Wraps anything an SDK call threw; our own errors pass through unchanged. */
export function toAwsError(operation: string, error: unknown): StevedoreError {
  if (error instanceof StevedoreError) return error;
  const e = (error ?? {}) as SdkErrorShape;
  const code = e.name && e.name !== "Error" ? e.name : (e.code ?? "UnknownError");
  const message = e.message ?? String(error);
  const status = e.$metadata?.httpStatusCode ?? 0;
  const retryable =
    RETRYABLE_CODES.has(code) ||
    (e.code !== undefined && RETRYABLE_CODES.has(e.code)) ||
    Boolean(e.$retryable) ||
    status >= 500 ||
    (code === "TransactionCanceledException" && (e.CancellationReasons ?? []).some((r) => RETRYABLE_CANCELLATIONS.has(r.Code ?? "")));
  return retryable ? new RetryableAwsError(operation, code, message, { cause: error }) : new TerminalAwsError(operation, code, message, { cause: error });
}

/** Sends one command and maps its failure. `operation` names it in errors and logs. */
export async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toAwsError(operation, error);
  }
}
