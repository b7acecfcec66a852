// CloudFormation values the stack writes, and what they become once CloudFormation resolves
// them: quotas apply to the resolved text (an account id is 12 digits, not `${AWS::AccountId}`),
// so every size is measured on a resolution with the longest values the stack can get.

export type Sub = { "Fn::Sub": string };
export type GetAtt = { "Fn::GetAtt": [string, string] };
export type Ref = { Ref: string };
export type Value = string | Sub | GetAtt | Ref;

/** A literal part of a Fn::Sub text: `${` in it would otherwise start a substitution. */
export const literal = (text: string): { literal: string } => ({ literal: text });

/** A Fn::Sub of template parts (`${AWS::AccountId}`, `${RecordsTable.Arn}`) and literal parts. */
export function sub(...parts: (string | { literal: string })[]): Sub {
  return { "Fn::Sub": parts.map((p) => (typeof p === "string" ? p : p.literal.replaceAll("${", "${!"))).join("") };
}

/**
 * An ARN in this stack's account, for a policy's Resource. The partition is `*`: a role is only
 * ever authorized in its own partition, so it grants nothing more, and IAM counts the resolved
 * text, where `aws` is two characters longer (about 1,300 characters of the fullest role at 200
 * services, the room a long stage name needs). Service, region, account and resource stay
 * written out.
 */
export const arn = (service: string, region: string, resource: string): Sub => sub(`arn:*:${service}:${region}:\${AWS::AccountId}:`, literal(resource));

export const getAtt = (logicalId: string, attribute: string): GetAtt => ({ "Fn::GetAtt": [logicalId, attribute] });

/** A stable text for a value: to sort, compare and deduplicate them. */
export const keyOf = (value: Value): string => (typeof value === "string" ? value : JSON.stringify(value));

export function uniqueValues<T extends Value>(values: T[]): T[] {
  return [...new Map(values.map((v) => [keyOf(v), v])).values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

export interface Resolution {
  region: string;
  /** Default: a 12-digit account, as long as any. */
  account?: string;
  /** `${LogicalId}` / `${LogicalId.Attribute}` → the longest value it can resolve to. */
  values: Record<string, string>;
}

/** The value as CloudFormation will resolve it: for measuring only, never written to the template. */
export function resolve(value: unknown, r: Resolution): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, r));
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  if (typeof object["Fn::Sub"] === "string") {
    return object["Fn::Sub"].replace(/\$\{(!?)([^}]+)\}/g, (_, escaped: string, name: string) => (escaped ? `\${${name}}` : pseudo(name, r)));
  }
  if (Array.isArray(object["Fn::GetAtt"])) return pseudo(object["Fn::GetAtt"].join("."), r);
  if (typeof object.Ref === "string") return pseudo(object.Ref, r);
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v, r)]));
}

function pseudo(name: string, r: Resolution): string {
  if (name === "AWS::AccountId") return r.account ?? "123456789012";
  if (name === "AWS::Partition") return partitionOf(r.region);
  if (name === "AWS::Region") return r.region;
  const found = r.values[name];
  if (found === undefined) throw new Error(`infra/template.ts: no measuring value for \${${name}}`);
  return found;
}
