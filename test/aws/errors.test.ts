// How SDK errors are classed: retryable ones make Lambda deliver the event again (and a claim
// is given back); terminal ones end a deployment as failed. Shapes as the SDK throws them.
import { toAwsError } from "../../shared/aws/errors";

const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} message`), { name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status }, ...extra });

const cancelled = (...codes: string[]) => sdkError("TransactionCanceledException", 400, { CancellationReasons: codes.map((Code) => ({ Code })) });

describe("toAwsError", () => {
  it.each([
    ["throttling", sdkError("ThrottlingException", 400), true],
    ["a 5xx", sdkError("InternalServerError", 500), true],
    ["a transaction cancelled because another transaction holds an item", cancelled("None", "TransactionConflict"), true],
    ["a transaction cancelled for capacity", cancelled("ThrottlingError", "None"), true],
    ["a transaction cancelled by a condition and a conflict", cancelled("ConditionalCheckFailed", "TransactionConflict"), true],
    ["a single write meeting an ongoing transaction", sdkError("TransactionConflictException", 400), true],
    ["an idempotent transaction still in progress", sdkError("TransactionInProgressException", 400), true],
    ["a transaction cancelled by a validation error", cancelled("ValidationError", "None"), false],
    ["a transaction cancelled by a condition alone", cancelled("ConditionalCheckFailed", "None"), false],
    ["a transaction cancelled without reasons", sdkError("TransactionCanceledException", 400), false],
    ["access denied", sdkError("AccessDeniedException", 400), false],
    ["a validation error", sdkError("ValidationException", 400), false],
  ])("%s → retryable %s", (_name, error, retryable) => {
    const mapped = toAwsError("TransactWriteItems", error);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.message).toContain(error.name);
  });
});
