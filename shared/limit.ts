/**
 * How many services (or records) one invocation works on at once: enough to overlap the calls'
 * latency, few enough that a fan-out to 200 services does not spend the account's ECS and
 * DynamoDB request bursts in one go (their throttles are per account and Region, shared by
 * every invocation).
 */
export const CONCURRENCY = 8;

/** Maps with at most `limit` calls in flight: a fan-out to 200 services must not open 200 at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
