import { formatConfigDuration, parseDuration } from "../../shared/config/duration";

describe("parseDuration", () => {
  it.each<[string, number]>([
    ["0s", 0],
    ["1s", 1],
    ["90s", 90],
    ["5m", 300],
    ["10m", 600],
    ["1h", 3600],
    ["1h30m", 5400],
    ["2d", 172800],
    ["1d2h3m4s", 93784],
    ["1d4s", 86404],
    ["24h", 86400],
    ["48h", 172800],
    ["0d0h0m0s", 0],
    ["007m", 420],
    ["1440m", 86400],
  ])("reads %s as %i seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([
    ["an empty string", ""],
    ["a bare number", "300"],
    ["zero without a unit", "0"],
    ["a unit without a number", "m"],
    ["units out of order", "30m1h"],
    ["a unit repeated", "1m1m"],
    ["a fraction", "1.5h"],
    ["a negative amount", "-5m"],
    ["a space between parts", "1h 30m"],
    ["a space before the unit", "5 m"],
    ["leading whitespace", " 5m"],
    ["trailing whitespace", "5m "],
    ["a trailing newline", "5m\n"],
    ["capital units", "5M"],
    ["weeks", "1w"],
    ["milliseconds", "500ms"],
    ["words", "5 minutes"],
    ["ISO 8601", "PT5M"],
  ])("rejects %s (%j), naming it", (_, text) => {
    expect(() => parseDuration(text)).toThrow(`not a duration: ${text}`);
  });
});

describe("formatConfigDuration", () => {
  it.each<[number, string]>([
    [0, "0s"],
    [1, "1s"],
    [59, "59s"],
    [60, "1m"],
    [90, "1m30s"],
    [3600, "1h"],
    [3601, "1h1s"],
    [5400, "1h30m"],
    [86400, "1d"],
    [93784, "1d2h3m4s"],
    [172800, "2d"],
    [59.4, "59s"],
    [59.6, "1m"],
    [-5, "0s"],
    [Number.NaN, "0s"],
  ])("writes %d seconds as %s", (seconds, text) => {
    expect(formatConfigDuration(seconds)).toBe(text);
  });

  it("is read back by parseDuration to the same whole number of seconds", () => {
    // Every second of the first two days, then a spread of larger values.
    const samples = [...Array.from({ length: 2 * 86400 + 1 }, (_, i) => i), 10 ** 6, 10 ** 7 + 13, 2 ** 31 - 1];
    const wrong = samples.filter((seconds) => parseDuration(formatConfigDuration(seconds)) !== seconds);
    expect(wrong).toEqual([]);
  });
});
