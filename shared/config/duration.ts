// Durations as people write them in the config ("90s", "10m", "1h30m", "2d") and as messages
// show them.
import { DURATION } from "./schema";

const UNIT_SECONDS = { d: 86400, h: 3600, m: 60, s: 1 } as const;

/** Seconds in a duration that matched the schema's DURATION pattern. */
export function parseDuration(text: string): number {
  if (!DURATION.test(text)) throw new Error(`not a duration: ${text}`);
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([dhms])/g)) {
    seconds += Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  }
  return seconds;
}

/** 5400 → "1h30m"; 0 → "0s". */
export function formatConfigDuration(seconds: number): string {
  let rest = Math.max(0, Math.round(seconds));
  let out = "";
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const amount = Math.floor(rest / size);
    if (amount > 0) out += `${amount}${unit}`;
    rest -= amount * size;
  }
  return out || "0s";
}
