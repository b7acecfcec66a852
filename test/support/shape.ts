// A tree's shape without its values: what no substituted value may change.

/** Every node's path with what it is: containers with their keys or length, leaves as leaves. */
export function shapeOf(value: unknown, path = "$", out: string[] = []): string[] {
  if (Array.isArray(value)) {
    out.push(`${path} [${value.length}]`);
    value.forEach((item, i) => shapeOf(item, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === "object") {
    out.push(`${path} {${Object.keys(value).join(",")}}`);
    for (const [key, item] of Object.entries(value)) shapeOf(item, `${path}.${JSON.stringify(key)}`, out);
  } else {
    out.push(`${path} leaf`);
  }
  return out;
}
