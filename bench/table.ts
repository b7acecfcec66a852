// Plain-text tables for the benchmark's output: columns padded, a rule under the header.

export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = (cells[0] ?? []).map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? "")].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c + " ".repeat(Math.max(0, (widths[i] ?? 0) - [...c].length)))
      .join("  ")
      .trimEnd();
  const [header, ...body] = cells;
  return [line(header ?? []), widths.map((w) => "─".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export function verdict(ok: boolean): "PASS" | "MISS" {
  return ok ? "PASS" : "MISS";
}

/** "DescribeServices 3, Query 2". */
export function byName(counts: Record<string, number>): string {
  return (
    Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ") || "—"
  );
}

export function section(title: string): string {
  return `\n━━ ${title} ${"━".repeat(Math.max(3, 96 - title.length))}`;
}

/** Indented method notes under a table. */
export function notes(lines: string[]): string {
  return lines.map((l) => `  · ${l}`).join("\n");
}

export const ms = (n: number, digits = 1): string => (Number.isFinite(n) ? `${n.toFixed(digits)} ms` : "—");
