// Priming: running commands through an SDK client's whole request path (serialisation, endpoint
// rules, retry strategy, SigV4 signing, deserialisation) with no network call, so that the code
// is compiled before the event that needs it fast. A function otherwise compiles that path during
// its first call: in bench/rollback.ts (2026-11-29), an on-alarm container that had only loaded its
// bundle took a median 42 ms from alarm to rollback call, one that had also primed 31.
//
// The stand-in client is configured like clientFor's (same retry mode and endpoint rules,
// AWS_ENDPOINT_URL included), but its HTTP handler answers every request itself with "{}" (a
// valid, empty answer in the JSON protocols) and it signs with placeholder credentials: nothing
// is looked up, sent or written. Commands run through `resolveMiddleware`, the handler `send`
// itself builds and calls, because tests fake `send` (aws-sdk-client-mock) and would count a
// primed command as an AWS call it never was.
import { clientConfig } from "./clients";

export interface Primed {
  primed: string[];
  /** "Operation: why". Priming is best effort: a failure only means the real call starts cold. */
  failed: string[];
}

interface Client {
  middlewareStack: unknown;
  config: unknown;
}

interface Command {
  resolveMiddleware(stack: unknown, config: unknown, options: undefined): (command: never) => Promise<unknown>;
}

const ANSWERS_ITSELF = {
  handle: async () => ({ response: { statusCode: 200, headers: {}, body: new TextEncoder().encode("{}") } }),
};

const PLACEHOLDER_CREDENTIALS = { accessKeyId: "PRIMING", secretAccessKey: "PRIMING" };

/** Runs each command (operation name → command) through a stand-in of `Client` for `region` (default: the function's). */
export async function prime(Client: new (config: object) => Client, commands: Record<string, Command>, region?: string): Promise<Primed> {
  const client = new Client({ ...clientConfig(region), requestHandler: ANSWERS_ITSELF, credentials: PLACEHOLDER_CREDENTIALS });
  const result: Primed = { primed: [], failed: [] };
  for (const [operation, command] of Object.entries(commands)) {
    try {
      await command.resolveMiddleware(client.middlewareStack, client.config, undefined)(command as never);
      result.primed.push(operation);
    } catch (error) {
      result.failed.push(`${operation}: ${(error as Error).message}`);
    }
  }
  return result;
}
