// AWS's quotas on what the stack deploys, and sizes measured the way AWS counts them, written
// apart from infra/ so that the tests check the stack's own arithmetic rather than repeat it.
// IAM: "IAM and AWS STS quotas" (non-whitespace characters of the resolved policy);
// EventBridge: "Amazon EventBridge quotas" (characters of the event pattern).
type Json = any; // CloudFormation template fragments

export const IAM_QUOTAS = { inlineChars: 10_240, managedChars: 6_144, managedPerRole: 10 } as const;
export const EVENT_PATTERN_CHARS = 2_048;

const ACCOUNT = "123456789012";

/** CloudFormation's resolution of the intrinsics the stack uses, with the longest values its own resources can take. */
export function resolved(value: Json, region: string, stage: string): Json {
  const stack = `stevedore-${stage}`;
  const partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
  const table = `arn:${partition}:dynamodb:${region}:${ACCOUNT}:table/${stack}-RecordsTable-ABCDEFGHIJKLM`;
  const known: Record<string, string> = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": partition,
    "AWS::Region": region,
    "RecordsTable.Arn": table,
    "RecordsTable.StreamArn": `${table}/stream/2026-12-05T17:48:59.123`,
    "DeadLetterQueue.Arn": `arn:${partition}:sqs:${region}:${ACCOUNT}:${stack}-DeadLetterQueue-ABCDEFGHIJKLM`,
  };
  const lookup = (name: string) => {
    if (!(name in known)) throw new Error(`no value to measure ${name} with`);
    return known[name]!;
  };
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    if (typeof v["Fn::Sub"] === "string")
      return v["Fn::Sub"].replace(/\$\{(!?)([^}]+)\}/g, (_: string, bang: string, name: string) => (bang ? `\${${name}}` : lookup(name)));
    if (Array.isArray(v["Fn::GetAtt"])) return lookup(v["Fn::GetAtt"].join("."));
    if (typeof v.Ref === "string") return lookup(v.Ref);
    return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, walk(inner)]));
  };
  return walk(value);
}

/** Characters IAM counts in a policy document: all but whitespace. */
export const iamChars = (document: Json): number => [...JSON.stringify(document)].filter((c) => !/\s/.test(c)).length;

export interface MeasuredRole {
  role: string;
  inline: number;
  managed: number[];
}

/** Every role of a template: its inline policies' aggregate and each attached managed policy. */
export function roleSizes(resources: Record<string, Json>, region: string, stage: string): MeasuredRole[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === "AWS::IAM::Role")
    .map(([role, r]) => ({
      role,
      inline: (r.Properties.Policies ?? []).reduce((sum: number, p: Json) => sum + iamChars(resolved(p.PolicyDocument, region, stage)), 0),
      managed: (r.Properties.ManagedPolicyArns ?? []).map((ref: Json) => iamChars(resolved(resources[ref.Ref].Properties.PolicyDocument, region, stage))),
    }));
}

/** Characters EventBridge counts in a pattern, once CloudFormation has put the account in. */
export const patternChars = (pattern: Json, region: string): number => JSON.stringify(resolved(pattern, region, "any")).length;
