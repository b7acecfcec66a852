// The one place AWS clients are made: once per client class and region, at first use, so a
// cold start pays only for the clients its handler actually touches. Tests swap clients out
// with aws-sdk-client-mock, which patches the classes, so nothing here needs a test seam.
//
// AWS_ENDPOINT_URL (read by the SDK itself) is the only switch to the local sandbox.

type ClientConfig = {
  region?: string;
  maxAttempts?: number;
  retryMode?: string;
  requestHandler?: { connectionTimeout?: number; requestTimeout?: number };
};

const made = new Map<unknown, Map<string, unknown>>();

/**
 * The shared client of `Client` for `region` (default: the function's own region).
 * Retries use the SDK's adaptive mode: exponential backoff with jitter plus a client-side
 * rate limiter that slows down after throttling, which RegisterTaskDefinition (about one call
 * a second sustained) needs when one push fans out to many services.
 */
export function clientFor<C>(Client: new (config: ClientConfig) => C, region?: string): C {
  const byRegion = made.get(Client) ?? new Map<string, unknown>();
  made.set(Client, byRegion);
  const key = region ?? process.env.AWS_REGION ?? "";
  let client = byRegion.get(key) as C | undefined;
  if (!client) {
    client = new Client(clientConfig(region));
    byRegion.set(key, client);
  }
  return client;
}

/** How every client is configured; shared/aws/prime.ts builds its stand-ins the same way. */
export function clientConfig(region?: string): ClientConfig {
  return {
    ...(region ? { region } : {}),
    maxAttempts: 8,
    retryMode: "adaptive",
    // Without a timeout a hung connection would hold the invocation until Lambda kills it.
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10000 },
  };
}
